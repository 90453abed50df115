package webhook_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestDueFollowsTheQueues walks one FIFO through every state Due distinguishes: queued and in
// flight (due), waiting for a retry later on the clock (not due, nor the delivery behind it),
// the retry's time reached (due again), and delivered (nothing due).
func TestDueFollowsTheQueues(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	r := newReceiver(t, f.clock, func(h hit) int {
		if h.n == 1 {
			return http.StatusServiceUnavailable
		}
		<-gate
		return http.StatusOK
	})
	t.Cleanup(release)
	w, _ := f.hook(acctA, r.URL(), "*")

	empty := f.n.Due(acctA)
	require.Equal(t, start, empty.Now)
	require.Zero(t, empty.Count)
	require.NotNil(t, empty.DeliveryIDs, "an empty list, encoded as []")
	require.Zero(t, empty.EventsPending)

	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	first := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 1 && len(ds[0].Attempts) == 1
	})[0]
	f.n.Publish(event(acctA, mockserver.EventRequestInProgress, "s", 2))
	f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 2 })
	// The worker lets go of the head just after storing the attempt: wait for that, then for good.
	require.Eventually(t, func() bool {
		d := f.n.Due(acctA)
		return d.Count == 0 && d.EventsPending == 0
	}, waitFor, tick)
	require.Never(t, func() bool { return f.n.Due(acctA).Count > 0 }, 50*time.Millisecond, tick,
		"the head waits for its retry 10 s later; the second waits behind it")

	f.clock.Advance(10 * time.Second)
	require.Eventually(t, func() bool { return r.count() == 2 }, waitFor, tick)
	due := f.n.Due(acctA)
	require.Equal(t, []string{first.DeliveryID}, due.DeliveryIDs, "the retry is in flight")
	require.Equal(t, 1, due.Count)
	require.Equal(t, start.Add(10*time.Second), due.Now)
	require.Zero(t, f.n.Due(acctB).Count, "another account's deliveries are not its own")

	release()
	require.Eventually(t, func() bool { return f.n.Due(acctA).Count == 0 && r.count() == 3 }, waitFor, tick,
		"the second delivery became the head, was due and went")
	f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 2))
}

// TestDueNeverMissesAPublishedEvent checks that from Publish until the attempt, an event counts
// as pending or its delivery as due: a test waiting for Due to be empty cannot slip in between.
func TestDueNeverMissesAPublishedEvent(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r, release := f.heldReceiver()
	f.hook(acctA, r.URL(), "*")
	for i := range 20 {
		f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", i))
	}
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		d := f.n.Due(acctA)
		require.Positive(t, d.Count+d.EventsPending, "%+v", d)
		require.LessOrEqual(t, d.Count, 1, "one subject: only the head is due")
	}
	release()
	require.Eventually(t, func() bool {
		d := f.n.Due(acctA)
		return d.Count == 0 && d.EventsPending == 0 && r.count() == 20
	}, waitFor, tick)
}

// TestNothingIsDueAfterClose closes the Notifier under an attempt in flight: the delivery stays
// PENDING but no attempt will ever be made, so nothing is due.
func TestNothingIsDueAfterClose(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r, _ := f.heldReceiver()
	f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	require.Eventually(t, func() bool { return r.count() == 1 }, waitFor, tick)
	require.Equal(t, 1, f.n.Due(acctA).Count)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	undelivered, err := f.n.Close(ctx)
	require.Error(t, err, "the attempt in flight was interrupted")
	require.Len(t, undelivered, 1)
	require.Zero(t, f.n.Due(acctA).Count)
}

// heldReceiver returns a receiver that holds every request until release is called (at the
// latest when the test ends), then answers 200.
func (f *fixture) heldReceiver() (r *receiver, release func()) {
	f.t.Helper()
	gate := make(chan struct{})
	release = sync.OnceFunc(func() { close(gate) })
	r = newReceiver(f.t, f.clock, func(hit) int {
		<-gate
		return http.StatusOK
	})
	f.t.Cleanup(release) // runs before the receiver's own cleanup, which waits for its requests
	return r, release
}
