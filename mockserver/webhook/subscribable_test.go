package webhook_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestSubscribeToEveryKlarnaEventType follows Klarna's Notifications API (v2/r6,
// docs.klarna.com/api/kn/klarna-notifications-api/klarna-notifications-v2-r6), whose create
// webhook example names payment.request.state-change.completed,
// payment.transaction.state-change.expired and partner.account.change.created, and the pages
// "Payment transaction state definitions", "Auto-capture" and "Account lifecycle webhooks": a
// webhook may subscribe to every event type Klarna documents, whether the mock sends it or not,
// by name or by a wildcard over them.
func TestSubscribeToEveryKlarnaEventType(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const account = "krn:partner:global:account:test:SUBS0001"
	for _, types := range [][]string{
		{"payment.request.state-change.completed", "payment.transaction.state-change.expired", "partner.account.change.created"},
		webhook.SubscribableEventTypes(),
		{"partner.*", "payment.transaction.*", "identity.customer-token.*"},
	} {
		keyID, _ := f.key(account)
		w, err := f.n.CreateWebhook(account, webhook.WebhookInput{URL: "https://partner.example/hooks/" + types[0], EventTypes: types, SigningKeyID: keyID})
		require.NoError(t, err, "%v", types)
		require.Equal(t, types, w.EventTypes)
	}
	keyID, _ := f.key(account)
	_, err := f.n.CreateWebhook(account, webhook.WebhookInput{URL: "https://partner.example/hooks/bad", EventTypes: []string{"partner.bogus.*", "payment.transaction.voided"}, SigningKeyID: keyID})
	requireKlarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
}

// TestSubscribableMatchesContract keeps contracts/klarna-notifications.yaml's
// SubscribableEventType enum exactly the list the notifier accepts.
func TestSubscribableMatchesContract(t *testing.T) {
	t.Parallel()
	spec, err := contracts.Files.ReadFile("klarna-notifications.yaml")
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	require.NoError(t, err)
	ref := doc.Components.Schemas["SubscribableEventType"]
	require.NotNil(t, ref, "klarna-notifications.yaml defines SubscribableEventType")
	var enum []string
	for _, v := range ref.Value.Enum {
		enum = append(enum, v.(string))
	}
	want := webhook.SubscribableEventTypes()
	slices.Sort(want)
	slices.Sort(enum)
	require.Equal(t, want, enum)
}

// TestDuplicateWebhookConfiguration follows Klarna's Notifications API (v2/r6), which answers
// create webhook with 409 when "the webhook configuration already exists": a second webhook of the
// account with the same url and event types (in any order) is refused, and so is an update that
// would make one; another url, other event types, or another account are not duplicates.
func TestDuplicateWebhookConfiguration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const account, url = "krn:partner:global:account:test:DUPL0001", "https://partner.example/hooks"
	first, _ := f.hook(account, url, "payment.request.state-change.completed", "payment.transaction.captured")

	keyID, _ := f.key(account)
	_, err := f.n.CreateWebhook(account, webhook.WebhookInput{URL: url, EventTypes: []string{"payment.transaction.captured", "payment.request.state-change.completed"}, SigningKeyID: keyID})
	ke := requireKlarnaError(t, err, http.StatusConflict, mockserver.CodeAlreadyExists)
	require.Contains(t, ke.ErrorMessage, first.WebhookID, "the answer names the webhook that has the configuration")

	other, _ := f.hook(account, url, "payment.request.state-change.completed")
	f.hook(account, url+"/other", "payment.request.state-change.completed", "payment.transaction.captured")
	f.hook("krn:partner:global:account:test:DUPL0002", url, "payment.request.state-change.completed", "payment.transaction.captured")

	types := []string{"payment.transaction.captured", "payment.request.state-change.completed"}
	_, err = f.n.UpdateWebhook(account, other.WebhookID, webhook.WebhookPatch{EventTypes: types})
	requireKlarnaError(t, err, http.StatusConflict, mockserver.CodeAlreadyExists)
	status := webhook.StatusDisabled
	_, err = f.n.UpdateWebhook(account, first.WebhookID, webhook.WebhookPatch{Status: &status})
	require.NoError(t, err, "a webhook is not a duplicate of itself")
}

func requireKlarnaError(t *testing.T, err error, status int, code string) *mockserver.Error {
	t.Helper()
	require.Error(t, err)
	ke := mockserver.AsError(err)
	require.Equal(t, status, ke.Status, ke.Error())
	require.Equal(t, code, ke.ErrorCode, ke.Error())
	return ke
}
