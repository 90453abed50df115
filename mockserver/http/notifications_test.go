package http_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// notificationAPI is where Klarna's Notifications API is mounted.
const notificationAPI = "/v2/notification"

// eventSchema is the contract's WebhookEvent schema, compiled with kin-openapi.
func eventSchema(t *testing.T) *openapi3.Schema {
	t.Helper()
	spec, err := contracts.Files.ReadFile("klarna-notifications.yaml")
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	return doc.Components.Schemas["WebhookEvent"].Value
}

func TestNotificationsAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rcv := newHookReceiver(t, "")

	// Signing keys: the secret once.
	k := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil)
	require.Equal(t, http.StatusCreated, k.status, k.body)
	keyID, secret := k.str("signing_key_id"), k.str("signing_key")
	require.Regexp(t, `^krn:partner:global:notification:signing-key:[0-9a-f-]{36}$`, keyID)
	require.Regexp(t, `^[0-9a-f]{64}$`, secret)
	got := h.do(http.MethodGet, notificationAPI+"/signing-keys/"+keyID, nil)
	require.Equal(t, http.StatusOK, got.status)
	require.Nil(t, got.get("signing_key"), "the secret is never shown again")
	list := h.do(http.MethodGet, notificationAPI+"/signing-keys", nil)
	require.Len(t, list.get("signing_keys"), 1)
	require.Nil(t, list.get("signing_keys.0.signing_key"))
	require.Equal(t, http.StatusCreated, h.do(http.MethodPost, notificationAPI+"/signing-keys", "{}").status)

	// Webhooks.
	bad := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": "ftp://x.example", "event_types": []string{"*", "payment.bogus.*"}, "signing_key_id": keyID})
	require.Equal(t, http.StatusBadRequest, bad.status, bad.body)
	require.Equal(t, "VALIDATION_ERROR", bad.str("error_code"))
	var params []string
	for i := range bad.get("errors").([]any) {
		params = append(params, bad.str("errors."+string(rune('0'+i))+".parameter"))
	}
	require.ElementsMatch(t, []string{"url", "event_types[1]"}, params)
	requireError(t, h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": rcv.url, "event_types": []string{"*"},
		"signing_key_id": webhook.SigningKeyIDPrefix + "00000000-0000-4000-8000-000000000000"}), http.StatusBadRequest, "VALIDATION_ERROR", "signing_key_id")

	wh := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": rcv.url + "/hook", "event_types": []string{"payment.request.*"}, "signing_key_id": keyID})
	require.Equal(t, http.StatusCreated, wh.status, wh.body)
	hookID := wh.str("webhook_id")
	require.Equal(t, "ENABLED", wh.str("status"))
	require.Equal(t, "v2", wh.str("event_version"))
	require.Len(t, h.do(http.MethodGet, notificationAPI+"/webhooks", nil).get("webhooks"), 1)
	require.Equal(t, hookID, h.do(http.MethodGet, notificationAPI+"/webhooks/"+hookID, nil).str("webhook_id"))

	patched := h.do(http.MethodPatch, notificationAPI+"/webhooks/"+hookID, map[string]any{"event_types": []string{"*"}})
	require.Equal(t, http.StatusOK, patched.status, patched.body)
	require.Equal(t, []any{"*"}, patched.get("event_types"))
	require.Equal(t, rcv.url+"/hook", patched.str("url"), "fields not sent stay")

	// Another API key sees none of it.
	oh := h.withKey(newKey())
	requireError(t, oh.do(http.MethodGet, notificationAPI+"/webhooks/"+hookID, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Empty(t, oh.do(http.MethodGet, notificationAPI+"/webhooks", nil).get("webhooks"))
	requireError(t, oh.do(http.MethodGet, notificationAPI+"/signing-keys/"+keyID, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, h.do(http.MethodGet, notificationAPI+"/webhooks", nil, "Authorization", "Basic nope"), http.StatusUnauthorized, "UNAUTHORIZED", "")

	// A real event: an authorize that steps up submits a Payment Request.
	prID := h.stepUp(oneTime(11800))
	h.act(prID, "approve")

	schema := eventSchema(t)
	require.Eventually(t, func() bool { return len(rcv.got()) >= 3 }, 10*time.Second, time.Millisecond)
	var types []string
	for _, hit := range rcv.got() {
		require.Equal(t, keyID, hit.header.Get(webhook.HeaderSigningKeyID))
		require.True(t, webhook.Verify([]byte(secret), hit.body, hit.header.Get(webhook.HeaderSignature)))
		var v any
		require.NoError(t, json.Unmarshal(hit.body, &v))
		require.NoError(t, schema.VisitJSON(v), string(hit.body))
		var env webhook.Envelope
		require.NoError(t, json.Unmarshal(hit.body, &env))
		require.Equal(t, h.account, env.Metadata.SubjectAccountID)
		require.Equal(t, hookID, env.Metadata.WebhookID)
		types = append(types, env.Metadata.EventType)
	}
	require.Equal(t, []string{mockserver.EventRequestSubmitted, mockserver.EventRequestInProgress, mockserver.EventRequestCompleted}, types[:3],
		"one Payment Request's events arrive in order")

	// The mock-only delivery log.
	var ds response
	require.Eventually(t, func() bool {
		ds = h.do(http.MethodGet, "/mock/v1/webhooks/"+hookID+"/deliveries?limit=2", nil)
		return ds.str("deliveries.0.state") == "DELIVERED" && ds.str("deliveries.1.state") == "DELIVERED"
	}, 10*time.Second, time.Millisecond)
	require.Len(t, ds.get("deliveries"), 2)
	require.Equal(t, float64(204), ds.get("deliveries.0.attempts.0.status_code"))
	deliveryID := ds.str("deliveries.0.delivery_id")
	one := h.do(http.MethodGet, "/mock/v1/deliveries/"+deliveryID, nil)
	require.Equal(t, deliveryID, one.str("delivery_id"))
	require.Equal(t, prID, one.str("subject"))
	requireError(t, oh.do(http.MethodGet, "/mock/v1/deliveries/"+deliveryID, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, h.do(http.MethodGet, "/mock/v1/webhooks/"+hookID+"/deliveries?limit=0", nil), http.StatusBadRequest, "VALIDATION_ERROR", "limit")

	// Simulate every event type; each body matches the contract.
	before := len(rcv.got())
	for _, typ := range webhook.EventTypes() {
		sim := h.do(http.MethodPost, notificationAPI+"/webhooks/"+hookID+"/simulate", map[string]any{"event_type": typ, "event_version": "v2"})
		require.Equal(t, http.StatusAccepted, sim.status, sim.body)
		require.Equal(t, typ, sim.str("event.event_type"))
		require.Equal(t, "PENDING", sim.str("state"))
	}
	require.Eventually(t, func() bool { return len(rcv.got()) == before+len(webhook.EventTypes()) }, 10*time.Second, time.Millisecond)
	for _, hit := range rcv.got()[before:] {
		var v any
		require.NoError(t, json.Unmarshal(hit.body, &v))
		require.NoError(t, schema.VisitJSON(v), string(hit.body))
	}
	requireError(t, h.do(http.MethodPost, notificationAPI+"/webhooks/"+hookID+"/simulate", map[string]any{"event_type": "payment.nope"}), http.StatusBadRequest, "VALIDATION_ERROR", "event_type")

	// Deleting: the key in use first is refused, then both go.
	requireError(t, h.do(http.MethodDelete, notificationAPI+"/signing-keys/"+keyID, nil), http.StatusConflict, mockserver.CodeResourceInUse, "")
	del := h.do(http.MethodDelete, notificationAPI+"/webhooks/"+hookID, nil)
	require.Equal(t, http.StatusNoContent, del.status)
	require.Empty(t, del.body)
	requireError(t, h.do(http.MethodGet, notificationAPI+"/webhooks/"+hookID, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Equal(t, http.StatusNoContent, h.do(http.MethodDelete, notificationAPI+"/signing-keys/"+keyID, nil).status)
	requireError(t, h.do(http.MethodDelete, notificationAPI+"/signing-keys/"+keyID, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Equal(t, "DELIVERED", h.do(http.MethodGet, "/mock/v1/deliveries/"+deliveryID, nil).str("state"), "deliveries outlive their webhook")
}

func TestNotificationsIdempotentCreate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil, "Klarna-Idempotency-Key", "key-1")
	again := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil, "Klarna-Idempotency-Key", "key-1")
	require.Equal(t, http.StatusCreated, again.status)
	require.Equal(t, first.str("signing_key_id"), again.str("signing_key_id"))
	require.Len(t, h.do(http.MethodGet, notificationAPI+"/signing-keys", nil).get("signing_keys"), 1)
}

func TestNotificationsContractRejectsBadBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	keyID := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil).str("signing_key_id")
	wh := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": "http://x.example", "event_types": []string{"*"}, "signing_key_id": keyID})
	require.Equal(t, http.StatusCreated, wh.status, wh.body)
	webhooks, hook := notificationAPI+"/webhooks", notificationAPI+"/webhooks/"+wh.str("webhook_id")
	h.requireRejections([]rejection{
		{"no event types", http.MethodPost, webhooks, map[string]any{"url": "http://x.example", "event_types": []string{}, "signing_key_id": keyID}, nil, 400, "VALIDATION_ERROR", "event_types"},
		{"unknown status", http.MethodPatch, hook, map[string]any{"status": "ON"}, nil, 400, "VALIDATION_ERROR", "status"},
		{"empty update", http.MethodPatch, hook, map[string]any{}, nil, 400, "VALIDATION_ERROR", ""},
		{"webhook id not a krn", http.MethodGet, webhooks + "/not-a-krn", nil, nil, 400, "VALIDATION_ERROR", "webhook_id"},
	})
}
