package faults_test

import (
	"encoding/json"
	"errors"
	"net/http"
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
