package memdb_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
)

func TestReplaceAbortAndScoping(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 2, 0)
	put := func(id, ref string) error {
		return s.Update(func(tx mockserver.Tx) error {
			return tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: scope(tenantA), PaymentTransactionID: id, PaymentTransactionReference: ref})
		})
	}
	require.NoError(t, put("tx-1", "first"))
	require.NoError(t, put("tx-2", "first"))
	// Replacing never counts against the quota, even in a full table.
	require.NoError(t, put("tx-1", "second"))
	require.Equal(t, map[string]int{"payment_transaction": 2}, s.Count(tenantA))

	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(func(tx mockserver.Tx) error {
		require.NoError(t, tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "tok"}))
		return boom
	}), boom)
	require.Equal(t, map[string]int{"payment_transaction": 2}, s.Count(tenantA), "an aborted transaction adds nothing")

	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		tr, err := tx.PaymentTransaction(scope(tenantA), "tx-1")
		require.NoError(t, err)
		require.Equal(t, "second", tr.PaymentTransactionReference)
		_, err = tx.CustomerToken(scope(tenantA), "tok")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		_, err = tx.PaymentTransaction(scope(tenantB), "tx-1")
		require.ErrorIs(t, err, mockserver.ErrNotFound, "another account's object is not found")
		_, err = tx.PaymentTransaction(mockserver.Scope(tenantA, "partner-2"), "tx-1")
		require.ErrorIs(t, err, mockserver.ErrNotFound, "nor is another partner account's of the same tenant")
		return nil
	}))

	require.Error(t, s.View(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "tok"})
	}), "no writes in a read transaction")
	require.Error(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: scope(tenantB), PaymentTransactionID: "tx-1"})
	}), "a tenant cannot overwrite another tenant's object")
	require.Empty(t, s.Count(tenantB))
}

func TestPaymentRequestByIDAlone(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0, 0)
	pr := &mockserver.PaymentRequest{AccountID: scope(tenantA), PaymentRequestID: "pr-1", State: mockserver.StateSubmitted}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(pr) }))
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		got, err := tx.PaymentRequest("", "pr-1")
		require.NoError(t, err)
		require.Same(t, pr, got, "the Purchase Journey reaches a request by its id alone")
		_, err = tx.PaymentRequest(scope(tenantB), "pr-1")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		return nil
	}))
}

// TestFloodLeavesOtherTenantsAlone has tenant A store 25,000 finished objects, from several
// goroutines, at a quota of 100 while tenant B reads its own: every one of A's writes succeeds by
// dropping A's own oldest finished object, and none of B's objects, finished as they are, is
// touched.
func TestFloodLeavesOtherTenantsAlone(t *testing.T) {
	t.Parallel()
	const quota, inserts, writers = 100, 25_000, 4
	s, _ := newStore(t, quota, 0)
	cases := kindCases()
	want := map[string]int{}
	for _, c := range cases {
		require.NoError(t, c.put(s, tenantB, "b-"+c.table, start.Add(-time.Hour)), c.table)
		want[c.table] = 1
	}
	readB := func() error {
		for _, c := range cases {
			if err := c.get(s, tenantB, "b-"+c.table); err != nil {
				return fmt.Errorf("%s: %w", c.table, err)
			}
		}
		return nil
	}

	flood := finishing()
	// The goroutines report failures here: require must stop the test from its own goroutine.
	var mu sync.Mutex
	var errs []error
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, err)
	}
	done := make(chan struct{})
	var reader, writing sync.WaitGroup
	reader.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				if err := readB(); err != nil {
					fail(err)
					return
				}
			}
		}
	})
	for w := range writers {
		writing.Go(func() {
			for i := w; i < inserts; i += writers {
				c := flood[i%len(flood)]
				if err := c.put(s, tenantA, fmt.Sprint("a-", i), start.Add(-2*time.Hour).Add(time.Duration(i))); err != nil {
					fail(fmt.Errorf("%s a-%d: %w", c.table, i, err))
					return
				}
			}
		})
	}
	writing.Wait()
	close(done)
	reader.Wait()
	require.NoError(t, errors.Join(errs...))

	require.NoError(t, readB())
	require.Equal(t, want, s.Count(tenantB))
	gotA := s.Count(tenantA)
	require.Len(t, gotA, len(flood))
	for _, c := range flood {
		require.Equal(t, quota, gotA[c.table], c.table)
	}
	for i := inserts - len(flood); i < inserts; i++ {
		require.NoError(t, flood[i%len(flood)].get(s, tenantA, fmt.Sprint("a-", i)), "A's newest objects are kept")
	}
	require.ErrorIs(t, flood[0].get(s, tenantA, "a-0"), mockserver.ErrNotFound, "A's oldest were dropped")
}

// TestQuotaFullOfObjectsInUse checks, for every kind, that a new object in a table full of the
// tenant's objects still in use is refused with the 429 and changes nothing, while the tenant's
// other kinds and other tenants are not held back.
func TestQuotaFullOfObjectsInUse(t *testing.T) {
	t.Parallel()
	const quota = 3
	cases := kindCases()
	for i, c := range cases {
		t.Run(c.table, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t, quota, 0)
			for n := range quota {
				require.NoError(t, c.put(s, tenantA, fmt.Sprint("a-", n), time.Time{}))
			}
			require.NoError(t, c.put(s, tenantB, "b-0", time.Time{}))

			requireQuotaExceeded(t, c.put(s, tenantA, "a-new", time.Time{}))
			require.ErrorIs(t, c.get(s, tenantA, "a-new"), mockserver.ErrNotFound)
			for n := range quota {
				require.NoError(t, c.get(s, tenantA, fmt.Sprint("a-", n)))
			}
			require.Equal(t, map[string]int{c.table: quota}, s.Count(tenantA))

			require.NoError(t, c.put(s, tenantA, "a-1", time.Time{}), "replacing still works")
			other := cases[(i+1)%len(cases)]
			require.NoError(t, other.put(s, tenantA, "a-other", time.Time{}), "another kind has its own quota")
			require.NoError(t, c.put(s, tenantB, "b-1", time.Time{}), "another tenant has its own quota")
			require.Equal(t, map[string]int{c.table: 2}, s.Count(tenantB))
		})
	}
}

func TestRefusedWriteAbortsTheTransaction(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 1, 0)
	live := func(id, ref string) *mockserver.PaymentRequest {
		return &mockserver.PaymentRequest{AccountID: scope(tenantA), PaymentRequestID: id, PaymentRequestReference: ref, State: mockserver.StateSubmitted}
	}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentRequest(live("pr-1", "first")) }))
	err := s.Update(func(tx mockserver.Tx) error {
		if err := tx.PutPaymentRequest(live("pr-1", "changed")); err != nil {
			return err
		}
		if err := tx.PutNetworkSession(&mockserver.NetworkSession{AccountID: scope(tenantA), Token: "ns"}); err != nil {
			return err
		}
		return tx.PutPaymentRequest(live("pr-2", "new"))
	})
	requireQuotaExceeded(t, err)
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		pr, err := tx.PaymentRequest(scope(tenantA), "pr-1")
		require.NoError(t, err)
		require.Equal(t, "first", pr.PaymentRequestReference)
		_, err = tx.NetworkSession(scope(tenantA), "ns")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		return nil
	}))
	require.Equal(t, map[string]int{"payment_request": 1}, s.Count(tenantA))
}

// TestEvictsFinishedFirstOnTheTenantsClock checks the order of eviction (earliest DoneAt first,
// live objects never) and that "finished" is judged on the tenant's own clock.
func TestEvictsFinishedFirstOnTheTenantsClock(t *testing.T) {
	t.Parallel()
	s, base := newStore(t, 3, 0)
	request := func(tenant, id, state string, at time.Time) *mockserver.PaymentRequest {
		return &mockserver.PaymentRequest{AccountID: scope(tenant), PaymentRequestID: tenant + "/" + id, State: state, UpdatedAt: at, CompletedAt: &at}
	}
	put := func(prs ...*mockserver.PaymentRequest) error {
		return s.Update(func(tx mockserver.Tx) error {
			for _, pr := range prs {
				if err := tx.PutPaymentRequest(pr); err != nil {
					return err
				}
			}
			return nil
		})
	}
	has := func(tenant string, ids ...string) {
		t.Helper()
		require.NoError(t, s.View(func(tx mockserver.Tx) error {
			for _, id := range ids {
				_, err := tx.PaymentRequest(scope(tenant), tenant+"/"+id)
				require.NoError(t, err, id)
			}
			return nil
		}))
		require.Equal(t, map[string]int{"payment_request": len(ids)}, s.Count(tenant))
	}

	require.NoError(t, put(
		request(tenantA, "live", mockserver.StateInProgress, start),
		request(tenantA, "done-1h", mockserver.StateDeclined, start.Add(-time.Hour)),
		request(tenantA, "done-2h", mockserver.StateExpired, start.Add(-2*time.Hour)),
	))
	require.NoError(t, put(request(tenantA, "new-1", mockserver.StateSubmitted, start)))
	has(tenantA, "live", "done-1h", "new-1")
	require.NoError(t, put(request(tenantA, "new-2", mockserver.StateSubmitted, start)))
	has(tenantA, "live", "new-1", "new-2")
	requireQuotaExceeded(t, put(request(tenantA, "new-3", mockserver.StateSubmitted, start)))

	// A COMPLETED request is needed for the final authorize's window: it finishes an hour on.
	for _, tenant := range []string{tenantA, tenantB} {
		require.NoError(t, put(
			request(tenant, "live", mockserver.StateCompleted, start),
			request(tenant, "new-1", mockserver.StateInProgress, start),
			request(tenant, "new-2", mockserver.StateInProgress, start),
		))
	}
	requireQuotaExceeded(t, put(request(tenantA, "new-3", mockserver.StateSubmitted, start)))
	base.Tenant(tenantA).Advance(mockserver.NetworkSessionWindow)
	require.NoError(t, put(request(tenantA, "new-3", mockserver.StateSubmitted, start)))
	has(tenantA, "new-1", "new-2", "new-3")
	requireQuotaExceeded(t, put(request(tenantB, "new-3", mockserver.StateSubmitted, start)), "B's clock has not moved")
	has(tenantB, "live", "new-1", "new-2")
}

// TestPruneAfterRetention checks Prune removes finished objects of every kind once the retention
// has passed on their tenant's clock, and nothing else.
func TestPruneAfterRetention(t *testing.T) {
	t.Parallel()
	s, base := newStore(t, 0, time.Hour)
	cases := kindCases()
	flood := finishing()
	for _, c := range cases {
		require.NoError(t, c.put(s, tenantA, "live", time.Time{}))
	}
	for _, c := range flood {
		require.NoError(t, c.put(s, tenantA, "done", start))
		require.NoError(t, c.put(s, tenantB, "done", start))
	}
	prune := func() int {
		t.Helper()
		n, err := s.Prune()
		require.NoError(t, err)
		return n
	}

	require.Zero(t, prune())
	a := base.Tenant(tenantA)
	a.Advance(time.Hour - time.Nanosecond)
	require.Zero(t, prune())
	a.Advance(time.Nanosecond)
	require.Equal(t, len(flood), prune())
	for _, c := range flood {
		require.ErrorIs(t, c.get(s, tenantA, "done"), mockserver.ErrNotFound, "a read of a pruned id: %s", c.table)
		require.NoError(t, c.get(s, tenantB, "done"), "B's clock has not moved: %s", c.table)
	}
	for _, c := range cases {
		require.NoError(t, c.get(s, tenantA, "live"), c.table)
	}

	base.Advance(time.Hour)
	require.Equal(t, len(flood), prune())
	require.Empty(t, s.Count(tenantB))
	require.Len(t, s.Count(tenantA), len(cases), "objects in use stay")
}

// TestPruneFollowsReplacements checks that an object's latest version decides: one that finished
// later, or is no longer finished, is not pruned for an earlier DoneAt.
func TestPruneFollowsReplacements(t *testing.T) {
	t.Parallel()
	s, base := newStore(t, 0, time.Hour)
	pr, idem := kindCases()[0], kindCases()[4]
	require.Equal(t, "idempotency", idem.table)
	require.NoError(t, pr.put(s, tenantA, "finished-later", start))
	require.NoError(t, pr.put(s, tenantA, "finished-later", start.Add(30*time.Minute)))
	require.NoError(t, pr.put(s, tenantA, "back-in-use", start))
	require.NoError(t, pr.put(s, tenantA, "back-in-use", time.Time{}))
	require.NoError(t, idem.put(s, tenantA, "extended", start))
	require.NoError(t, idem.put(s, tenantA, "extended", start.Add(2*time.Hour)))

	base.Advance(time.Hour)
	n, err := s.Prune()
	require.NoError(t, err)
	require.Zero(t, n)
	base.Advance(30 * time.Minute)
	n, err = s.Prune()
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.ErrorIs(t, pr.get(s, tenantA, "finished-later"), mockserver.ErrNotFound)
	require.NoError(t, pr.get(s, tenantA, "back-in-use"))
	require.NoError(t, idem.get(s, tenantA, "extended"))
}

func TestForgetTenant(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, 0, 0)
	cases := kindCases()
	for _, tenant := range []string{tenantA, tenantB} {
		for _, c := range cases {
			require.NoError(t, c.put(s, tenant, "live", time.Time{}))
			if c.finishes {
				require.NoError(t, c.put(s, tenant, "done", start))
			}
		}
	}
	before := s.Count(tenantB)

	require.NoError(t, s.ForgetTenant(tenantA))
	require.Empty(t, s.Count(tenantA))
	for _, c := range cases {
		require.ErrorIs(t, c.get(s, tenantA, "live"), mockserver.ErrNotFound, c.table)
		require.NoError(t, c.get(s, tenantB, "live"), c.table)
	}
	require.Equal(t, before, s.Count(tenantB))

	require.NoError(t, s.ForgetTenant("nobody"))
	require.NoError(t, cases[0].put(s, tenantA, "again", time.Time{}), "a forgotten tenant starts afresh")
	require.Equal(t, map[string]int{"payment_request": 1}, s.Count(tenantA))
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s, err := memdb.New(memdb.Config{})
	require.NoError(t, err)
	for i := range memdb.DefaultMaxPerTenant {
		require.NoError(t, s.Update(func(tx mockserver.Tx) error {
			return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: fmt.Sprint(i), Status: mockserver.TokenActive})
		}))
	}
	requireQuotaExceeded(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "one-more"})
	}))
	// Without a clock, the wall clock tells whether an object finished.
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "0", Status: mockserver.TokenRevoked, RevokedAt: time.Now().Add(-time.Second)})
	}))
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: scope(tenantA), Token: "one-more"})
	}))
	n, err := s.Prune()
	require.NoError(t, err)
	require.Zero(t, n, "nothing finished a whole DefaultRetention ago")
}
