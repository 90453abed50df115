package memdb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

var start = time.Date(2030, 1, 2, 12, 0, 0, 0, time.UTC)

func TestHeapPopsInOrder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var h doneHeap
	var want []entry
	for i := range 1000 {
		e := entry{at: r.Int64N(50), ver: uint64(i)}
		h.push(e)
		want = append(want, e)
	}
	slices.SortFunc(want, func(a, b entry) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	var got []entry
	for len(h) > 0 {
		got = append(got, h.pop())
	}
	require.Equal(t, want, got)

	h = slices.Clone(want)
	slices.Reverse(h)
	h.init()
	require.Equal(t, want[0], h.pop(), "init restores the heap order")
}

func TestDoneKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, int64(live), doneKey(time.Time{}))
	require.Equal(t, start.UnixNano(), doneKey(start))
	require.Less(t, doneKey(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)), int64(live), "a far instant is finished, not live")
	require.Less(t, doneKey(time.Date(1, 1, 2, 0, 0, 0, 0, time.UTC)), doneKey(start))
}

func newTestStore(t *testing.T, quota int) (*Store, *clock.Clock) {
	t.Helper()
	base := clock.NewManual(start)
	s, err := New(Config{MaxObjectsPerTenant: quota, Retention: time.Hour, Clock: base})
	require.NoError(t, err)
	return s, base
}

func putRequest(s *Store, id, state string, at time.Time) error {
	return s.Update(func(tx mockserver.Tx) error {
		return tx.PutPaymentRequest(&mockserver.PaymentRequest{AccountID: "t/p", PaymentRequestID: id, State: state, UpdatedAt: at})
	})
}

func shelfOf(s *Store, tenant string, k kind) shelf {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b := s.tenants[tenant]; b != nil {
		return b[k]
	}
	return shelf{}
}

// TestHeapStaysBounded checks stale entries do not pile up: neither when one object's DoneAt
// changes over and over, nor when most of a shelf is pruned.
func TestHeapStaysBounded(t *testing.T) {
	t.Parallel()
	s, base := newTestStore(t, 0)
	for i := range 10_000 {
		state := mockserver.StateSubmitted
		if i%2 == 1 {
			state = mockserver.StateCanceled
		}
		require.NoError(t, putRequest(s, "flip", state, start.Add(time.Duration(i))))
	}
	sh := shelfOf(s, "t", kindPaymentRequest)
	require.Equal(t, 1, sh.count)
	require.LessOrEqual(t, len(sh.heap), 2+compactSlack)

	for i := range 1000 {
		at := start
		if i >= 990 {
			at = start.Add(24 * time.Hour)
		}
		require.NoError(t, putRequest(s, fmt.Sprint("r-", i), mockserver.StateDeclined, at))
	}
	base.Advance(time.Hour)
	n, err := s.Prune()
	require.NoError(t, err)
	require.Equal(t, 990, n)
	sh = shelfOf(s, "t", kindPaymentRequest)
	require.Equal(t, 11, sh.count)
	require.LessOrEqual(t, cap(sh.heap), 4*11+compactSlack, "a pruned shelf gives its room back")

	require.NoError(t, s.ForgetTenant("t"))
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Empty(t, s.tenants, "a tenant holding nothing has no books")
}

// TestAbortRestoresBookkeeping checks a transaction that evicted an object and then failed
// leaves the object, its count and its heap entry as they were, so it is evicted later instead.
func TestAbortRestoresBookkeeping(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, 1)
	require.NoError(t, putRequest(s, "old", mockserver.StateExpired, start.Add(-time.Hour)))
	boom := errors.New("boom")
	require.ErrorIs(t, s.Update(func(tx mockserver.Tx) error {
		if err := tx.PutPaymentRequest(&mockserver.PaymentRequest{AccountID: "t/p", PaymentRequestID: "new", State: mockserver.StateSubmitted}); err != nil {
			return err
		}
		return boom
	}), boom)
	sh := shelfOf(s, "t", kindPaymentRequest)
	require.Equal(t, 1, sh.count)
	require.Len(t, sh.heap, 2, "the popped entry is back, the pushed one stale")
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		_, err := tx.PaymentRequest("t/p", "old")
		return err
	}))

	require.Panics(t, func() {
		_ = s.Update(func(tx mockserver.Tx) error {
			if err := tx.PutPaymentRequest(&mockserver.PaymentRequest{AccountID: "t/p", PaymentRequestID: "new", State: mockserver.StateSubmitted}); err != nil {
				return err
			}
			panic("boom")
		})
	})
	require.Equal(t, 1, shelfOf(s, "t", kindPaymentRequest).count, "a panicking transaction is undone too")

	require.NoError(t, putRequest(s, "new", mockserver.StateSubmitted, start))
	require.Equal(t, map[string]int{"payment_request": 1}, s.Count("t"))
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		_, err := tx.PaymentRequest("t/p", "old")
		require.ErrorIs(t, err, mockserver.ErrNotFound)
		_, err = tx.PaymentRequest("t/p", "new")
		return err
	}))
}
