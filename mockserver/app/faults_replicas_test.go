package app_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// presentationPath is the call the faults of these tests hit: a read that stores nothing.
const presentationPath = "/v2/accounts/" + account + "/payment/presentation?currency=USD&locale=en-US&amount=11800"

// faultedPresentation makes the call and returns its status and the fault that changed it, if
// one did.
func (tn tenant) faultedPresentation() (int, string) {
	rec := tn.send(http.MethodGet, presentationPath, nil)
	return rec.Code, rec.Header().Get(mockhttp.HeaderFault)
}

// addFault adds a fault of the presentation and returns its id.
func (tn tenant) addFault(def map[string]any) string {
	tn.t.Helper()
	def["operations"], def["effect"] = []string{"presentation"}, "error"
	a := tn.do(http.MethodPost, "/mock/v1/faults", def)
	require.Equal(tn.t, http.StatusCreated, a.status, string(a.raw))
	return a.str("fault_id")
}

// listedFaults lists the tenant's faults as GET /mock/v1/faults answers them.
func (tn tenant) listedFaults() []map[string]any {
	tn.t.Helper()
	var out []map[string]any
	for _, f := range tn.ok(http.MethodGet, "/mock/v1/faults", nil).json["faults"].([]any) {
		out = append(out, f.(map[string]any))
	}
	return out
}

// faultReplicas starts two mocks on one database and returns the tenant of key on each.
func faultReplicas(t *testing.T, key string) (db string, ma, mb *app.Mock, a, b tenant) {
	t.Helper()
	db = storetest.Database(t)
	ma, _ = openMock(t, db)
	mb, _ = openMock(t, db)
	return db, ma, mb, tenantOf(t, ma, key), tenantOf(t, mb, key)
}

// TestReplicasShareFaults adds a fault on one of two mocks on a database: it hits the other's
// calls within app.SyncInterval, without anything asked of that one first; both list the calls it
// hit on either; a removal on the other stops it on the first at its next call.
func TestReplicasShareFaults(t *testing.T) {
	t.Parallel()
	_, _, _, a, b := faultReplicas(t, "shared_faults")
	id := a.addFault(map[string]any{"status": 503})
	require.Eventually(t, func() bool {
		status, fault := b.faultedPresentation()
		return status == http.StatusServiceUnavailable && fault == id
	}, replicaWait, 10*time.Millisecond, "B fires A's fault")
	for range 3 {
		status, fault := a.faultedPresentation()
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, id, fault)
	}
	listedA, listedB := a.listedFaults(), b.listedFaults()
	require.Len(t, listedA, 1)
	require.Equal(t, listedA, listedB, "both list the same fault, with the same calls hit")
	require.EqualValues(t, 4, listedA[0]["fired"], "B's call and A's three")

	require.Equal(t, http.StatusNoContent, b.do(http.MethodDelete, "/mock/v1/faults/"+id, nil).status)
	status, fault := a.faultedPresentation()
	require.Equal(t, http.StatusOK, status, "B's removal holds on A at once")
	require.Empty(t, fault)
	require.Equal(t, http.StatusNotFound, a.do(http.MethodDelete, "/mock/v1/faults/"+id, nil).status, "gone on A too")
	require.Empty(t, a.listedFaults())
}

// TestReplicasShareAFaultsCount sends 40 calls at once, half to each of two mocks on a database
// holding a fault with a count of 5: exactly 5 are faulted, and the fault retires on both.
func TestReplicasShareAFaultsCount(t *testing.T) {
	t.Parallel()
	_, _, _, a, b := faultReplicas(t, "counted_faults")
	const count, calls = 5, 40
	id := a.addFault(map[string]any{"count": count})
	require.Len(t, b.listedFaults(), 1, "B reads A's fault from the database")

	var faulted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range calls {
		tn := a
		if i%2 == 1 {
			tn = b
		}
		wg.Go(func() {
			<-start
			switch status, fault := tn.faultedPresentation(); {
			case fault == id && status == http.StatusServiceUnavailable:
				faulted.Add(1)
			case status != http.StatusOK:
				t.Errorf("call %d: status %d, fault %q", i, status, fault)
			}
		})
	}
	close(start)
	wg.Wait()
	require.EqualValues(t, count, faulted.Load())
	require.Empty(t, a.listedFaults(), "spent: retired on A")
	require.Empty(t, b.listedFaults(), "and on B")
}

// TestRestartKeepsFaults fires a fault with a count once, restarts the mock on the same database,
// and finds the fault with the count it has left, which it then fires.
func TestRestartKeepsFaults(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	first, closeFirst := openMock(t, db)
	before := tenantOf(t, first, "restart_faults")
	id := before.addFault(map[string]any{"count": 3, "status": 500})
	status, _ := before.faultedPresentation()
	require.Equal(t, http.StatusInternalServerError, status)
	closeFirst()

	second, _ := openMock(t, db)
	after := tenantOf(t, second, "restart_faults")
	listed := after.listedFaults()
	require.Len(t, listed, 1)
	require.Equal(t, id, listed[0]["fault_id"])
	require.EqualValues(t, 1, listed[0]["fired"])
	require.EqualValues(t, 2, listed[0]["remaining"])
	for range 2 {
		status, fault := after.faultedPresentation()
		require.Equal(t, http.StatusInternalServerError, status)
		require.Equal(t, id, fault)
	}
	status, _ = after.faultedPresentation()
	require.Equal(t, http.StatusOK, status, "the count is spent")
}

// TestResetRemovesFaultsFromTheDatabase checks that a reset, and DELETE /mock/v1/faults, on one of
// two mocks remove the tenant's faults from the database, and that the other forgets them within
// app.SyncInterval.
func TestResetRemovesFaultsFromTheDatabase(t *testing.T) {
	t.Parallel()
	db, _, mb, a, b := faultReplicas(t, "reset_faults")
	var none *mockhttp.Accounts
	tenantID, err := none.Resolve("Basic "+b.key, "")
	require.NoError(t, err)
	store, err := postgres.Open(t.Context(), postgres.Config{URL: db})
	require.NoError(t, err)
	t.Cleanup(store.Close)
	saved := func() int {
		held, _, err := store.Faults().Load(tenantID)
		require.NoError(t, err)
		return len(held)
	}

	a.addFault(map[string]any{})
	require.Len(t, b.listedFaults(), 1)
	require.Equal(t, 1, saved())
	a.ok(http.MethodPost, "/mock/v1/reset", nil)
	require.Zero(t, saved(), "the reset removed it from the database")
	require.Eventually(t, func() bool { return len(mb.Faults.List(tenantID)) == 0 }, replicaWait, 10*time.Millisecond,
		"B forgets the faults of the tenant A reset")
	status, _ := b.faultedPresentation()
	require.Equal(t, http.StatusOK, status)

	b.addFault(map[string]any{})
	b.addFault(map[string]any{"count": 2})
	require.Len(t, a.listedFaults(), 2)
	require.Equal(t, http.StatusNoContent, a.do(http.MethodDelete, "/mock/v1/faults", nil).status)
	require.Zero(t, saved())
	require.Eventually(t, func() bool { return len(mb.Faults.List(tenantID)) == 0 }, replicaWait, 10*time.Millisecond,
		"B takes up A's clearing")
}

// TestStateImportSharesFaults imports a state document carrying a fault into one of two mocks on
// a database: the fault is saved, with the count it had left, and fires on the other mock.
func TestStateImportSharesFaults(t *testing.T) {
	t.Parallel()
	_, _, _, a, b := faultReplicas(t, "imported_faults")
	a.addFault(map[string]any{"count": 3, "status": 502})
	status, _ := a.faultedPresentation()
	require.Equal(t, http.StatusBadGateway, status)
	exported := a.ok(http.MethodGet, "/mock/v1/state", nil)
	a.ok(http.MethodPost, "/mock/v1/reset", nil)

	imported := b.send(http.MethodPut, "/mock/v1/state", exported.raw)
	require.Equal(t, http.StatusOK, imported.Code, imported.Body.String())
	require.Eventually(t, func() bool {
		status, _ := a.faultedPresentation()
		return status == http.StatusBadGateway
	}, replicaWait, 10*time.Millisecond, "A fires the fault imported on B")
	listed := b.listedFaults()
	require.Len(t, listed, 1)
	require.EqualValues(t, 1, listed[0]["remaining"], "two left at the export, one fired on A since")
}

// TestFaultsWithoutTheDatabase cuts a mock off its database: adding, listing and clearing faults
// answer the Klarna-shaped 503, a call the fault matches is not left hanging on its claim, and
// once the database is back the fault fires again.
func TestFaultsWithoutTheDatabase(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	p := newCutProxy(t, db)
	m, _ := openMock(t, p.url(t, db))
	tn := tenantOf(t, m, "faults_outage")
	id := tn.addFault(map[string]any{"status": 504})

	p.set(proxyDown)
	for _, a := range []answer{
		tn.do(http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"all"}, "effect": "error"}),
		tn.do(http.MethodGet, "/mock/v1/faults", nil),
		tn.do(http.MethodDelete, "/mock/v1/faults", nil),
		tn.do(http.MethodDelete, "/mock/v1/faults/"+id, nil),
	} {
		require.Equal(t, http.StatusServiceUnavailable, a.status, string(a.raw))
		require.Equal(t, "SERVICE_UNAVAILABLE", a.str("error_code"))
	}
	began := time.Now()
	status, fault := tn.faultedPresentation()
	require.NotEqual(t, http.StatusGatewayTimeout, status, "the fault's claim cannot be made")
	require.Empty(t, fault)
	require.Less(t, time.Since(began), postgres.DefaultTimeout+3*time.Second)

	p.set(proxyUp)
	require.Eventually(t, func() bool {
		status, fault := tn.faultedPresentation()
		return status == http.StatusGatewayTimeout && fault == id
	}, 10*time.Second, 50*time.Millisecond, "the fault fires again")
}
