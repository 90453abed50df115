package memdb

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cputime"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// queued waits until the store's queue of writers waiting for the next batch holds n.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		s.qmu.Lock()
		defer s.qmu.Unlock()
		return s.leading && len(s.queue) == n
	}, 5*time.Second, time.Millisecond)
}

// TestBatchKeepsEachCallAtomic runs writers in one batch, forced by holding the write lock while
// they queue, and checks that each stays atomic on its own: one that fails or panics after
// overwriting, adding and deleting leaves none of it, the others commit, and a later call of the
// batch sees what the earlier ones stored and nothing of the failed ones.
func TestBatchKeepsEachCallAtomic(t *testing.T) {
	t.Parallel()
	s, _ := newTestStore(t, 100)
	const account = "t/p"
	put := func(tx mockserver.Tx, id, ref string) error {
		return tx.PutPaymentTransaction(&mockserver.PaymentTransaction{AccountID: account, PaymentTransactionID: id, PaymentTransactionReference: ref})
	}
	ref := func(tx mockserver.Tx, id string) (string, error) {
		tr, err := tx.PaymentTransaction(account, id)
		if err != nil {
			return "", err
		}
		return tr.PaymentTransactionReference, nil
	}
	require.NoError(t, s.Update(func(tx mockserver.Tx) error { return put(tx, "x", "before") }))
	require.NoError(t, s.Notifications().Update(func(tx webhook.Tx) error {
		return tx.PutWebhook(&webhook.Webhook{AccountID: account, WebhookID: "w"})
	}))
	boom := errors.New("boom")

	// The first writer takes the queue as its batch and waits for the lock; the others queue
	// behind it and make the next batch, in the order they are started.
	s.mu.Lock()
	results := make([]chan any, 0, 7)
	write := func(update func() error) {
		done := make(chan any, 1)
		results = append(results, done)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					done <- fmt.Sprint("panic: ", r)
				}
			}()
			done <- update()
		}()
	}
	update := func(fn func(mockserver.Tx) error) func() error { return func() error { return s.Update(fn) } }
	write(update(func(tx mockserver.Tx) error { return put(tx, "a", "a") }))
	queued(t, s, 0)
	calls := []func() error{
		update(func(tx mockserver.Tx) error {
			if err := put(tx, "x", "b"); err != nil {
				return err
			}
			return put(tx, "b", "b")
		}),
		update(func(tx mockserver.Tx) error {
			for _, id := range []string{"x", "b", "c"} {
				if err := put(tx, id, "failed"); err != nil {
					return err
				}
			}
			return boom
		}),
		update(func(tx mockserver.Tx) error {
			if got, err := ref(tx, "x"); err != nil || got != "b" {
				return fmt.Errorf("x is %q, %v; want the earlier call's", got, err)
			}
			if _, err := ref(tx, "c"); !errors.Is(err, mockserver.ErrNotFound) {
				return fmt.Errorf("the failed call's c: %v", err)
			}
			return put(tx, "d", "d")
		}),
		update(func(tx mockserver.Tx) error {
			if err := put(tx, "e", "e"); err != nil {
				return err
			}
			panic("boom")
		}),
		func() error {
			return s.Notifications().Update(func(tx webhook.Tx) error {
				if err := tx.DeleteWebhook(account, "w"); err != nil {
					return err
				}
				return boom
			})
		},
		func() error {
			return s.Notifications().View(func(tx webhook.Tx) error {
				_, err := tx.Webhook(account, "w")
				return err
			})
		},
	}
	for i, c := range calls {
		write(c)
		// The view does not queue.
		if i < len(calls)-1 {
			queued(t, s, i+1)
		}
	}
	commits := s.commits.Load()
	s.mu.Unlock()

	var got []any
	for _, done := range results {
		got = append(got, <-done)
	}
	require.Equal(t, []any{nil, nil, boom, nil, "panic: boom", boom, nil}, got)
	require.Equal(t, commits+2, s.commits.Load(), "the queued writers commit in one batch")
	require.NoError(t, s.View(func(tx mockserver.Tx) error {
		for id, want := range map[string]string{"a": "a", "x": "b", "b": "b", "d": "d"} {
			got, err := ref(tx, id)
			require.NoError(t, err, id)
			require.Equal(t, want, got, id)
		}
		for _, id := range []string{"c", "e"} {
			_, err := ref(tx, id)
			require.ErrorIs(t, err, mockserver.ErrNotFound, id)
		}
		return nil
	}))
	require.NoError(t, s.Notifications().View(func(tx webhook.Tx) error {
		_, err := tx.Webhook(account, "w")
		return err
	}), "the failed call's deletion is undone")
	require.Equal(t, map[string]int{"payment_transaction": 4, "notification_webhook": 1}, s.Count("t"))
}

// BenchmarkParallelUpdate measures writers storing a new payment transaction each from 16
// goroutines per core, as many requests at once do: with nothing else to run, nearly every write
// finds others waiting, so this is what batching saves at most (writes/commit reports the
// batches' size). Run: go test -run '^$' -bench ParallelUpdate -benchmem ./mockserver/memdb/
func BenchmarkParallelUpdate(b *testing.B) {
	s, err := New(Config{MaxObjectsPerTenant: math.MaxInt32, MaxObjectsTotal: math.MaxInt32})
	require.NoError(b, err)
	template := mockserver.PaymentTransaction{AccountID: "key-bench/partner-1", Amount: 11800, Currency: "USD", State: mockserver.TransactionAuthorized}
	b.SetParallelism(16)
	b.ReportAllocs()
	commits, cpu := s.commits.Load(), cputime.Process()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			tr := template
			tr.PaymentTransactionID = mockserver.NewID(mockserver.PrefixPaymentTransaction)
			if err := s.Update(func(tx mockserver.Tx) error { return tx.PutPaymentTransaction(&tr) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N)/float64(s.commits.Load()-commits), "writes/commit")
}
