package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// testStore opens a store with cfg on a fresh schema of the test database, closed when t ends.
func testStore(t *testing.T, cfg Config) *Store {
	t.Helper()
	cfg.URL = storetest.Database(t)
	s, err := Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return s
}

// TestGroupCommitFailsOnlyTheRefusedWrites queues writes of one tenant behind a session holding
// its lane, so that they are committed as one group once it lets go, with more new objects than
// the tenant's quota holds: the group's one transaction fails, and each write is then committed
// on its own, so exactly the quota's worth succeed and only the others are refused.
func TestGroupCommitFailsOnlyTheRefusedWrites(t *testing.T) {
	t.Parallel()
	const quota, writes = 3, 8
	s := testStore(t, Config{MaxObjectsPerTenant: quota})
	account := mockserver.Scope("tenant-1", "account-1")
	l, err := s.lanes.join(t.Context(), "tenant-1", &laneWaiter{})
	require.NoError(t, err)

	errs := make([]error, writes)
	var wg sync.WaitGroup
	for i := range writes {
		wg.Go(func() {
			errs[i] = s.Update(func(tx mockserver.Tx) error {
				return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: account, Token: fmt.Sprintf("token-%d", i), Status: "ACTIVE"})
			})
		})
	}
	require.Eventually(t, func() bool {
		s.lanes.mu.Lock()
		defer s.lanes.mu.Unlock()
		return len(l.queue) == writes
	}, 10*time.Second, time.Millisecond, "the writes wait in the lane")
	s.lanes.release(l)
	wg.Wait()

	refused := 0
	for _, err := range errs {
		var ke *mockserver.Error
		if errors.As(err, &ke) && ke.ErrorCode == mockserver.CodeQuotaExceeded {
			refused++
			continue
		}
		require.NoError(t, err)
	}
	require.Equal(t, writes-quota, refused)
	counts, err := s.Count("tenant-1")
	require.NoError(t, err)
	require.Equal(t, quota, counts[kindCustomerToken.name])
	require.Empty(t, s.lanes.m, "a lane nobody uses is forgotten")
}

// TestLaneWaitEndsWithItsContext checks a session waiting for a lane gives up when its context
// ends, and leaves the lane as it was.
func TestLaneWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	var ls lanes
	l, err := ls.join(t.Context(), "tenant-1", &laneWaiter{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	_, err = ls.join(ctx, "tenant-1", &laneWaiter{commits: true})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Nil(t, ls.try("tenant-1"), "the lane is still held")
	ls.release(l)
	require.Empty(t, ls.m)
}

// TestGroupCommitMergesPutsAndEvents queues charges of one tenant behind a session holding its
// lane, each storing a new transaction and its event, and one replacing a token stored before:
// committed as one group, with the puts of each kind and the events merged into one statement
// each, every object is stored and counted once, the replacement keeps its count, and every
// event is recorded and woken for.
func TestGroupCommitMergesPutsAndEvents(t *testing.T) {
	t.Parallel()
	const charges = 6
	s := testStore(t, Config{MaxObjectsPerTenant: 100})
	var mu sync.Mutex
	woken := 0
	s.Outbox().Notify(true, func(_ string, events int) {
		mu.Lock()
		defer mu.Unlock()
		woken += events
	})
	account := mockserver.Scope("tenant-1", "account-1")
	token := func(status string) func(mockserver.Tx) error {
		return func(tx mockserver.Tx) error {
			return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: account, Token: "token-1", Status: status})
		}
	}
	require.NoError(t, s.Update(token("ACTIVE")))
	l, err := s.lanes.join(t.Context(), "tenant-1", &laneWaiter{})
	require.NoError(t, err)

	errs := make([]error, charges+1)
	var wg sync.WaitGroup
	for i := range charges {
		wg.Go(func() {
			errs[i] = s.Update(func(tx mockserver.Tx) error {
				tr := &mockserver.PaymentTransaction{AccountID: account, PaymentTransactionID: fmt.Sprintf("transaction-%d", i)}
				if err := tx.PutPaymentTransaction(tr); err != nil {
					return err
				}
				return tx.Emit(mockserver.Event{Type: mockserver.EventRequestSubmitted, Tenant: "tenant-1", AccountID: "account-1",
					Subject: tr.PaymentTransactionID, OccurredAt: time.Unix(0, 0).UTC(), Payload: tr})
			})
		})
	}
	wg.Go(func() { errs[charges] = s.Update(token("REVOKED")) })
	require.Eventually(t, func() bool {
		s.lanes.mu.Lock()
		defer s.lanes.mu.Unlock()
		return len(l.queue) == charges+1
	}, 10*time.Second, time.Millisecond, "the writes wait in the lane")
	s.lanes.release(l)
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}

	counts, err := s.Count("tenant-1")
	require.NoError(t, err)
	require.Equal(t, map[string]int{kindPaymentTransaction.name: charges, kindCustomerToken.name: 1}, counts)
	var ct *mockserver.CustomerToken
	require.NoError(t, s.ViewOne(func(tx mockserver.Tx) (err error) {
		ct, err = tx.CustomerToken(account, "token-1")
		return err
	}))
	require.Equal(t, "REVOKED", ct.Status)
	var events int
	require.NoError(t, s.pool.QueryRow(t.Context(), `SELECT count(*) FROM outbox WHERE tenant = 'tenant-1'`).Scan(&events))
	require.Equal(t, charges, events)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, charges, woken)
}

// TestMergedWritesMergeOnlyPutsAndEvents checks which groups mergedWrites merges: the puts of the
// simulator's kinds and the events of several transactions, not a group with any other write.
func TestMergedWritesMergeOnlyPutsAndEvents(t *testing.T) {
	t.Parallel()
	put := func(kind, id string) heldStatement {
		return heldStatement{sql: putSQL, args: []any{kind, id, "tenant-1", "tenant-1\naccount-1", "", int64(live), []byte{1}, int64(10), int64(0)}}
	}
	var rows [2]int64
	emit := func(i int) heldStatement {
		return heldStatement{sql: emitSQL, args: []any{"tenant-1", []byte{2}, false, kindWebhook.name}, rows: &rows[i]}
	}
	group := func(writes ...[]heldStatement) []*laneWaiter {
		var g []*laneWaiter
		for _, w := range writes {
			g = append(g, &laneWaiter{writes: w, commits: true})
		}
		return g
	}
	tr := kindPaymentTransaction.name
	merged := mergedWrites(group([]heldStatement{put(tr, "a"), emit(0)}, []heldStatement{put(tr, "b"), emit(1)}))
	require.Len(t, merged, 2)
	require.Equal(t, putsSQL, merged[0].sql)
	require.Equal(t, []string{"a", "b"}, merged[0].args[1])
	require.Equal(t, emitsSQL, merged[1].sql)
	require.Equal(t, []*int64{&rows[0], &rows[1]}, merged[1].each)

	require.Nil(t, mergedWrites(group([]heldStatement{put(tr, "a"), put(tr, "b")})), "one transaction is not merged")
	require.Nil(t, mergedWrites(group([]heldStatement{put(tr, "a")}, []heldStatement{put(kindCustomerToken.name, "b")})),
		"nothing merges")
	require.Nil(t, mergedWrites(group([]heldStatement{put(tr, "a")}, []heldStatement{put(kindWebhook.name, "b"), put(tr, "c")})),
		"a webhook's put changes what an event's statement sees")
	require.Nil(t, mergedWrites(group([]heldStatement{put(tr, "a")}, []heldStatement{{sql: bumpFaultsSQL}, put(tr, "c")})))
}
