// Package journaltest is the one conformance suite both journal stores run: the memory ring
// (journal.Memory) and the database's (mockserver/postgres).
package journaltest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/journal"
)

// Factory returns a fresh, empty journal store for t and how to forget a tenant on it as the mock
// does (a reset): on a store of the process's own its Forget, on a database the tenant's deletion
// from it too.
type Factory func(t *testing.T) (s journal.Store, forget func(tenant string))

// Run runs every case on stores newStore makes, in parallel.
func Run(t *testing.T, newStore Factory) {
	cases := map[string]func(*testing.T, Factory){
		"round trip":         testRoundTrip,
		"filters":            testFilters,
		"tenants apart":      testTenantsApart,
		"concurrent records": testConcurrent,
		"forget":             testForget,
	}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			run(t, newStore)
		})
	}
}

// at is when the suite's calls are received.
var at = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// call is the entry of a POST to path with body, as the mock builds it.
func call(path, body string) journal.Entry {
	r := httptest.NewRequest(http.MethodPost, path+"?x=1", strings.NewReader(body))
	r.Header.Set("Authorization", "Basic klarna_test_api_secret")
	r.Header.Set("Klarna-Idempotency-Key", "key-1")
	return journal.NewEntry(at, r, []byte(body), http.StatusOK, "", "", []byte(`{"ok":true}`))
}

func list(t *testing.T, s journal.Store, tenant string, f journal.Filter) []journal.Entry {
	t.Helper()
	entries, err := s.List(t.Context(), tenant, f)
	require.NoError(t, err)
	return entries
}

func paths(entries []journal.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Path
	}
	return out
}

// testRoundTrip checks an entry is listed as recorded, on the wire as JSON, every field kept but
// the Authorization header, a cut body and answer with their flags, and an invalid UTF-8 path.
func testRoundTrip(t *testing.T, newStore Factory) {
	s, _ := newStore(t)
	e := call("/v2/accounts/a/payment/authorize", `{"currency":"EUR"}`)
	e.Rule, e.Fault = "approve-all", "fault-1"
	e.Warnings = []journal.Warning{{Parameter: "extra", Message: "not in the contract"}}
	long := journal.NewEntry(at, httptest.NewRequest(http.MethodPost, "/v2/accounts/a/\xff%00", nil),
		[]byte(strings.Repeat("é", journal.MaxBody)), http.StatusNotFound, "", "", []byte(strings.Repeat("a", journal.MaxAnswer+1)))
	require.True(t, long.BodyTruncated)
	require.True(t, long.AnswerTruncated)
	s.Record(t.Context(), "t1", "t1/a", e)
	s.Record(t.Context(), "t1", "t1/a", long)

	got := list(t, s, "t1", journal.Filter{})
	require.Len(t, got, 2)
	require.NotContains(t, got[0].Headers, "Authorization")
	require.Equal(t, "key-1", got[0].Headers["Klarna-Idempotency-Key"])
	require.Less(t, got[0].Seq, got[1].Seq)
	for i, want := range []journal.Entry{e, long} {
		want.Seq = got[i].Seq
		wantJSON, err := json.Marshal(want)
		require.NoError(t, err)
		gotJSON, err := json.Marshal(got[i])
		require.NoError(t, err)
		require.JSONEq(t, string(wantJSON), string(gotJSON))
	}
}

// testFilters checks since, path_contains, limit and scope, alone and together.
func testFilters(t *testing.T, newStore Factory) {
	s, _ := newStore(t)
	for i, p := range []string{"/a/authorize", "/a/requests", "/b/authorize", "/a/authorize"} {
		scope := "t1/" + p[1:2]
		s.Record(t.Context(), "t1", scope, call(p, fmt.Sprint(i)))
	}
	all := list(t, s, "t1", journal.Filter{})
	require.Equal(t, []string{"/a/authorize", "/a/requests", "/b/authorize", "/a/authorize"}, paths(all))
	require.Equal(t, []string{"/b/authorize", "/a/authorize"}, paths(list(t, s, "t1", journal.Filter{Since: all[1].Seq})))
	require.Equal(t, []string{"/a/authorize", "/b/authorize", "/a/authorize"}, paths(list(t, s, "t1", journal.Filter{PathContains: "authorize"})))
	require.Equal(t, []string{"/b/authorize", "/a/authorize"}, paths(list(t, s, "t1", journal.Filter{Limit: 2})))
	require.Equal(t, []string{"/a/authorize", "/a/requests", "/a/authorize"}, paths(list(t, s, "t1", journal.Filter{Scope: "t1/a"})))
	got := list(t, s, "t1", journal.Filter{Scope: "t1/a", Since: all[0].Seq, PathContains: "authorize", Limit: 1})
	require.Len(t, got, 1)
	require.Equal(t, all[3].Seq, got[0].Seq)
	require.Empty(t, list(t, s, "t1", journal.Filter{Since: all[3].Seq}))
	require.Empty(t, list(t, s, "t1", journal.Filter{Scope: "t1/c"}))
}

// testTenantsApart checks a tenant lists only its own entries, a tenant without any none.
func testTenantsApart(t *testing.T, newStore Factory) {
	s, _ := newStore(t)
	s.Record(t.Context(), "t1", "t1/a", call("/one", ""))
	s.Record(t.Context(), "t2", "t2/a", call("/two", ""))
	require.Equal(t, []string{"/one"}, paths(list(t, s, "t1", journal.Filter{})))
	require.Equal(t, []string{"/two"}, paths(list(t, s, "t2", journal.Filter{})))
	require.Empty(t, list(t, s, "t3", journal.Filter{}))
}

// testConcurrent records more than journal.PerTenant entries of a tenant from several goroutines
// at once: each is listed as soon as its Record returned, the tenant's seqs increase in the
// order listed, and the tenant lists its newest journal.PerTenant at most.
func testConcurrent(t *testing.T, newStore Factory) {
	s, _ := newStore(t)
	const workers, each = 8, journal.PerTenant/8 + 20
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				path := fmt.Sprintf("/w%d/%d", w, i)
				s.Record(t.Context(), "busy", "busy/a", call(path, "{}"))
				got, err := s.List(t.Context(), "busy", journal.Filter{PathContains: path})
				if err == nil && len(got) != 1 {
					err = fmt.Errorf("%s: listed %d entries right after its Record returned", path, len(got))
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	all := list(t, s, "busy", journal.Filter{})
	require.Len(t, all, journal.PerTenant)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].Seq, all[i].Seq)
	}
	last := map[string]int{}
	for _, e := range all {
		var w, i int
		_, err := fmt.Sscanf(e.Path, "/w%d/%d", &w, &i)
		require.NoError(t, err)
		prev, seen := last[fmt.Sprint(w)]
		require.True(t, !seen || prev < i, "a worker's entries are in the order it recorded them")
		last[fmt.Sprint(w)] = i
	}
}

// testForget checks forgetting a tenant removes its entries and leaves another's.
func testForget(t *testing.T, newStore Factory) {
	s, forget := newStore(t)
	s.Record(t.Context(), "gone", "gone/a", call("/one", ""))
	s.Record(t.Context(), "kept", "kept/a", call("/two", ""))
	forget("gone")
	require.Empty(t, list(t, s, "gone", journal.Filter{}))
	require.Len(t, list(t, s, "kept", journal.Filter{}), 1)
	s.Record(t.Context(), "gone", "gone/a", call("/three", ""))
	require.Equal(t, []string{"/three"}, paths(list(t, s, "gone", journal.Filter{})))
}
