package memdb_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// TestBudgetIsSharedFairly walks the budget of all tenants together: a lone tenant fills half of
// it, later tenants get room while the heavy one is refused, a tenant refused makes room from its
// own finished objects of any kind, and nobody's objects are dropped for another tenant.
func TestBudgetIsSharedFairly(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(start)
	s, err := memdb.New(memdb.Config{MaxObjectsPerTenant: 1000, MaxObjectsTotal: 12, Clock: base})
	require.NoError(t, err)
	const tenantC = "key-cccccccccccccccc"
	n := 0
	live := func(tenant string) error {
		n++
		pr := &mockserver.PaymentRequest{AccountID: scope(tenant), PaymentRequestID: fmt.Sprint(tenant, "/pr-", n), State: mockserver.StateSubmitted}
		return s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) })
	}
	fill := func(tenant string) int {
		t.Helper()
		added := 0
		for ; ; added++ {
			err := live(tenant)
			if err != nil {
				requireBudgetExceeded(t, err)
				return added
			}
			require.Less(t, added, 12, "the budget binds")
		}
	}
	total := func() int {
		sum := 0
		for _, v := range s.Totals() {
			sum += v
		}
		return sum
	}

	// Alone, A's fair share is half the budget (12 / (1 + 1)), the other half kept for tenants
	// to come. Its expired session token, a finished object of another kind, makes room for its
	// sixth request once the rule refuses A.
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutNetworkSession(&mockserver.NetworkSession{AccountID: scope(tenantA), Token: "expired", ExpiresAt: start.Add(-time.Minute)})
	}))
	require.Equal(t, 6, fill(tenantA))
	require.Equal(t, map[string]int{"payment_request": 6}, s.Count(tenantA))
	// B's share is 12 / 3 = 4: it may add while more than that is free, and up to its share.
	require.Equal(t, 4, fill(tenantB))
	requireBudgetExceeded(t, live(tenantA), "A holds more than its share of 4")
	// C's share is 3; the last 2 are free and C holds less.
	require.Equal(t, 2, fill(tenantC))
	require.Equal(t, 12, total())

	// With the budget full, replacing an object still works (it adds nothing), and C's own
	// finished request makes room for its next one; A's and B's objects stay.
	// The last call of fill was refused, so C's last request is the one before it.
	canceled := &mockserver.PaymentRequest{AccountID: scope(tenantC), PaymentRequestID: fmt.Sprint(tenantC, "/pr-", n-1), State: mockserver.StateCanceled, UpdatedAt: start}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(canceled) }))
	require.NoError(t, live(tenantC))
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		_, err := tx.PaymentRequest(scope(tenantC), canceled.PaymentRequestID)
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		_, err = tx.NetworkSession(scope(tenantA), "expired")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		return nil
	}))
	require.Equal(t, map[string]int{"payment_request": 6}, s.Count(tenantA))
	require.Equal(t, map[string]int{"payment_request": 4}, s.Count(tenantB))

	// A refused transaction leaves the budget as it was, and forgetting a tenant frees its part.
	requireBudgetExceeded(t, s.Update(func(tx mockserver.Tx) error {
		if err := tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantB), Token: "t", Status: mockserver.TokenActive}); err != nil {
			return err
		}
		return tx.PutPaymentRequest(&mockserver.PaymentRequest{AccountID: scope(tenantB), PaymentRequestID: "b-more", State: mockserver.StateSubmitted})
	}))
	require.Equal(t, 12, total())
	require.NoError(t, s.ForgetTenant(tenantA))
	require.Equal(t, 6, total())
	require.NoError(t, live(tenantC), "C has room again")
}

// requireBudgetExceeded checks err is the 429 naming the flag that raises the budget of all
// tenants together.
func requireBudgetExceeded(t testing.TB, err error, msgAndArgs ...any) {
	t.Helper()
	storetest.RequireQuotaExceeded(t, err, msgAndArgs...)
	require.Contains(t, err.Error(), "--max-objects-total", msgAndArgs...)
}

// TestBudgetDefault checks the documented default applies.
func TestBudgetDefault(t *testing.T) {
	t.Parallel()
	s, err := memdb.New(memdb.Config{MaxObjectsPerTenant: memdb.DefaultMaxTotal})
	require.NoError(t, err)
	put := func(i int) error {
		pr := &mockserver.PaymentRequest{AccountID: scope(tenantA), PaymentRequestID: fmt.Sprint("pr-", i), State: mockserver.StateSubmitted}
		return s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) })
	}
	for i := range memdb.DefaultMaxTotal / 2 {
		require.NoError(t, put(i))
	}
	requireBudgetExceeded(t, put(-1), "a lone tenant fills half the default budget")
}
