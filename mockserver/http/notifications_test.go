package http_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/contracttest"
	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// notifyHarness is a mock with webhooks enabled, assembled as the app will assemble it.
type notifyHarness struct {
	*harness
	notifier *webhook.Notifier
	checker  *contracttest.Checker
}

func newNotifyHarness(t *testing.T) *notifyHarness {
	t.Helper()
	clk := clock.NewManual(testStart)
	store, err := memdb.New(0)
	require.NoError(t, err)
	n, err := webhook.New(store.Notifications(), webhook.Config{Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = n.Close(ctx)
	})
	set, err := fixtures.DefaultSet()
	require.NoError(t, err)
	svc := mockserver.NewService(mockserver.Config{Store: store, Rules: set, Clock: clk, Publisher: n})
	srv, err := mockhttp.NewServer(mockhttp.Deps{Service: svc, Store: store})
	require.NoError(t, err)
	require.NoError(t, srv.EnableNotifications(n))
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &notifyHarness{
		harness: &harness{
			t:        t,
			srv:      hs,
			clock:    clk,
			key:      newKey(),
			account:  "krn:partner:global:account:test:TEST0001",
			payments: contracttest.New(t, "klarna-payments.yaml"),
			control:  contracttest.New(t, "mock-control.yaml"),
		},
		notifier: n,
		checker:  contracttest.New(t, "klarna-notifications.yaml"),
	}
}

// notify calls the Notifications API with the harness's key and checks the answer against
// klarna-notifications.yaml.
func (h *notifyHarness) notify(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+"/v2/notification"+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Basic "+h.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	out := response{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(h.t, json.Unmarshal(raw, &out.json), string(raw))
	}
	require.NotEmpty(h.t, resp.Header.Get("Klarna-Correlation-Id"))
	h.checker.Check(h.t, req, resp.StatusCode, resp.Header, raw)
	return out
}

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

// hookReceiver records signed webhooks.
type hookReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []received
}

type received struct {
	body   []byte
	header http.Header
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.hits = append(r.hits, received{body: body, header: req.Header.Clone()})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) got() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.hits...)
}

func TestNotificationsAPI(t *testing.T) {
	t.Parallel()
	h := newNotifyHarness(t)
	rcv := newHookReceiver(t)

	// Signing keys: the secret once.
	k := h.notify(http.MethodPost, "/signing-keys", nil)
	require.Equal(t, http.StatusCreated, k.status, string(k.body))
	keyID, secret := k.str("signing_key_id"), k.str("signing_key")
	require.Regexp(t, `^krn:partner:global:notification:signing-key:[0-9a-f-]{36}$`, keyID)
	require.Regexp(t, `^[0-9a-f]{64}$`, secret)
	got := h.notify(http.MethodGet, "/signing-keys/"+keyID, nil)
	require.Equal(t, http.StatusOK, got.status)
	require.Nil(t, got.get("signing_key"), "the secret is never shown again")
	list := h.notify(http.MethodGet, "/signing-keys", nil)
	require.Len(t, list.get("signing_keys"), 1)
	require.Nil(t, list.get("signing_keys.0.signing_key"))
	require.Equal(t, http.StatusCreated, h.notify(http.MethodPost, "/signing-keys", "{}").status)

	// Webhooks.
	bad := h.notify(http.MethodPost, "/webhooks", map[string]any{"url": "ftp://x.example", "event_types": []string{"*", "payment.bogus.*"}, "signing_key_id": keyID})
	require.Equal(t, http.StatusBadRequest, bad.status, string(bad.body))
	require.Equal(t, "VALIDATION_ERROR", bad.str("error_code"))
	var params []string
	for i := range bad.get("errors").([]any) {
		params = append(params, bad.str("errors."+string(rune('0'+i))+".parameter"))
	}
	require.ElementsMatch(t, []string{"url", "event_types[1]"}, params)
	requireError(t, h.notify(http.MethodPost, "/webhooks", map[string]any{"url": rcv.srv.URL, "event_types": []string{"*"},
		"signing_key_id": webhook.SigningKeyIDPrefix + "00000000-0000-4000-8000-000000000000"}), http.StatusBadRequest, "VALIDATION_ERROR", "signing_key_id")

	wh := h.notify(http.MethodPost, "/webhooks", map[string]any{"url": rcv.srv.URL + "/hook", "event_types": []string{"payment.request.*"}, "signing_key_id": keyID})
	require.Equal(t, http.StatusCreated, wh.status, string(wh.body))
	hookID := wh.str("webhook_id")
	require.Equal(t, "ENABLED", wh.str("status"))
	require.Equal(t, "v2", wh.str("event_version"))
	require.Len(t, h.notify(http.MethodGet, "/webhooks", nil).get("webhooks"), 1)
	require.Equal(t, hookID, h.notify(http.MethodGet, "/webhooks/"+hookID, nil).str("webhook_id"))

	patched := h.notify(http.MethodPatch, "/webhooks/"+hookID, map[string]any{"event_types": []string{"*"}})
	require.Equal(t, http.StatusOK, patched.status, string(patched.body))
	require.Equal(t, []any{"*"}, patched.get("event_types"))
	require.Equal(t, rcv.srv.URL+"/hook", patched.str("url"), "fields not sent stay")

	// Another API key sees none of it.
	other := *h.harness
	other.key = newKey()
	oh := &notifyHarness{harness: &other, notifier: h.notifier, checker: h.checker}
	requireError(t, oh.notify(http.MethodGet, "/webhooks/"+hookID, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Empty(t, oh.notify(http.MethodGet, "/webhooks", nil).get("webhooks"))
	requireError(t, oh.notify(http.MethodGet, "/signing-keys/"+keyID, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, h.notify(http.MethodGet, "/webhooks", nil, "Authorization", "Basic nope"), http.StatusUnauthorized, "UNAUTHORIZED", "")

	// A real event: an authorize that steps up submits a Payment Request.
	r := h.authorize(oneTime(11800))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("payment_transaction_response.result"), string(r.body))
	prID := r.str("payment_request.payment_request_id")
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
		ds = h.notify(http.MethodGet, "/webhooks/"+hookID+"/deliveries?limit=2", nil)
		return ds.str("deliveries.0.state") == "DELIVERED" && ds.str("deliveries.1.state") == "DELIVERED"
	}, 10*time.Second, time.Millisecond)
	require.Len(t, ds.get("deliveries"), 2)
	require.Equal(t, float64(204), ds.get("deliveries.0.attempts.0.status_code"))
	deliveryID := ds.str("deliveries.0.delivery_id")
	one := h.notify(http.MethodGet, "/deliveries/"+deliveryID, nil)
	require.Equal(t, deliveryID, one.str("delivery_id"))
	require.Equal(t, prID, one.str("subject"))
	requireError(t, oh.notify(http.MethodGet, "/deliveries/"+deliveryID, nil), http.StatusNotFound, "NOT_FOUND", "")
	requireError(t, h.notify(http.MethodGet, "/webhooks/"+hookID+"/deliveries?limit=0", nil), http.StatusBadRequest, "VALIDATION_ERROR", "limit")

	// Simulate every event type; each body matches the contract.
	before := len(rcv.got())
	for _, typ := range webhook.EventTypes() {
		sim := h.notify(http.MethodPost, "/webhooks/"+hookID+"/simulate", map[string]any{"event_type": typ, "event_version": "v2"})
		require.Equal(t, http.StatusAccepted, sim.status, string(sim.body))
		require.Equal(t, typ, sim.str("event.event_type"))
		require.Equal(t, "PENDING", sim.str("state"))
	}
	require.Eventually(t, func() bool { return len(rcv.got()) == before+len(webhook.EventTypes()) }, 10*time.Second, time.Millisecond)
	for _, hit := range rcv.got()[before:] {
		var v any
		require.NoError(t, json.Unmarshal(hit.body, &v))
		require.NoError(t, schema.VisitJSON(v), string(hit.body))
	}
	requireError(t, h.notify(http.MethodPost, "/webhooks/"+hookID+"/simulate", map[string]any{"event_type": "payment.nope"}), http.StatusBadRequest, "VALIDATION_ERROR", "event_type")

	// Deleting: the key in use first is refused, then both go.
	requireError(t, h.notify(http.MethodDelete, "/signing-keys/"+keyID, nil), http.StatusConflict, webhook.CodeResourceInUse, "")
	del := h.notify(http.MethodDelete, "/webhooks/"+hookID, nil)
	require.Equal(t, http.StatusNoContent, del.status)
	require.Empty(t, del.body)
	requireError(t, h.notify(http.MethodGet, "/webhooks/"+hookID, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Equal(t, http.StatusNoContent, h.notify(http.MethodDelete, "/signing-keys/"+keyID, nil).status)
	requireError(t, h.notify(http.MethodDelete, "/signing-keys/"+keyID, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Equal(t, "DELIVERED", h.notify(http.MethodGet, "/deliveries/"+deliveryID, nil).str("state"), "deliveries outlive their webhook")
}

func TestNotificationsIdempotentCreate(t *testing.T) {
	t.Parallel()
	h := newNotifyHarness(t)
	first := h.notify(http.MethodPost, "/signing-keys", nil, "Klarna-Idempotency-Key", "key-1")
	again := h.notify(http.MethodPost, "/signing-keys", nil, "Klarna-Idempotency-Key", "key-1")
	require.Equal(t, http.StatusCreated, again.status)
	require.Equal(t, first.str("signing_key_id"), again.str("signing_key_id"))
	require.Len(t, h.notify(http.MethodGet, "/signing-keys", nil).get("signing_keys"), 1)
}

func TestNotificationsContractRejectsBadBodies(t *testing.T) {
	t.Parallel()
	h := newNotifyHarness(t)
	keyID := h.notify(http.MethodPost, "/signing-keys", nil).str("signing_key_id")
	requireError(t, h.notify(http.MethodPost, "/webhooks", map[string]any{"url": "http://x.example", "event_types": []string{}, "signing_key_id": keyID}),
		http.StatusBadRequest, "VALIDATION_ERROR", "event_types")
	requireError(t, h.notify(http.MethodPost, "/webhooks", map[string]any{"url": "http://x.example", "event_types": []string{"*"}, "signing_key_id": keyID, "colour": "red"}),
		http.StatusBadRequest, "VALIDATION_ERROR", "")
	wh := h.notify(http.MethodPost, "/webhooks", map[string]any{"url": "http://x.example", "event_types": []string{"*"}, "signing_key_id": keyID})
	require.Equal(t, http.StatusCreated, wh.status, string(wh.body))
	requireError(t, h.notify(http.MethodPatch, "/webhooks/"+wh.str("webhook_id"), map[string]any{"status": "ON"}), http.StatusBadRequest, "VALIDATION_ERROR", "status")
	requireError(t, h.notify(http.MethodPatch, "/webhooks/"+wh.str("webhook_id"), map[string]any{}), http.StatusBadRequest, "VALIDATION_ERROR", "")
	requireError(t, h.notify(http.MethodGet, "/webhooks/not-a-krn", nil), http.StatusBadRequest, "VALIDATION_ERROR", "webhook_id")
}
