package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpclient"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestDeliveriesCommand drives one tenant's webhook deliveries with klarna-mock deliveries:
// list, show, due, status, pause, resume, redeliver and send, and gives each action's help.
func TestDeliveriesCommand(t *testing.T) {
	t.Parallel()
	var got atomic.Int32
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rcv.Close)
	mock := start(t)
	const key = "klarna_test_api_deliveries"
	api := func(path string, body any, out any) {
		t.Helper()
		req, err := httpclient.NewJSONRequest(context.Background(), http.MethodPost, mock+path, body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Basic "+key)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Less(t, resp.StatusCode, 300)
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	var k webhook.SigningKey
	api("/v2/notification/signing-keys", nil, &k)
	var hook webhook.Webhook
	api("/v2/notification/webhooks", map[string]any{"url": rcv.URL, "event_types": []string{"*"}, "signing_key_id": k.SigningKeyID}, &hook)
	var first webhook.Delivery
	api("/v2/notification/webhooks/"+hook.WebhookID+"/simulate", map[string]any{"event_type": "payment.request.state-change.completed"}, &first)
	require.Eventually(t, func() bool { return got.Load() == 1 }, 10*time.Second, 5*time.Millisecond)

	deliveries := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), append([]string{"deliveries", "--mock", mock, "--api-key", key}, args...), env(nil), &out, io.Discard))
		return out.String()
	}
	decode := func(out string, v any) {
		t.Helper()
		require.NoError(t, json.Unmarshal([]byte(out), v), out)
	}

	// The receiver counts the call before the mock has stored its answer: wait for the record.
	require.Eventually(t, func() bool {
		var one webhook.Delivery
		decode(deliveries("show", first.DeliveryID), &one)
		return one.State == webhook.DeliveryDelivered
	}, 10*time.Second, 5*time.Millisecond)
	var status webhook.DeliveryStatus
	decode(deliveries("pause"), &status)
	require.True(t, status.Paused)

	var again webhook.Delivery
	decode(deliveries("redeliver", first.DeliveryID), &again)
	require.Equal(t, webhook.VariantRedelivery, again.Variant)
	decode(deliveries("status"), &status)
	require.Equal(t, webhook.DeliveryStatus{Paused: true, Pending: 1}, status)
	var due webhook.DueReport
	decode(deliveries("due"), &due)
	require.Zero(t, due.Count, "nothing is due while paused")

	decode(deliveries("resume"), &status)
	require.False(t, status.Paused)
	require.Eventually(t, func() bool { return got.Load() == 2 }, 10*time.Second, 5*time.Millisecond)

	// EVENT is a delivery id, an event id or a resource id.
	for _, event := range []string{first.DeliveryID, first.Event.EventID, first.Subject} {
		var sent struct{ Deliveries []webhook.Delivery }
		decode(deliveries("send", hook.WebhookID, "duplicate", event), &sent)
		require.Len(t, sent.Deliveries, 2, event)
		require.Equal(t, first.Event.EventID, sent.Deliveries[1].Event.EventID)
	}
	require.Eventually(t, func() bool { return got.Load() == 8 }, 10*time.Second, 5*time.Millisecond)
	var list struct{ Deliveries []webhook.Delivery }
	decode(deliveries("list", hook.WebhookID), &list)
	require.Len(t, list.Deliveries, 8)

	var out bytes.Buffer
	err := run(context.Background(), []string{"deliveries", "--mock", mock, "--api-key", key, "send", hook.WebhookID, "evil", first.DeliveryID}, env(nil), &out, io.Discard)
	require.ErrorContains(t, err, "VALIDATION_ERROR")
	require.ErrorContains(t, err, "variant")

	out.Reset()
	require.NoError(t, run(context.Background(), []string{"deliveries", "--help"}, env(nil), &out, io.Discard))
	for _, a := range []string{"list WEBHOOK_ID", "show DELIVERY_ID", "due", "status", "pause", "resume", "redeliver DELIVERY_ID", "send WEBHOOK_ID VARIANT EVENT", "stale_timestamp"} {
		require.Contains(t, out.String(), a)
	}
	out.Reset()
	require.NoError(t, run(context.Background(), []string{"--help"}, env(nil), &out, io.Discard))
	require.True(t, strings.Contains(out.String(), "deliveries"), "the top-level help lists the command")
}
