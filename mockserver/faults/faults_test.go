package faults_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// noFacts is the facts of a call that is not an authorize.
func noFacts() *rules.Facts { return nil }

func add(t *testing.T, r *faults.Registry, tenant string, def faults.Definition) faults.View {
	t.Helper()
	v, err := r.Add(tenant, def, now)
	require.NoError(t, err)
	return v
}

func TestAddAppliesDefaults(t *testing.T) {
	t.Parallel()
	r := faults.NewRegistry(0)
	e := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error})
	require.Regexp(t, `^krn:mock:fault:[0-9a-f-]{36}$`, e.ID)
	require.Equal(t, http.StatusServiceUnavailable, e.Status)
	require.Zero(t, e.Fired)
	require.Nil(t, e.Remaining, "no count, no remaining")
	require.Equal(t, now, e.CreatedAt)

	h := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Hang, Count: 2})
	require.Equal(t, faults.DefaultHangMS, h.LatencyMS)
	require.Equal(t, ptr(int64(2)), h.Remaining)

	p := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Drop, Probability: 0.5})
	require.NotNil(t, p.Seed, "the mock picks a seed and reports it, so the run can be replayed")

	require.Equal(t, []string{e.ID, h.ID, p.ID}, ids(r.List("a")), "oldest first")
}

func ids(vs []faults.View) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func TestAddRefusesBadDefinitions(t *testing.T) {
	t.Parallel()
	authorize := []faults.Operation{faults.Authorize}
	for _, tc := range []struct {
		name   string
		def    faults.Definition
		params []string
	}{
		{"no operation", faults.Definition{Effect: faults.Error}, []string{"operations"}},
		{"unknown operation", faults.Definition{Operations: []faults.Operation{"authorise"}, Effect: faults.Error}, []string{"operations[0]"}},
		{"unknown effect", faults.Definition{Operations: authorize, Effect: "explode"}, []string{"effect"}},
		{"status not allowed", faults.Definition{Operations: authorize, Effect: faults.Error, Status: 418}, []string{"status"}},
		{"status without error", faults.Definition{Operations: authorize, Effect: faults.Drop, Status: 503}, []string{"status"}},
		{"retry_after with 500", faults.Definition{Operations: authorize, Effect: faults.Error, Status: 500, RetryAfter: ptr(2)}, []string{"retry_after"}},
		{"retry_after out of bounds", faults.Definition{Operations: authorize, Effect: faults.Error, Status: 429, RetryAfter: ptr(-1)}, []string{"retry_after"}},
		{"probability zero", faults.Definition{Operations: authorize, Effect: faults.Error, Probability: -0.1}, []string{"probability"}},
		{"probability above one", faults.Definition{Operations: authorize, Effect: faults.Error, Probability: 1.5}, []string{"probability"}},
		{"count and probability", faults.Definition{Operations: authorize, Effect: faults.Error, Count: 1, Probability: 0.5}, []string{"probability"}},
		{"count out of bounds", faults.Definition{Operations: authorize, Effect: faults.Error, Count: -3}, []string{"count"}},
		{"seed without probability", faults.Definition{Operations: authorize, Effect: faults.Error, Seed: ptr(int64(1))}, []string{"seed"}},
		{"latency missing", faults.Definition{Operations: authorize, Effect: faults.Latency}, []string{"latency_ms"}},
		{"latency out of bounds", faults.Definition{Operations: authorize, Effect: faults.Hang, LatencyMS: faults.MaxLatencyMS + 1}, []string{"latency_ms"}},
		{"latency on an error", faults.Definition{Operations: authorize, Effect: faults.Error, LatencyMS: 5}, []string{"latency_ms"}},
		{"unknown when key", faults.Definition{Operations: authorize, Effect: faults.Error, When: json.RawMessage(`{"emial": "a@b.c"}`)}, []string{"when"}},
		{"bad when value", faults.Definition{Operations: authorize, Effect: faults.Error, When: json.RawMessage(`{"currency": "EURO"}`)}, []string{"when.currency"}},
		{"when not a mapping", faults.Definition{Operations: authorize, Effect: faults.Error, When: json.RawMessage(`["email"]`)}, []string{"when"}},
		{"every problem at once", faults.Definition{Operations: []faults.Operation{"x"}, Effect: faults.Error, Status: 200, Count: 1, Probability: 1},
			[]string{"operations[0]", "status", "probability"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := faults.NewRegistry(0)
			_, err := r.Add("a", tc.def, now)
			var ke *mockserver.Error
			require.True(t, errors.As(err, &ke), "%v", err)
			require.Equal(t, http.StatusBadRequest, ke.Status)
			require.Equal(t, mockserver.CodeValidation, ke.ErrorCode)
			var params []string
			for _, f := range ke.Errors {
				params = append(params, f.Parameter)
				require.NotEmpty(t, f.ErrorMessage)
			}
			require.Equal(t, tc.params, params, "%v", ke.Errors)
			require.Empty(t, r.List("a"), "a refused fault is not kept")
		})
	}
}

func TestWhenMessagesComeFromTheRulesLoader(t *testing.T) {
	t.Parallel()
	_, err := faults.NewRegistry(0).Add("a", faults.Definition{
		Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error,
		When: json.RawMessage(`{"emial": "a@b.c"}`),
	}, now)
	var ke *mockserver.Error
	require.True(t, errors.As(err, &ke))
	require.Contains(t, ke.Errors[0].ErrorMessage, `unknown key "emial" (did you mean "email"?)`)
	require.NotContains(t, ke.Errors[0].ErrorMessage, "rule", "the rule the conditions are wrapped in is not the client's")
}

func TestErrorFaultsAreKlarnaShaped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status        int
		code, errType string
	}{
		{429, mockserver.CodeRateLimited, mockserver.AccessError},
		{500, mockserver.CodeInternal, mockserver.TechnicalError},
		{502, "BAD_GATEWAY", mockserver.TechnicalError},
		{503, mockserver.CodeServiceUnavailable, mockserver.TechnicalError},
		{504, "GATEWAY_TIMEOUT", mockserver.TechnicalError},
	} {
		r := faults.NewRegistry(0)
		add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error, Status: tc.status})
		f := r.Fire("a", faults.Authorize, noFacts)
		require.NotNil(t, f)
		e := f.Err()
		require.Equal(t, tc.status, e.Status)
		require.Equal(t, tc.code, e.ErrorCode)
		require.Equal(t, tc.errType, e.ErrorType)
		require.Contains(t, e.ErrorMessage, f.ID())
		_, ok := f.RetryAfter()
		require.False(t, ok)
	}
	r := faults.NewRegistry(0)
	add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error, Status: 429, RetryAfter: ptr(2)})
	ra, ok := r.Fire("a", faults.Authorize, noFacts).RetryAfter()
	require.True(t, ok)
	require.Equal(t, "2", ra)
}

func TestFireMatchesOperations(t *testing.T) {
	t.Parallel()
	r := faults.NewRegistry(0)
	tx := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Transaction, faults.Tokens}, Effect: faults.Drop})
	require.Nil(t, r.Fire("a", faults.Authorize, noFacts))
	require.Equal(t, tx.ID, r.Fire("a", faults.Transaction, noFacts).ID())
	require.Equal(t, tx.ID, r.Fire("a", faults.Tokens, noFacts).ID())
	all := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	require.Equal(t, all.ID, r.Fire("a", faults.Notifications, noFacts).ID(), "all names every operation")
	require.Equal(t, tx.ID, r.Fire("a", faults.Transaction, noFacts).ID(), "the oldest matching fault hits")
	require.Equal(t, int64(3), r.List("a")[0].Fired)
}

func TestFireJudgesWhenOnAuthorizeFacts(t *testing.T) {
	t.Parallel()
	r := faults.NewRegistry(0)
	asked := 0
	facts := func(f *rules.Facts) func() *rules.Facts {
		return func() *rules.Facts { asked++; return f }
	}
	require.Nil(t, r.Fire("a", faults.Authorize, facts(nil)))
	plain := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Transaction}, Effect: faults.Error})
	require.Equal(t, plain.ID, r.Fire("a", faults.Transaction, facts(nil)).ID())
	require.Zero(t, asked, "no fault with conditions, no facts gathered")

	when := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Authorize, faults.Transaction}, Effect: faults.Error,
		When: json.RawMessage(`{"email": "chaos@example.com", "amount": {"min": 1000}}`)})
	add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Latency, LatencyMS: 1,
		When: json.RawMessage(`{"currency": "SEK"}`)})
	hit := &rules.Facts{Kind: rules.KindOneTime, Emails: []string{"Chaos@Example.com"}, Amount: 5000, HasAmount: true, Currency: "EUR"}
	require.Equal(t, when.ID, r.Fire("a", faults.Authorize, facts(hit)).ID())
	miss := &rules.Facts{Kind: rules.KindOneTime, Emails: []string{"calm@example.com"}, Amount: 5000, HasAmount: true, Currency: "EUR"}
	asked = 0
	require.Nil(t, r.Fire("a", faults.Authorize, facts(miss)))
	require.Equal(t, 1, asked, "facts are gathered once for every fault of the call")
	final := &rules.Facts{Kind: rules.KindFinal, Emails: []string{"chaos@example.com"}, Amount: 5000, HasAmount: true}
	require.Nil(t, r.Fire("a", faults.Authorize, facts(final)), "as in fixtures, a rule without kind does not judge a final authorize")
	require.Equal(t, plain.ID, r.Fire("a", faults.Transaction, facts(nil)).ID(), "a call without facts never matches conditions")
}

func TestCountFiresExactlyUnderConcurrency(t *testing.T) {
	t.Parallel()
	const count, callers, calls = 37, 16, 20
	r := faults.NewRegistry(0)
	add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error, Count: count})
	var fired atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				if r.Fire("a", faults.Authorize, noFacts) != nil {
					fired.Add(1)
				}
			}
		})
	}
	wg.Wait()
	require.Equal(t, int64(count), fired.Load())
	require.Empty(t, r.List("a"), "a spent fault retires")
	require.Nil(t, r.Fire("a", faults.Authorize, noFacts))
}

func TestSeedReplaysTheSameSequence(t *testing.T) {
	t.Parallel()
	run := func(seed int64) []bool {
		r := faults.NewRegistry(0)
		add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error, Probability: 0.3, Seed: &seed})
		out := make([]bool, 200)
		for i := range out {
			out[i] = r.Fire("a", faults.Authorize, noFacts) != nil
		}
		return out
	}
	first := run(42)
	require.Equal(t, first, run(42), "same seed, same calls, same faults")
	require.NotEqual(t, first, run(43))
	hits := 0
	for _, h := range first {
		if h {
			hits++
		}
	}
	require.InDelta(t, 60, hits, 25, "about probability × calls")

	r := faults.NewRegistry(0)
	add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error, Probability: 1})
	for range 10 {
		require.NotNil(t, r.Fire("a", faults.Authorize, noFacts), "probability 1 always fires")
	}
}

func TestTenantsAreApart(t *testing.T) {
	t.Parallel()
	r := faults.NewRegistry(0)
	v := add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	require.Nil(t, r.Fire("b", faults.Authorize, noFacts))
	require.Empty(t, r.List("b"))
	var ke *mockserver.Error
	require.True(t, errors.As(r.Delete("b", v.ID), &ke))
	require.Equal(t, http.StatusNotFound, ke.Status)
	require.NotNil(t, r.Fire("a", faults.Authorize, noFacts), "b's delete did not touch a's fault")

	require.NoError(t, r.Delete("a", v.ID))
	require.ErrorAs(t, r.Delete("a", v.ID), &ke, "deleted twice")
	require.Nil(t, r.Fire("a", faults.Authorize, noFacts))
}

func TestForgetTenant(t *testing.T) {
	t.Parallel()
	r := faults.NewRegistry(0)
	add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	add(t, r, "a", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Drop})
	add(t, r, "b", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	r.ForgetTenant("a")
	require.Empty(t, r.List("a"))
	require.Nil(t, r.Fire("a", faults.Authorize, noFacts))
	require.Len(t, r.List("b"), 1)
}

func TestTenantLimit(t *testing.T) {
	t.Parallel()
	r := faults.NewRegistry(2)
	def := faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error, Count: 1}
	add(t, r, "a", def)
	add(t, r, "a", def)
	_, err := r.Add("a", def, now)
	var ke *mockserver.Error
	require.True(t, errors.As(err, &ke))
	require.Equal(t, http.StatusForbidden, ke.Status)
	add(t, r, "b", def) // another tenant has a limit of its own
	require.NotNil(t, r.Fire("a", faults.Authorize, noFacts))
	add(t, r, "a", def) // a retired fault makes room
}

// TestFireWithoutFaultsIsFree checks the request path of a mock whose tenants hold no faults, or
// whose other tenants do.
func TestFireWithoutFaultsIsFree(t *testing.T) {
	r := faults.NewRegistry(0)
	require.Zero(t, testing.AllocsPerRun(100, func() { r.Fire("a", faults.Authorize, noFacts) }))
	add(t, r, "b", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	require.Zero(t, testing.AllocsPerRun(100, func() { r.Fire("a", faults.Authorize, noFacts) }))
}

// sharedBacking is a faults.Backing in memory that several registries share, as mocks share a
// database; fail makes every call fail, as a database that went away.
type sharedBacking struct {
	mu       sync.Mutex
	version  int64
	tenants  map[string][]faults.View
	versions map[string]int64
	fail     error
}

func newSharedBacking() *sharedBacking {
	return &sharedBacking{tenants: map[string][]faults.View{}, versions: map[string]int64{}}
}

// changedLocked moves the tenant's version on; b.mu is held.
func (b *sharedBacking) changedLocked(tenant string) {
	b.version++
	b.versions[tenant] = b.version
}

func (b *sharedBacking) Save(tenant string, v faults.View, limit int) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil || len(b.tenants[tenant]) >= limit {
		return false, b.fail
	}
	b.tenants[tenant] = append(b.tenants[tenant], v)
	b.changedLocked(tenant)
	return true, nil
}

func (b *sharedBacking) Delete(tenant, id string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.tenants[tenant], func(v faults.View) bool { return v.ID == id })
	if b.fail != nil || i < 0 {
		return false, b.fail
	}
	b.tenants[tenant] = slices.Delete(b.tenants[tenant], i, i+1)
	b.changedLocked(tenant)
	return true, nil
}

func (b *sharedBacking) Clear(tenant string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tenants, tenant)
	b.changedLocked(tenant)
	return b.fail
}

func (b *sharedBacking) Claim(tenant, id string) (int64, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := slices.IndexFunc(b.tenants[tenant], func(v faults.View) bool { return v.ID == id })
	if b.fail != nil || i < 0 {
		return 0, false, b.fail
	}
	v := &b.tenants[tenant][i]
	v.Fired++
	fired := v.Fired
	if v.Count > 0 && fired >= int64(v.Count) {
		b.tenants[tenant] = slices.Delete(b.tenants[tenant], i, i+1)
	}
	b.changedLocked(tenant)
	return fired, true, nil
}

func (b *sharedBacking) Load(tenant string) ([]faults.View, int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.tenants[tenant]), b.versions[tenant], b.fail
}

func (b *sharedBacking) Versions() (map[string]int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.versions), b.fail
}

// forget removes the tenant from the backing, as a reset on another mock does.
func (b *sharedBacking) forget(tenant string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.tenants, tenant)
	delete(b.versions, tenant)
}

// TestSharedRegistries runs two registries on one backing, as two mocks on one database: a fault
// added on one hits the other's calls once it synced, a count is shared, a removal on one stops
// the fault on the other at its next call, a probability keeps its draws across syncs, and a
// tenant the backing forgot is forgotten on sync.
func TestSharedRegistries(t *testing.T) {
	t.Parallel()
	backing := newSharedBacking()
	a, b := faults.NewSharedRegistry(0, backing, nil), faults.NewSharedRegistry(0, backing, nil)
	counted := add(t, a, "t", faults.Definition{Operations: []faults.Operation{faults.Authorize}, Effect: faults.Error, Count: 3})
	require.Nil(t, b.Fire("t", faults.Authorize, noFacts), "B has not synced yet")
	require.NoError(t, b.Sync())
	require.Equal(t, counted.ID, b.Fire("t", faults.Authorize, noFacts).ID())
	require.Equal(t, counted.ID, a.Fire("t", faults.Authorize, noFacts).ID())
	require.NoError(t, a.Sync())
	require.Equal(t, ptr(int64(1)), a.List("t")[0].Remaining, "A took up B's firing")
	require.Equal(t, counted.ID, b.Fire("t", faults.Authorize, noFacts).ID())
	require.Nil(t, a.Fire("t", faults.Authorize, noFacts), "the count is spent on B: A's claim is refused")
	require.Empty(t, a.List("t"), "and the fault retired on A")
	require.NoError(t, b.Sync())
	require.Empty(t, b.List("t"))

	always := add(t, b, "t", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Drop})
	require.NoError(t, a.Sync())
	require.NotNil(t, a.Fire("t", faults.Tokens, noFacts))
	require.NoError(t, b.Delete("t", always.ID))
	require.Nil(t, a.Fire("t", faults.Tokens, noFacts), "B's removal stops the fault on A at once")
	var ke *mockserver.Error
	require.ErrorAs(t, a.Delete("t", always.ID), &ke)
	require.Equal(t, http.StatusNotFound, ke.Status)

	seed := int64(42)
	sequence := func(r *faults.Registry, n int) []bool {
		out := make([]bool, n)
		for i := range out {
			out[i] = r.Fire("t", faults.Presentation, noFacts) != nil
		}
		return out
	}
	def := faults.Definition{Operations: []faults.Operation{faults.Presentation}, Effect: faults.Error, Probability: 0.5, Seed: &seed}
	alone := faults.NewRegistry(0)
	add(t, alone, "t", def)
	want := sequence(alone, 40)
	add(t, a, "t", def)
	got := sequence(a, 20)
	require.NoError(t, a.Sync(), "taking up the fault's own firings keeps its generator")
	require.Equal(t, want, append(got, sequence(a, 20)...), "a seed replays on one mock as on a mock of its own")

	backing.forget("t")
	require.NoError(t, a.Sync())
	require.Empty(t, a.List("t"), "a tenant reset elsewhere is forgotten")
	require.Nil(t, a.Fire("t", faults.Presentation, noFacts))
}

// TestSharedRegistryWithoutItsBacking checks that a backing that fails fails the changes, and
// that a call whose claim fails is served without a fault rather than failing.
func TestSharedRegistryWithoutItsBacking(t *testing.T) {
	t.Parallel()
	backing := newSharedBacking()
	r := faults.NewSharedRegistry(2, backing, nil)
	add(t, r, "t", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	add(t, r, "t", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error})
	_, err := r.Add("t", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error}, now)
	var ke *mockserver.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, http.StatusForbidden, ke.Status, "the backing's count is limited")

	gone := errors.New("database gone")
	backing.fail = gone
	_, err = r.Add("u", faults.Definition{Operations: []faults.Operation{faults.All}, Effect: faults.Error}, now)
	require.ErrorIs(t, err, gone)
	require.Empty(t, r.List("u"), "a fault the backing did not save is not kept")
	require.Nil(t, r.Fire("t", faults.Authorize, noFacts))
	require.ErrorIs(t, r.Clear("t"), gone)
	require.ErrorIs(t, r.Refresh("t"), gone)
	require.ErrorIs(t, r.Sync(), gone)
	require.Len(t, r.List("t"), 2, "nothing changed")
}
