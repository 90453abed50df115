package webhook_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// settle is how long a test watches for something that must not happen.
const settle = 150 * time.Millisecond

// failingHit answers 503 to the nth request a receiver gets, 200 to the others.
func failingHit(nth int) func(hit) int {
	return func(h hit) int {
		if h.n == nth {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	}
}

// TestPauseHoldsAndResumeSendsInScheduleOrder pauses a tenant with a retry scheduled and new
// events queued: while paused nothing is attempted (the retry that falls due keeps its one
// attempt, PENDING, and nothing is reported due); on resume the held deliveries go in the
// order they fell due, each resource's events in order. One attempt at a time makes the order
// of arrival the order the workers took them in.
func TestPauseHoldsAndResumeSendsInScheduleOrder(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.MaxInFlightPerTenant, c.Workers = 1, 2 })
	rcv := newReceiver(t, f.clock, failingHit(1)) // the first attempt of s0 fails: a retry is due in 10 s
	hook, _ := f.hook("a", rcv.URL(), "*")

	f.n.Publish(event("a", mockserver.EventRequestSubmitted, "s0", 0))
	f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 1 && len(ds[0].Attempts) == 1 && f.n.Due("a").Count == 0
	})
	require.Equal(t, webhook.PauseState{Paused: true}, f.n.Pause("a"))
	require.Equal(t, webhook.PauseState{Paused: true}, f.n.Pause("a"), "pausing twice changes nothing")

	f.n.Publish(event("a", mockserver.EventRequestSubmitted, "s1", 1))
	f.n.Publish(event("a", mockserver.EventRequestInProgress, "s1", 2))
	f.n.Publish(event("a", mockserver.EventRequestSubmitted, "s2", 3))
	require.Eventually(t, func() bool { return f.n.Status("a").Pending == 4 }, waitFor, tick)
	f.clock.Advance(10 * time.Second) // s0's retry falls due while paused
	time.Sleep(settle)

	require.Equal(t, 1, rcv.count(), "nothing is attempted while paused")
	require.Equal(t, webhook.DeliveryStatus{Paused: true, Pending: 4}, f.n.Status("a"))
	due := f.n.Due("a")
	require.Zero(t, due.Count, "while paused nothing will happen without a resume")
	require.Zero(t, due.EventsPending)
	for _, d := range f.deliveries("a", hook.WebhookID) {
		require.Equal(t, webhook.DeliveryPending, d.State, "held, not failed")
		if d.Subject == "s0" {
			require.Len(t, d.Attempts, 1, "the held retry uses up no attempt")
		} else {
			require.Empty(t, d.Attempts)
		}
	}

	require.Equal(t, webhook.PauseState{Paused: false}, f.n.Resume("a"))
	f.waitDeliveries("a", hook.WebhookID, allIn(webhook.DeliveryDelivered, 4))
	var order []int
	for _, h := range rcv.got()[1:] {
		order = append(order, seqOf(t, h))
	}
	// s1's head and s2's were queued before s0's retry fell due; s1's second event became due
	// only once its first was delivered.
	require.Equal(t, []int{1, 3, 0, 2}, order)
	require.Equal(t, webhook.DeliveryStatus{}, f.n.Status("a"))
	require.Equal(t, webhook.PauseState{Paused: false}, f.n.Resume("a"), "resuming twice changes nothing")
}

// TestPauseOfOneTenantDelaysNoOther holds many deliveries of a paused tenant; another tenant's
// webhooks go out meanwhile, as if nothing were held.
func TestPauseOfOneTenantDelaysNoOther(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.Workers = 3 })
	rcvA := newReceiver(t, f.clock, nil)
	rcvB := newReceiver(t, f.clock, nil)
	hookA, _ := f.hook("a", rcvA.URL(), "*")
	hookB, _ := f.hook("b", rcvB.URL(), "*")

	f.n.Pause("a")
	const held = 50
	for i := range held {
		f.n.Publish(event("a", mockserver.EventRequestSubmitted, fmt.Sprintf("a-%d", i), i))
	}
	require.Eventually(t, func() bool { return f.n.Status("a").Pending == held }, waitFor, tick)
	for i := range 5 {
		f.n.Publish(event("b", mockserver.EventRequestSubmitted, "b", i))
	}
	f.waitDeliveries("b", hookB.WebhookID, allIn(webhook.DeliveryDelivered, 5))
	require.False(t, f.n.Status("b").Paused)
	require.Zero(t, rcvA.count(), "the paused tenant sent nothing meanwhile")

	f.n.Resume("a")
	f.waitDeliveries("a", hookA.WebhookID, allIn(webhook.DeliveryDelivered, held))
}

// TestPauseKeepsTheBoundOnPendingDeliveries holds deliveries up to the tenant's bound: one more
// fails at once, as without a pause.
func TestPauseKeepsTheBoundOnPendingDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.MaxPendingPerTenant = 2 })
	rcv := newReceiver(t, f.clock, nil)
	hook, _ := f.hook("a", rcv.URL(), "*")
	f.n.Pause("a")
	for i := range 3 {
		f.n.Publish(event("a", mockserver.EventRequestSubmitted, "s", i))
	}
	ds := f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 3 })
	require.Equal(t, webhook.DeliveryFailed, ds[0].State, "the third is beyond the bound: %s", ds[0].FailureReason)
	require.Equal(t, 2, f.n.Status("a").Pending)
	f.n.Resume("a")
	f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool {
		return ds[1].State == webhook.DeliveryDelivered && ds[2].State == webhook.DeliveryDelivered
	})
}

// TestForgetTenantEndsThePause forgets a paused tenant (a reset): it starts unpaused.
func TestForgetTenantEndsThePause(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	f.n.Pause("a")
	require.NoError(t, f.n.ForgetTenant("a"))
	require.Equal(t, webhook.DeliveryStatus{}, f.n.Status("a"))

	rcv := newReceiver(t, f.clock, nil)
	hook, _ := f.hook("a", rcv.URL(), "*")
	_, err := f.n.Simulate("a", hook.WebhookID, mockserver.EventRequestSubmitted, "")
	require.NoError(t, err)
	f.waitDeliveries("a", hook.WebhookID, allIn(webhook.DeliveryDelivered, 1))
}
