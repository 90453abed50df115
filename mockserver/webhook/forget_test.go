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

// TestForgetTenantDropsQueuesAndTheAttemptInFlight forgets a tenant while an attempt of its
// delivery hangs at the receiver: the tenant's webhooks are gone, nothing of it is due, the
// attempt's outcome is not recorded and never retried, while another tenant's retries go on;
// the tenant starts afresh when it registers a webhook again.
func TestForgetTenantDropsQueuesAndTheAttemptInFlight(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	release := sync.OnceFunc(func() { close(gate) })
	t.Cleanup(release) // before the receivers close: a server's Close waits for its handlers
	f := newFixture(t, nil)
	hanging := newReceiver(t, f.clock, func(hit) int {
		<-gate
		return http.StatusServiceUnavailable
	})
	failing := newReceiver(t, f.clock, func(hit) int { return http.StatusServiceUnavailable })
	hookA, _ := f.hook("a", hanging.URL(), "*")
	hookB, _ := f.hook("b", failing.URL(), "*")

	inFlight, err := f.n.Simulate("a", hookA.WebhookID, mockserver.EventRequestSubmitted, "")
	require.NoError(t, err)
	_, err = f.n.Simulate("b", hookB.WebhookID, mockserver.EventRequestSubmitted, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(hanging.got()) == 1 && len(failing.got()) == 1 }, waitFor, tick)
	require.Equal(t, 1, f.n.Due("a").Count, "the attempt is in flight")

	require.NoError(t, f.n.ForgetTenant("a"))
	require.Equal(t, webhook.DueReport{Now: start, DeliveryIDs: []string{}}, f.n.Due("a"))
	hooks, err := f.n.ListWebhooks("a")
	require.NoError(t, err)
	require.Empty(t, hooks)
	release()

	// Past every retry: B's delivery is retried, A's never is. B's first attempt must have ended
	// first (nothing of B due any more): its retry is scheduled from the clock time it ends at.
	require.Eventually(t, func() bool { return f.n.Due("b").Count == 0 }, waitFor, tick)
	f.clock.Advance(48 * time.Hour)
	require.Eventually(t, func() bool { return len(failing.got()) > 1 }, waitFor, tick)
	require.Len(t, hanging.got(), 1)
	require.Zero(t, f.n.Due("a").Count)
	hooks, err = f.n.ListWebhooks("b")
	require.NoError(t, err)
	require.Len(t, hooks, 1, "B keeps its webhook")

	// A registers again and is served as a new tenant.
	ok := newReceiver(t, f.clock, nil)
	again, _ := f.hook("a", ok.URL(), "*")
	_, err = f.n.Simulate("a", again.WebhookID, mockserver.EventRequestSubmitted, "")
	require.NoError(t, err)
	f.waitDeliveries("a", again.WebhookID, allIn(webhook.DeliveryDelivered, 1))

	// Close waits for the attempt that hung: its outcome was not stored over the delivery the
	// tenant had (the store's ForgetTenant, not run here, is what removes that).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = f.n.Close(ctx)
	require.NoError(t, err)
	d, err := f.n.Delivery("a", inFlight.DeliveryID)
	require.NoError(t, err)
	require.Empty(t, d.Attempts, "the attempt made while the tenant was forgotten is not recorded")
	require.Equal(t, webhook.DeliveryPending, d.State)
}

// TestForgetTenantOfAnUnknownTenant does nothing and fails nothing.
func TestForgetTenantOfAnUnknownTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	require.NoError(t, f.n.ForgetTenant("nobody"))
	require.Zero(t, f.n.Due("nobody").Count)
}
