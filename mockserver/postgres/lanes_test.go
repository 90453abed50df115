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
