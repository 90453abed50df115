package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestStepUpWebhooks follows the token creation step-up branch through the webhooks the mock
// sends to a webhook configured at start: the completed event carries the network session token
// and the customer token, and the final authorize is announced too.
func TestStepUpWebhooks(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "s3cret")
	h := newHarness(t, withStaticWebhook(rc.url, rc.secret))

	id := h.stepUp(tokenCreation("payment:customer_not_present", true))
	h.act(id, "approve")
	wait := func(typ string, n int) []map[string]any {
		t.Helper()
		require.Eventually(t, func() bool { return len(rc.payloads(typ)) >= n }, 10*time.Second, 5*time.Millisecond, typ)
		return rc.payloads(typ)
	}
	completed := wait("payment.request.state-change.completed", 1)[0]
	require.Equal(t, id, completed["payment_request_id"])
	ctx := completed["state_context"].(map[string]any)
	nst := ctx["klarna_network_session_token"].(string)
	require.NotEmpty(t, nst)
	token := ctx["klarna_customer"].(map[string]any)["customer_token"].(string)
	require.NotEmpty(t, token)

	// The request's events arrive in the order the states changed.
	var states []string
	for _, p := range rc.payloads("") {
		if p["payment_request_id"] == id {
			states = append(states, p["state"].(string))
		}
	}
	require.Equal(t, []string{"SUBMITTED", "IN_PROGRESS", "COMPLETED"}, states)

	f := h.authorize(finalAuthorize(11800, "USD"), "Klarna-Network-Session-Token", nst)
	tx := f.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	authorized := wait("payment.transaction.state-change.authorized", 1)
	require.Equal(t, tx, authorized[0]["payment_transaction_id"])
	require.Zero(t, rc.rejected())
}

// TestWrongSecretIsDetected shows a receiver holding another secret rejects every delivery,
// which the mock then retries on its schedule.
func TestWrongSecretIsDetected(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "not-the-secret")
	h := newHarness(t, withStaticWebhook(rc.url, "s3cret"))
	h.authorize(oneTime(1000))
	// Advance only once the mock has recorded the failed attempt, so the retry is due 10 s
	// after it on the clock.
	attempts := func() int {
		r := h.do(http.MethodGet, "/mock/v1/webhooks/"+webhook.StaticWebhookID+"/deliveries", nil)
		ds, _ := r.get("deliveries").([]any)
		if len(ds) == 0 {
			return 0
		}
		a, _ := ds[0].(map[string]any)["attempts"].([]any)
		return len(a)
	}
	require.Eventually(t, func() bool { return attempts() == 1 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, rc.rejected())
	h.clock.Advance(10 * time.Second)
	require.Eventually(t, func() bool { return rc.rejected() == 2 }, 10*time.Second, 5*time.Millisecond, "retried 10 s later")
	require.Empty(t, rc.payloads("payment.request.state-change.submitted"))
}
