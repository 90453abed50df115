package http_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// receiver is a webhook endpoint that verifies each delivery's signature and keeps the events.
type receiver struct {
	mu     sync.Mutex
	secret string
	events []map[string]any
	bad    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !webhook.Verify([]byte(rc.secret), body, r.Header.Get(webhook.HeaderSignature)) {
		rc.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	var e map[string]any
	_ = json.Unmarshal(body, &e)
	rc.events = append(rc.events, e)
	w.WriteHeader(http.StatusNoContent)
}

// ofType returns the payloads of the events of one type received so far.
func (rc *receiver) ofType(typ string) []map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []map[string]any
	for _, e := range rc.events {
		if e["metadata"].(map[string]any)["event_type"] == typ {
			out = append(out, e["payload"].(map[string]any))
		}
	}
	return out
}

// TestStepUpWebhooks follows the token creation step-up branch through the webhooks the mock
// sends to a webhook configured at start: the completed event carries the network session token
// and the customer token, and the final authorize is announced too.
func TestStepUpWebhooks(t *testing.T) {
	t.Parallel()
	rc := &receiver{secret: "s3cret"}
	target := httptest.NewServer(rc)
	t.Cleanup(target.Close)
	h := newHarness(t, app.Config{WebhookURL: target.URL, WebhookSecret: rc.secret})

	r := h.authorize(tokenCreation("payment:customer_not_present", true))
	id := r.str("payment_request.payment_request_id")
	h.act(id, "approve")
	wait := func(typ string, n int) []map[string]any {
		t.Helper()
		require.Eventually(t, func() bool { return len(rc.ofType(typ)) >= n }, 10*time.Second, 5*time.Millisecond, typ)
		return rc.ofType(typ)
	}
	completed := wait("payment.request.state-change.completed", 1)[0]
	require.Equal(t, id, completed["payment_request_id"])
	ctx := completed["state_context"].(map[string]any)
	nst := ctx["klarna_network_session_token"].(string)
	require.NotEmpty(t, nst)
	token := ctx["customer_token"].(map[string]any)["customer_token"].(string)
	require.NotEmpty(t, token)
	wait("customer.token.state-change.created", 1)

	// The request's events arrive in the order the states changed.
	rc.mu.Lock()
	var states []string
	for _, e := range rc.events {
		if p := e["payload"].(map[string]any); p["payment_request_id"] == id {
			states = append(states, p["state"].(string))
		}
	}
	rc.mu.Unlock()
	require.Equal(t, []string{"SUBMITTED", "IN_PROGRESS", "COMPLETED"}, states)

	f := h.authorize(map[string]any{"currency": "USD", "request_payment_transaction": purchase(11800, "order-tok")}, "Klarna-Network-Session-Token", nst)
	tx := f.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	authorized := wait("payment.transaction.state-change.authorized", 1)
	require.Equal(t, tx, authorized[0]["payment_transaction_id"])
	require.Zero(t, rc.bad)
}

// TestWrongSecretIsDetected shows a receiver holding another secret rejects every delivery,
// which the mock then retries on its schedule.
func TestWrongSecretIsDetected(t *testing.T) {
	t.Parallel()
	rc := &receiver{secret: "not-the-secret"}
	target := httptest.NewServer(rc)
	t.Cleanup(target.Close)
	h := newHarness(t, app.Config{WebhookURL: target.URL, WebhookSecret: "s3cret"})
	h.authorize(oneTime(1000))
	// Advance only once the mock has recorded the failed attempt, so the retry is due 10 s
	// after it on the clock.
	attempts := func() int {
		r := h.do(http.MethodGet, "/v2/notification/webhooks/"+webhook.StaticWebhookID+"/deliveries", nil)
		ds, _ := r.get("deliveries").([]any)
		if len(ds) == 0 {
			return 0
		}
		a, _ := ds[0].(map[string]any)["attempts"].([]any)
		return len(a)
	}
	require.Eventually(t, func() bool { return attempts() == 1 }, 10*time.Second, 5*time.Millisecond)
	rc.mu.Lock()
	require.Equal(t, 1, rc.bad)
	rc.mu.Unlock()
	h.clock.Advance(10 * time.Second)
	require.Eventually(t, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return rc.bad == 2
	}, 10*time.Second, 5*time.Millisecond, "retried 10 s later")
	require.Empty(t, rc.ofType("payment.request.state-change.submitted"))
}
