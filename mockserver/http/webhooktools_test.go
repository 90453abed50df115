package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// hookOf registers a webhook of every event under a new signing key, to a receiver that checks
// the key's signature, and returns both.
func (h *harness) hookOf() (webhookID string, rc *hookReceiver) {
	h.t.Helper()
	k := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil)
	require.Equal(h.t, http.StatusCreated, k.status, k.body)
	rc = newHookReceiver(h.t, k.str("signing_key"))
	w := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{
		"url": rc.url, "event_types": []string{"*"}, "signing_key_id": k.str("signing_key_id"),
	})
	require.Equal(h.t, http.StatusCreated, w.status, w.body)
	return w.str("webhook_id"), rc
}

// deliveriesOf waits until the webhook's log (newest first) satisfies cond and returns it.
func (h *harness) deliveriesOf(webhookID string, cond func(ds []any) bool) []any {
	h.t.Helper()
	var r response
	require.Eventually(h.t, func() bool {
		r = h.do(http.MethodGet, "/mock/v1/webhooks/"+webhookID+"/deliveries", nil)
		ds, _ := r.get("deliveries").([]any)
		return cond(ds)
	}, 10*time.Second, 5*time.Millisecond, "%s", r.body)
	return r.get("deliveries").([]any)
}

// settled reports whether n deliveries are in the log and none is PENDING.
func settled(n int) func(ds []any) bool {
	return func(ds []any) bool {
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.(map[string]any)["state"] == webhook.DeliveryPending {
				return false
			}
		}
		return true
	}
}

// TestWebhookToolsOverHTTP drives pause, resume, status, redeliver and send through the control
// API (every answer checked against mock-control.yaml): a paused tenant's redelivery waits while
// another tenant is not paused, a reset ends the pause, and the hostile variants reach a
// receiver that checks signatures.
func TestWebhookToolsOverHTTP(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hook, rc := h.hookOf()
	prID := h.stepUp(oneTime(1000))
	h.act(prID, "approve")
	own := h.deliveriesOf(hook, settled(3))
	latest := own[0].(map[string]any)

	status := h.do(http.MethodGet, "/mock/v1/deliveries/status", nil)
	require.Equal(t, http.StatusOK, status.status, status.body)
	require.Equal(t, map[string]any{"paused": false, "pending": float64(0), "in_flight": float64(0)}, status.json)

	paused := h.do(http.MethodPost, "/mock/v1/deliveries/pause", nil)
	require.Equal(t, http.StatusOK, paused.status, paused.body)
	require.Equal(t, true, paused.get("paused"))
	other := h.withKey(newKey())
	require.Equal(t, false, other.do(http.MethodGet, "/mock/v1/deliveries/status", nil).get("paused"), "another tenant is not paused")

	again := h.do(http.MethodPost, "/mock/v1/deliveries/"+latest["delivery_id"].(string)+"/redeliver", nil)
	require.Equal(t, http.StatusAccepted, again.status, again.body)
	require.Equal(t, webhook.VariantRedelivery, again.str("variant"))
	require.Equal(t, latest["delivery_id"], again.str("resent_from"))
	require.Equal(t, latest["event"].(map[string]any)["event_id"], again.str("event.event_id"))
	time.Sleep(100 * time.Millisecond)
	require.Len(t, rc.got(), 3, "held while paused")
	require.Equal(t, float64(1), h.do(http.MethodGet, "/mock/v1/deliveries/status", nil).get("pending"))

	resumed := h.do(http.MethodPost, "/mock/v1/deliveries/resume", nil)
	require.Equal(t, http.StatusOK, resumed.status, resumed.body)
	require.Equal(t, false, resumed.get("paused"))
	h.deliveriesOf(hook, settled(4))
	require.Len(t, rc.got(), 4)

	sent := h.do(http.MethodPost, "/mock/v1/webhooks/"+hook+"/send", map[string]any{"resource": prID, "variant": "out_of_order"})
	require.Equal(t, http.StatusAccepted, sent.status, sent.body)
	require.Len(t, sent.get("deliveries"), 2)
	require.Equal(t, "payment.request.state-change.completed", sent.str("deliveries.0.event.event_type"))
	require.Equal(t, "payment.request.state-change.in-progress", sent.str("deliveries.1.event.event_type"))
	forged := h.do(http.MethodPost, "/mock/v1/webhooks/"+hook+"/send", map[string]any{"event_id": latest["event"].(map[string]any)["event_id"], "variant": "bad_signature"})
	require.Equal(t, http.StatusAccepted, forged.status, forged.body)
	log := h.deliveriesOf(hook, settled(7))
	bad := log[0].(map[string]any)
	require.Equal(t, "bad_signature", bad["variant"])
	require.Equal(t, webhook.DeliveryFailed, bad["state"])
	require.Equal(t, 1, rc.rejected(), "the receiver refused the forgery, and only it")

	h.requireRejections([]rejection{
		{name: "unknown variant", method: http.MethodPost, path: "/mock/v1/webhooks/" + hook + "/send",
			body: map[string]any{"resource": prID, "variant": "evil"}, status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "variant"},
		{name: "no event named", method: http.MethodPost, path: "/mock/v1/webhooks/" + hook + "/send",
			body: map[string]any{"variant": "normal"}, status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "delivery_id"},
		{name: "stale_by without stale_timestamp", method: http.MethodPost, path: "/mock/v1/webhooks/" + hook + "/send",
			body: map[string]any{"resource": prID, "stale_by": "1h"}, status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "stale_by"},
		{name: "unknown webhook", method: http.MethodPost, path: "/mock/v1/webhooks/" + webhook.WebhookIDPrefix + "nope/send",
			body: map[string]any{"resource": prID}, status: http.StatusNotFound, code: "NOT_FOUND"},
		{name: "unknown delivery", method: http.MethodPost, path: "/mock/v1/deliveries/" + webhook.DeliveryIDPrefix + unknownID + "/redeliver",
			status: http.StatusNotFound, code: "NOT_FOUND"},
	})
	// Another tenant's ids are unknown ones.
	requireError(t, other.do(http.MethodPost, "/mock/v1/deliveries/"+latest["delivery_id"].(string)+"/redeliver", nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, other.do(http.MethodPost, "/mock/v1/webhooks/"+hook+"/send", map[string]any{"resource": prID}), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, h.do(http.MethodPost, "/mock/v1/deliveries/pause", nil, "Authorization", ""), http.StatusUnauthorized, "UNAUTHORIZED", "")

	// A reset ends the pause.
	require.Equal(t, true, h.do(http.MethodPost, "/mock/v1/deliveries/pause", nil).get("paused"))
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, "/mock/v1/reset", nil).status)
	require.Equal(t, false, h.do(http.MethodGet, "/mock/v1/deliveries/status", nil).get("paused"))
}
