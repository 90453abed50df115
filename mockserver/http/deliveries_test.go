package http_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestDeliveryLog reads the mock-only delivery log under /mock/v1: the list, one delivery, and
// what is due, each checked against mock-control.yaml, and gone from Klarna's /v2/notification.
func TestDeliveryLog(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		<-gate
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	t.Cleanup(open) // runs first: the server's Close waits for its handlers
	h := newHarness(t, withStaticWebhook(target.URL, "s3cret"))

	const due = "/mock/v1/deliveries/due"
	idle := h.do(http.MethodGet, due, nil)
	require.Equal(t, http.StatusOK, idle.status, idle.body)
	require.Equal(t, float64(0), idle.get("count"))
	require.Equal(t, []any{}, idle.get("delivery_ids"))
	require.Equal(t, testStart.Format(time.RFC3339), idle.str("now"))

	// One Payment Request, three events about it: the first is in flight, the others wait.
	prID := h.stepUp(oneTime(1000))
	h.act(prID, "approve")
	var r response
	require.Eventually(t, func() bool {
		r = h.do(http.MethodGet, due, nil)
		return r.get("count") == float64(1) && r.get("events_pending") == float64(0)
	}, 10*time.Second, time.Millisecond, "%s", r.body)
	headID := r.str("delivery_ids.0")
	head := h.do(http.MethodGet, "/mock/v1/deliveries/"+headID, nil)
	require.Equal(t, http.StatusOK, head.status, head.body)
	require.Equal(t, prID, head.str("subject"))
	require.Equal(t, mockserver.EventRequestSubmitted, head.str("event.event_type"))

	list := h.do(http.MethodGet, "/mock/v1/webhooks/"+webhook.StaticWebhookID+"/deliveries", nil)
	require.Equal(t, http.StatusOK, list.status, list.body)
	require.Len(t, list.get("deliveries"), 3)

	other := h.withKey(newKey())
	require.Equal(t, float64(0), other.do(http.MethodGet, due, nil).get("count"), "another API key has nothing due")
	requireError(t, other.do(http.MethodGet, "/mock/v1/deliveries/"+headID, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, h.do(http.MethodGet, due, nil, "Authorization", ""), http.StatusUnauthorized, "UNAUTHORIZED", "")
	requireError(t, h.do(http.MethodGet, "/mock/v1/webhooks/"+webhook.WebhookIDPrefix+"nope/deliveries", nil), http.StatusNotFound, "NOT_FOUND", "")

	// Klarna's paths have no delivery log.
	for _, path := range []string{"/v2/notification/deliveries/" + headID, "/v2/notification/webhooks/" + webhook.StaticWebhookID + "/deliveries"} {
		require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, path, nil).status, path)
	}

	open()
	require.Eventually(t, func() bool {
		r = h.do(http.MethodGet, due, nil)
		return r.get("count") == float64(0)
	}, 10*time.Second, time.Millisecond, "%s", r.body)
}
