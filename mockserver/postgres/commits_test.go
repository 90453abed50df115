package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// batchWrites stores a customer token in each tenant, each from a goroutine of its own, while
// the store's committer has a batch in flight: the writes wait, each in its tenant's group, and
// are handed on as one batch when the batch in flight ends. released, when set, runs once they
// are handed on; the writes' outcomes are returned once they all ended.
func batchWrites(t *testing.T, s *Store, tenants []string, released func()) []error {
	t.Helper()
	cm := &s.committer
	cm.mu.Lock()
	require.False(t, cm.batching, "nothing else commits")
	cm.batching = true
	cm.mu.Unlock()
	errs := make([]error, len(tenants))
	var wg sync.WaitGroup
	for i, tenant := range tenants {
		wg.Go(func() {
			account := mockserver.Scope(tenant, "account-1")
			errs[i] = s.Update(func(tx mockserver.Tx) error {
				return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: account, Token: "token-" + tenant, Status: "ACTIVE"})
			})
		})
	}
	require.Eventually(t, func() bool {
		cm.mu.Lock()
		defer cm.mu.Unlock()
		return len(cm.queue) == len(tenants)
	}, 10*time.Second, time.Millisecond, "the writes wait for the batch in flight")
	// The batch in flight ends: the first group waiting leads the next, of every group.
	cm.next([]*tenantGroup{{}})
	if released != nil {
		released()
	}
	wg.Wait()
	return errs
}

// TestBatchCommitsTenantsInOneTransaction checks the groups of several tenants waiting for the
// committer are committed by one transaction: every token stored, counted in its tenant, and
// all of them written by the same transaction (one xmin).
func TestBatchCommitsTenantsInOneTransaction(t *testing.T) {
	t.Parallel()
	s := testStore(t, Config{})
	tenants := []string{"tenant-1", "tenant-2", "tenant-3", "tenant-4", "tenant-5"}
	for _, err := range batchWrites(t, s, tenants, nil) {
		require.NoError(t, err)
	}
	for _, tenant := range tenants {
		counts, err := s.Count(tenant)
		require.NoError(t, err)
		require.Equal(t, 1, counts[kindCustomerToken.name], tenant)
	}
	var transactions int
	require.NoError(t, s.pool.QueryRow(t.Context(),
		`SELECT count(DISTINCT xmin::text) FROM objects WHERE kind = $1`, kindCustomerToken.name).Scan(&transactions))
	require.Equal(t, 1, transactions, "one transaction wrote every tenant's token")
	require.False(t, s.committer.batching, "the committer is idle again")
	require.Empty(t, s.lanes.m)
}

// TestBatchDelaysNoTenantForALockedOne holds one tenant's advisory lock from another session, as
// another mock writing the tenant would, while groups of that tenant and others wait for one
// batch: the batch cannot take the lock, so it is rolled back and each group commits on its
// own, and the other tenants' writes are committed while the lock is still held. Once it is let
// go, the locked tenant's write is committed too.
func TestBatchDelaysNoTenantForALockedOne(t *testing.T) {
	t.Parallel()
	s := testStore(t, Config{})
	held, err := s.pool.Acquire(t.Context())
	require.NoError(t, err)
	defer held.Release()
	key := s.lockspace + "/tenant-2"
	_, err = held.Exec(t.Context(), `SELECT pg_advisory_lock(hashtextextended($1, 0))`, key)
	require.NoError(t, err)

	tenants := []string{"tenant-1", "tenant-2", "tenant-3"}
	errs := batchWrites(t, s, tenants, func() {
		require.Eventually(t, func() bool {
			for _, tenant := range []string{"tenant-1", "tenant-3"} {
				if counts, err := s.Count(tenant); err != nil || counts[kindCustomerToken.name] != 1 {
					return false
				}
			}
			return true
		}, 10*time.Second, 5*time.Millisecond, "the other tenants' writes are committed while tenant-2's lock is held")
		counts, err := s.Count("tenant-2")
		require.NoError(t, err)
		require.Zero(t, counts[kindCustomerToken.name], "tenant-2's write waits for its lock")
		_, err = held.Exec(t.Context(), `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, key)
		require.NoError(t, err)
	})
	for _, err := range errs {
		require.NoError(t, err)
	}
	counts, err := s.Count("tenant-2")
	require.NoError(t, err)
	require.Equal(t, 1, counts[kindCustomerToken.name])
}

// TestBatchFailsOnlyTheRefusedWrite fills one tenant's quota and then batches a write of it with
// writes of other tenants: the server refuses the full tenant's put, so the batch is rolled
// back and each group commits on its own; only the full tenant's write is refused.
func TestBatchFailsOnlyTheRefusedWrite(t *testing.T) {
	t.Parallel()
	const quota = 2
	s := testStore(t, Config{MaxObjectsPerTenant: quota})
	full := mockserver.Scope("tenant-2", "account-1")
	for i := range quota {
		require.NoError(t, s.Update(func(tx mockserver.Tx) error {
			return tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: full, Token: fmt.Sprintf("before-%d", i), Status: "ACTIVE"})
		}))
	}
	errs := batchWrites(t, s, []string{"tenant-1", "tenant-2", "tenant-3"}, nil)
	require.NoError(t, errs[0])
	var ke *mockserver.Error
	require.True(t, errors.As(errs[1], &ke), "%v", errs[1])
	require.Equal(t, mockserver.CodeQuotaExceeded, ke.ErrorCode)
	require.NoError(t, errs[2])
	for tenant, want := range map[string]int{"tenant-1": 1, "tenant-2": quota, "tenant-3": 1} {
		counts, err := s.Count(tenant)
		require.NoError(t, err)
		require.Equal(t, want, counts[kindCustomerToken.name], tenant)
	}
}

// TestPanickedGroupCommitFailsItsWaiters queues two writes of one tenant behind a session holding
// its lane, on a store without a pool, so that the group's commit panics in the session leading
// it: the other write is released with an error, not left waiting nor told it was committed, and
// the lane and the committer are free again.
func TestPanickedGroupCommitFailsItsWaiters(t *testing.T) {
	t.Parallel()
	s := &Store{timeout: time.Second}
	l, err := s.lanes.join(t.Context(), "tenant-1", &laneWaiter{})
	require.NoError(t, err)
	lock := heldStatement{sql: lockSQL, args: []any{"tenant-1"}, tenant: "tenant-1"}
	writes := []heldStatement{{sql: "SELECT 1"}}
	outcomes := twoCalls(func() error { return s.commitGrouped(t.Context(), lock, writes) })
	require.Eventually(t, func() bool {
		s.lanes.mu.Lock()
		defer s.lanes.mu.Unlock()
		return len(l.queue) == 2
	}, 10*time.Second, time.Millisecond, "the writes wait in the lane")
	s.lanes.release(l)
	onePanicked(t, outcomes, errGroupAbandoned)
	require.Empty(t, s.lanes.m, "the lane is free")
	require.Zero(t, s.committer.alone)
}

// twoCalls runs call twice, side by side, and returns their outcomes as they end: the error each
// returned, or the panic it ended in.
func twoCalls(call func() error) <-chan any {
	outcomes := make(chan any, 2)
	for range 2 {
		go func() {
			defer func() {
				if p := recover(); p != nil {
					outcomes <- panicked{p}
				}
			}()
			outcomes <- call()
		}()
	}
	return outcomes
}

// panicked is a panic's value, recovered.
type panicked struct{ value any }

// onePanicked requires of the two outcomes twoCalls gives that one is a panic (the call that led
// the group) and the other the error want (the call the group was for as well).
func onePanicked(t *testing.T, outcomes <-chan any, want error) {
	t.Helper()
	panics := 0
	for range 2 {
		switch o := (<-outcomes).(type) {
		case panicked:
			panics++
		default:
			err, _ := o.(error)
			require.ErrorIs(t, err, want, "the call the group was for as well fails")
		}
	}
	require.Equal(t, 1, panics, "the call leading the group panicked")
}
