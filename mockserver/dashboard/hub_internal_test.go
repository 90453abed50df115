package dashboard

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

func TestHubTellsOnlyTheTenantsWatchers(t *testing.T) {
	t.Parallel()
	h := NewHub()
	h.Notify("a", Change{Kind: ChangeJournal}) // nobody watches: nothing to do
	a, ok := h.watch("a")
	require.True(t, ok)
	b, ok := h.watch("b")
	require.True(t, ok)
	h.Notify("a", Change{Kind: ChangeRequest, ID: "pr"})
	require.Equal(t, Change{Kind: ChangeRequest, ID: "pr"}, <-a.ch)
	require.Empty(t, b.ch)
	h.unwatch(a)
	h.unwatch(a) // twice changes nothing
	require.Equal(t, int64(1), h.watching.Load())
}

func TestHubDropsAWatcherThatFallsBehind(t *testing.T) {
	t.Parallel()
	h := NewHub()
	slow, _ := h.watch("a")
	fast, _ := h.watch("a")
	for range watcherBacklog {
		h.Notify("a", Change{Kind: ChangeJournal})
		<-fast.ch
	}
	h.Notify("a", Change{Kind: ChangeJournal}) // slow's backlog is full: it is dropped, not waited for
	for range watcherBacklog {
		<-slow.ch
	}
	_, open := <-slow.ch
	require.False(t, open, "dropped")
	require.Equal(t, Change{Kind: ChangeJournal}, <-fast.ch, "the others are still told")
	require.Equal(t, int64(1), h.watching.Load())
	h.unwatch(slow) // unwatching a dropped watcher changes nothing
	require.Equal(t, int64(1), h.watching.Load())
}

func TestHubBoundsItsWatchers(t *testing.T) {
	t.Parallel()
	h := NewHub()
	for range MaxWatchersPerTenant {
		_, ok := h.watch("a")
		require.True(t, ok)
	}
	_, ok := h.watch("a")
	require.False(t, ok, "one tenant's bound")
	for i := MaxWatchersPerTenant; i < MaxWatchers; i++ {
		_, ok := h.watch(string(rune('b' + i/MaxWatchersPerTenant)))
		require.True(t, ok)
	}
	_, ok = h.watch("z-new")
	require.False(t, ok, "the bound of all tenants")

	h.Close()
	require.Zero(t, h.watching.Load())
	require.Empty(t, h.tenants)
	_, ok = h.watch("a")
	require.False(t, ok, "closed")
}

// writeOnlyStore runs each write transaction on writeOnlyTx, which stores nothing.
type writeOnlyStore struct{ mockserver.Store }

func (writeOnlyStore) Update(fn func(mockserver.Tx) error) error { return fn(writeOnlyTx{}) }

type writeOnlyTx struct{ mockserver.Tx }

func (writeOnlyTx) PutPaymentTransaction(*mockserver.PaymentTransaction) error { return nil }

// TestObservingAWriteAllocatesNothing is not parallel: testing.AllocsPerRun refuses to run in
// a parallel test.
func TestObservingAWriteAllocatesNothing(t *testing.T) {
	h := NewHub()
	store := h.ObserveStore(writeOnlyStore{})
	tr := &mockserver.PaymentTransaction{AccountID: "a/acct", PaymentTransactionID: "tr"}
	write := func(tx mockserver.Tx) error { return tx.PutPaymentTransaction(tr) }
	require.NoError(t, store.Update(write))
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = store.Update(write) }), "nobody watching")

	w, ok := h.watch("a")
	require.True(t, ok)
	require.NoError(t, store.Update(write))
	require.Equal(t, Change{Kind: ChangeTx, ID: "tr"}, <-w.ch, "a watcher is told")
	require.Zero(t, testing.AllocsPerRun(100, func() {
		_ = store.Update(write)
		<-w.ch
	}), "watched")
}
