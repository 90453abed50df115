package memdb_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
)

// start is when every test's manual clock starts.
var start = time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)

// Tenants of the tests, shaped as mockhttp.Accounts.Resolve names them.
const (
	tenantA = "key-aaaaaaaaaaaaaaaa"
	tenantB = "key-bbbbbbbbbbbbbbbb"
)

// scope is the account id the simulator stores the tenant's objects under.
func scope(tenant string) string { return mockserver.Scope(tenant, "partner-1") }

// newStore returns a store with the quota and retention on a fresh manual clock, and a budget of
// all tenants together that never binds (budget_test.go checks the budget).
func newStore(t testing.TB, quota int, retention time.Duration) (*memdb.Store, *clock.Clock) {
	t.Helper()
	base := clock.NewManual(start)
	s, err := memdb.New(memdb.Config{MaxObjectsPerTenant: quota, MaxObjectsTotal: math.MaxInt32, Retention: retention, Clock: base})
	require.NoError(t, err)
	return s, base
}
