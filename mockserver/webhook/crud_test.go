package webhook_test

import (
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

const (
	acctA = "krn:partner:global:account:test:AAAA0001"
	acctB = "krn:partner:global:account:test:BBBB0002"
)

func TestSigningKeySecretShownOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	k, err := f.n.CreateSigningKey(acctA)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(k.SigningKeyID, webhook.SigningKeyIDPrefix))
	require.Len(t, k.SigningKey, 64)
	raw, err := hex.DecodeString(k.SigningKey)
	require.NoError(t, err)
	require.Len(t, raw, 32)
	require.Equal(t, strings.ToLower(k.SigningKey), k.SigningKey)
	require.Equal(t, start, k.CreatedAt)

	body, err := json.Marshal(k)
	require.NoError(t, err)
	require.JSONEq(t, `{"signing_key_id":"`+k.SigningKeyID+`","signing_key":"`+k.SigningKey+`","created_at":"2025-02-28T12:00:00Z"}`, string(body))

	read, err := f.n.ReadSigningKey(acctA, k.SigningKeyID)
	require.NoError(t, err)
	require.Empty(t, read.SigningKey)
	require.Empty(t, read.Secret)
	body, err = json.Marshal(read)
	require.NoError(t, err)
	require.JSONEq(t, `{"signing_key_id":"`+k.SigningKeyID+`","created_at":"2025-02-28T12:00:00Z"}`, string(body))

	list, err := f.n.ListSigningKeys(acctA)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Empty(t, list[0].SigningKey)
	require.Empty(t, list[0].Secret)

	k2, err := f.n.CreateSigningKey(acctA)
	require.NoError(t, err)
	require.NotEqual(t, k.SigningKey, k2.SigningKey)
	list, err = f.n.ListSigningKeys(acctA)
	require.NoError(t, err)
	require.Equal(t, []string{k.SigningKeyID, k2.SigningKeyID}, []string{list[0].SigningKeyID, list[1].SigningKeyID}, "oldest first")
}

func TestSigningKeyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var first string
	for i := range webhook.MaxSigningKeys {
		id, _ := f.key(acctA)
		if i == 0 {
			first = id
		}
	}
	_, err := f.n.CreateSigningKey(acctA)
	klarnaError(t, err, http.StatusForbidden, mockserver.CodeForbidden)
	f.key(acctB) // the limit is per account

	require.NoError(t, f.n.DeleteSigningKey(acctA, first))
	f.key(acctA)
}

func TestSigningKeyDelete(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	w, _ := f.hook(acctA, "http://127.0.0.1:1/hook", "*")
	ke := klarnaError(t, f.n.DeleteSigningKey(acctA, w.SigningKeyID), http.StatusConflict, mockserver.CodeResourceInUse)
	require.Contains(t, ke.ErrorMessage, w.WebhookID)

	klarnaError(t, f.n.DeleteSigningKey(acctB, w.SigningKeyID), http.StatusNotFound, mockserver.CodeNotFound)

	require.NoError(t, f.n.DeleteWebhook(acctA, w.WebhookID))
	require.NoError(t, f.n.DeleteSigningKey(acctA, w.SigningKeyID))
	_, err := f.n.ReadSigningKey(acctA, w.SigningKeyID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	klarnaError(t, f.n.DeleteSigningKey(acctA, w.SigningKeyID), http.StatusNotFound, mockserver.CodeNotFound)
}

func TestWebhookCRUD(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	keyID, _ := f.key(acctA)
	w, err := f.n.CreateWebhook(acctA, webhook.WebhookInput{
		URL:          "https://partner.example/webhooks",
		EventTypes:   []string{"payment.request.state-change.*", mockserver.EventTransactionAuthorized},
		SigningKeyID: keyID,
	})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(w.WebhookID, webhook.WebhookIDPrefix))
	require.Equal(t, webhook.StatusEnabled, w.Status)
	require.Equal(t, "v2", w.EventVersion)
	require.Equal(t, start, w.CreatedAt)
	require.Equal(t, start, w.UpdatedAt)

	body, err := json.Marshal(w)
	require.NoError(t, err)
	require.JSONEq(t, `{"webhook_id":"`+w.WebhookID+`","url":"https://partner.example/webhooks",
		"event_types":["payment.request.state-change.*","payment.transaction.state-change.authorized"],
		"event_version":"v2","signing_key_id":"`+keyID+`","status":"ENABLED",
		"created_at":"2025-02-28T12:00:00Z","updated_at":"2025-02-28T12:00:00Z"}`, string(body))

	read, err := f.n.ReadWebhook(acctA, w.WebhookID)
	require.NoError(t, err)
	require.Equal(t, w, read)

	// PATCH: only the fields sent change.
	f.clock.Advance(time.Minute)
	disabled := webhook.StatusDisabled
	upd, err := f.n.UpdateWebhook(acctA, w.WebhookID, webhook.WebhookPatch{Status: &disabled})
	require.NoError(t, err)
	require.Equal(t, webhook.StatusDisabled, upd.Status)
	require.Equal(t, w.URL, upd.URL)
	require.Equal(t, w.EventTypes, upd.EventTypes)
	require.Equal(t, w.SigningKeyID, upd.SigningKeyID)
	require.Equal(t, start, upd.CreatedAt)
	require.Equal(t, start.Add(time.Minute), upd.UpdatedAt)

	key2, _ := f.key(acctA)
	url2 := "http://localhost:8080/hook"
	upd, err = f.n.UpdateWebhook(acctA, w.WebhookID, webhook.WebhookPatch{URL: &url2, EventTypes: []string{"*"}, SigningKeyID: &key2})
	require.NoError(t, err)
	require.Equal(t, url2, upd.URL)
	require.Equal(t, []string{"*"}, upd.EventTypes)
	require.Equal(t, key2, upd.SigningKeyID)
	require.Equal(t, webhook.StatusDisabled, upd.Status, "status was not sent and stays")

	// A rejected PATCH changes nothing.
	bad := "ftp://example.com"
	_, err = f.n.UpdateWebhook(acctA, w.WebhookID, webhook.WebhookPatch{URL: &bad, Status: &disabled})
	ke := klarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
	require.Equal(t, []string{"url"}, params(ke))
	read, err = f.n.ReadWebhook(acctA, w.WebhookID)
	require.NoError(t, err)
	require.Equal(t, upd, read)

	list, err := f.n.ListWebhooks(acctA)
	require.NoError(t, err)
	require.Len(t, list, 1)

	// Returned objects are copies: changing them changes nothing stored.
	list[0].EventTypes[0] = "changed"
	read, err = f.n.ReadWebhook(acctA, w.WebhookID)
	require.NoError(t, err)
	require.Equal(t, []string{"*"}, read.EventTypes)

	require.NoError(t, f.n.DeleteWebhook(acctA, w.WebhookID))
	_, err = f.n.ReadWebhook(acctA, w.WebhookID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	_, err = f.n.UpdateWebhook(acctA, w.WebhookID, webhook.WebhookPatch{Status: &disabled})
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	klarnaError(t, f.n.DeleteWebhook(acctA, w.WebhookID), http.StatusNotFound, mockserver.CodeNotFound)
	_, err = f.n.Deliveries(acctA, w.WebhookID, 10)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	list, err = f.n.ListWebhooks(acctA)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestWebhookValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	keyID, _ := f.key(acctA)
	otherKey, _ := f.key(acctB)
	for _, tc := range []struct {
		name   string
		in     webhook.WebhookInput
		params []string
	}{
		{"missing url", webhook.WebhookInput{EventTypes: []string{"*"}, SigningKeyID: keyID}, []string{"url"}},
		{"relative url", webhook.WebhookInput{URL: "/hook", EventTypes: []string{"*"}, SigningKeyID: keyID}, []string{"url"}},
		{"ftp url", webhook.WebhookInput{URL: "ftp://example.com/x", EventTypes: []string{"*"}, SigningKeyID: keyID}, []string{"url"}},
		{"no host", webhook.WebhookInput{URL: "http:///x", EventTypes: []string{"*"}, SigningKeyID: keyID}, []string{"url"}},
		{"garbage url", webhook.WebhookInput{URL: "http://[::1", EventTypes: []string{"*"}, SigningKeyID: keyID}, []string{"url"}},
		{"no event types", webhook.WebhookInput{URL: "http://x", SigningKeyID: keyID}, []string{"event_types"}},
		{"unknown type", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"*", "payment.request.state-change.nope"}, SigningKeyID: keyID}, []string{"event_types[1]"}},
		{"bad wildcards", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"payment", "pay*", "payment.*.x", "foo.*", "", "payment.request.*"}, SigningKeyID: keyID},
			[]string{"event_types[0]", "event_types[1]", "event_types[2]", "event_types[3]", "event_types[4]"}},
		{"duplicate", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"payment.*", "payment.*"}, SigningKeyID: keyID}, []string{"event_types[1]"}},
		{"missing key", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"*"}}, []string{"signing_key_id"}},
		{"unknown key", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"*"}, SigningKeyID: webhook.SigningKeyIDPrefix + "nope"}, []string{"signing_key_id"}},
		{"other account's key", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"*"}, SigningKeyID: otherKey}, []string{"signing_key_id"}},
		{"bad status", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"*"}, SigningKeyID: keyID, Status: "ON"}, []string{"status"}},
		{"bad version", webhook.WebhookInput{URL: "http://x", EventTypes: []string{"*"}, SigningKeyID: keyID, EventVersion: "v1"}, []string{"event_version"}},
		{"everything", webhook.WebhookInput{URL: "x", EventTypes: []string{"nope"}, Status: "x"}, []string{"url", "event_types[0]", "status", "signing_key_id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.n.CreateWebhook(acctA, tc.in)
			ke := klarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
			require.Equal(t, mockserver.InputError, ke.ErrorType)
			require.Equal(t, tc.params, params(ke))
		})
	}
	list, err := f.n.ListWebhooks(acctA)
	require.NoError(t, err)
	require.Empty(t, list, "nothing invalid was stored")

	ok, err := f.n.CreateWebhook(acctA, webhook.WebhookInput{URL: "http://127.0.0.1:9/x", EventTypes: []string{"payment.request.*", "identity.*", mockserver.EventRequestCompleted}, SigningKeyID: keyID, Status: webhook.StatusDisabled, EventVersion: "v2"})
	require.NoError(t, err)
	require.Equal(t, webhook.StatusDisabled, ok.Status)
}

func TestAccountsIsolated(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ra := newReceiver(t, f.clock, nil)
	rb := newReceiver(t, f.clock, nil)
	wa, _ := f.hook(acctA, ra.URL(), "*")
	wb, _ := f.hook(acctB, rb.URL(), "*")

	_, err := f.n.ReadWebhook(acctB, wa.WebhookID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	_, err = f.n.ReadSigningKey(acctB, wa.SigningKeyID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	klarnaError(t, f.n.DeleteWebhook(acctB, wa.WebhookID), http.StatusNotFound, mockserver.CodeNotFound)
	_, err = f.n.Deliveries(acctB, wa.WebhookID, 10)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	_, err = f.n.Simulate(acctB, wa.WebhookID, mockserver.EventRequestCompleted, "v2")
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	list, err := f.n.ListWebhooks(acctB)
	require.NoError(t, err)
	require.Equal(t, []string{wb.WebhookID}, []string{list[0].WebhookID})

	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:1", 1))
	ds := f.waitDeliveries(acctA, wa.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	_, err = f.n.Delivery(acctB, ds[0].DeliveryID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	got, err := f.n.Delivery(acctA, ds[0].DeliveryID)
	require.NoError(t, err)
	require.Equal(t, ds[0], got)

	// B's webhook saw nothing; a later event of B shows the dispatcher is past A's.
	f.n.Publish(event(acctB, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:2", 2))
	f.waitDeliveries(acctB, wb.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, 1, ra.count())
	require.Equal(t, 1, rb.count())
	require.Equal(t, acctB, rb.got()[0].env.Metadata.SubjectAccountID)
}

func TestTenantOwnsWebhooks(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, nil)
	const tenant = "key-0123456789abcdef"
	w, _ := f.hook(tenant, r.URL(), "*")
	other, _ := f.hook(acctA, r.URL(), "*")
	e := event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:t", 1)
	e.Tenant = tenant
	f.n.Publish(e)
	f.waitDeliveries(tenant, w.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	md := r.got()[0].env.Metadata
	require.Equal(t, acctA, md.SubjectAccountID)
	require.Equal(t, acctA, md.RecipientAccountID)
	require.Equal(t, w.WebhookID, md.WebhookID)
	require.Empty(t, f.deliveries(acctA, other.WebhookID), "the account's own webhooks belong to another tenant")
}

func TestDeliveryJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, nil)
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:j", 1))
	ds := f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	body, err := json.Marshal(ds[0])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	require.ElementsMatch(t, []string{"delivery_id", "webhook_id", "state", "event", "subject", "attempts", "next_attempt_at", "created_at", "updated_at"}, keys(m))
	require.Nil(t, m["next_attempt_at"])
	require.True(t, strings.HasPrefix(ds[0].DeliveryID, webhook.DeliveryIDPrefix))
	att := m["attempts"].([]any)[0].(map[string]any)
	require.ElementsMatch(t, []string{"attempt", "started_at", "url", "status_code", "latency_ms"}, keys(att))
	ev := m["event"].(map[string]any)
	require.ElementsMatch(t, []string{"event_type", "event_id", "event_version", "occurred_at", "subject_account_id", "recipient_account_id", "product_instance_id", "webhook_id", "live"}, keys(ev))
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestNewRejectsBadStaticConfig(t *testing.T) {
	t.Parallel()
	for _, cfg := range []webhook.Config{
		{StaticURL: "ftp://x", StaticSecret: "s"},
		{StaticURL: "http://x"},
		{StaticURL: "http://x", StaticSecret: "s", StaticEventTypes: []string{"bogus.*"}},
	} {
		store, err := memdb.New(memdb.Config{})
		require.NoError(t, err)
		_, err = webhook.New(store.Notifications(), cfg)
		require.Error(t, err)
	}
}
