package postgres

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// TestCoalescedReadsGetTheirOwnRows queues single reads behind pipelines that are all out (all
// but one made up, the last held up by an advisory lock the test holds), so that they go in one
// pipeline once it is let go: each read gets its own row or its own ErrNotFound, and a read the
// server refuses (a division by zero) fails alone, the reads after it being read again.
func TestCoalescedReadsGetTheirOwnRows(t *testing.T) {
	t.Parallel()
	s := testStore(t, Config{})
	account := mockserver.Scope("tenant-1", "account-1")
	const reads = 8
	require.NoError(t, s.Update(func(tx mockserver.Tx) error {
		for i := 0; i < reads; i += 2 {
			if err := tx.PutCustomerToken(&mockserver.CustomerToken{AccountID: account, Token: fmt.Sprintf("token-%d", i), Status: "ACTIVE"}); err != nil {
				return err
			}
		}
		return nil
	}))

	holder, err := s.pool.Acquire(t.Context())
	require.NoError(t, err)
	defer holder.Release()
	_, err = holder.Exec(t.Context(), `SELECT pg_advisory_lock(4242)`)
	require.NoError(t, err)
	s.readers.mu.Lock()
	s.readers.out = maxReading - 1
	s.readers.mu.Unlock()
	var blocked sync.WaitGroup
	var blockedErr error
	blocked.Go(func() {
		var got string
		blockedErr = coalescedRow{s: s, ctx: t.Context(), sql: `SELECT pg_advisory_xact_lock(4242)::text`}.Scan(&got)
	})
	require.Eventually(t, func() bool {
		var waiting bool
		err := holder.QueryRow(t.Context(), `SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, time.Millisecond, "the last pipeline waits for the lock")

	tokens := make([]*mockserver.CustomerToken, reads)
	errs := make([]error, reads)
	var wg sync.WaitGroup
	for i := range reads {
		wg.Go(func() {
			errs[i] = s.ViewOne(func(tx mockserver.Tx) (err error) {
				tokens[i], err = tx.CustomerToken(account, fmt.Sprintf("token-%d", i))
				return err
			})
		})
	}
	var refused error
	wg.Go(func() {
		var n int
		refused = coalescedRow{s: s, ctx: t.Context(), sql: `SELECT 1 / 0`}.Scan(&n)
	})
	require.Eventually(t, func() bool {
		s.readers.mu.Lock()
		defer s.readers.mu.Unlock()
		return len(s.readers.queue) == reads+1
	}, 10*time.Second, time.Millisecond, "the reads wait for a pipeline")
	_, err = holder.Exec(t.Context(), `SELECT pg_advisory_unlock(4242)`)
	require.NoError(t, err)
	wg.Wait()
	blocked.Wait()
	require.NoError(t, blockedErr)

	require.Error(t, refused)
	require.False(t, errors.Is(refused, pgx.ErrNoRows))
	for i := range reads {
		if i%2 == 1 {
			require.ErrorIs(t, errs[i], mockserver.ErrNotFound, "token-%d", i)
			continue
		}
		require.NoError(t, errs[i], "token-%d", i)
		require.Equal(t, fmt.Sprintf("token-%d", i), tokens[i].Token)
	}
	require.Equal(t, maxReading-1, s.readers.out, "no pipeline is left out but the one the test made up")
}

// TestPanickedReadFailsTheOthers queues two single reads behind a pipeline out, on a store
// without a pool, so that the read leading their group panics: the other read fails with an
// error rather than wait for good, and the pipeline is free again for the reads after them.
func TestPanickedReadFailsTheOthers(t *testing.T) {
	t.Parallel()
	s := &Store{timeout: time.Second}
	rs := &s.readers
	rs.out = maxReading // a pipeline is out
	outcomes := twoCalls(func() error {
		var n int
		return s.readSingle(t.Context(), &singleRead{sql: "SELECT 1", dest: []any{&n}})
	})
	require.Eventually(t, func() bool {
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return len(rs.queue) == 2
	}, 10*time.Second, time.Millisecond, "the reads wait for the pipeline out")
	rs.next([]*singleRead{{}}) // the pipeline out ends
	onePanicked(t, outcomes, errReadAbandoned)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	require.Zero(t, rs.out, "no pipeline is out")
	require.Empty(t, rs.queue)
}
