package http_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
)

// withUndocumentedFields answers body fields the contracts do not describe as
// --undocumented-fields does.
func withUndocumentedFields(p mockhttp.FieldPolicy) option {
	return func(c *app.Config) { c.UndocumentedFields = p }
}

// TestErrorsCarryBothLists follows Klarna's "Error handling" page
// (docs.klarna.com/klarna-network-distribution/setup-your-integration/integration-resilience/error-handling),
// whose errors[] entries hold {parameter, error_message, doc_url}, and the Klarna Direct "Error
// Handling" page (docs.klarna.com/acquirer/klarna-direct/setup-your-integration/integration-resilience/error-handling),
// whose validation_errors[] entries hold {parameter, reason, doc_url}: the mock sends both lists,
// entry for entry, and doc_url on the error and on each entry, so a client of either page parses
// the answer; an error naming no parameter carries doc_url alone.
func TestErrorsCarryBothLists(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := oneTime(1000)
	body["currency"] = "dollars"
	body["request_payment_transaction"].(map[string]any)["capture"] = "SOON"
	r := h.authorize(body)
	requireError(t, r, http.StatusBadRequest, mockserver.CodeValidation, "")
	require.Equal(t, mockserver.DocURL, r.str("doc_url"))
	errs, _ := r.get("errors").([]any)
	vals, _ := r.get("validation_errors").([]any)
	require.Len(t, errs, 2, r.body)
	require.Len(t, vals, len(errs))
	for i := range errs {
		e, v := errs[i].(map[string]any), vals[i].(map[string]any)
		require.Equal(t, e["parameter"], v["parameter"])
		require.Equal(t, e["error_message"], v["reason"])
		require.Equal(t, mockserver.DocURL, e["doc_url"])
		require.Equal(t, mockserver.DocURL, v["doc_url"])
	}

	nf := h.do(http.MethodGet, h.path("/payment/requests/krn:payment:eu1:request:"+unknownID), nil)
	requireError(t, nf, http.StatusNotFound, mockserver.CodeNotFound, "")
	require.Equal(t, mockserver.DocURL, nf.str("doc_url"))
	require.Nil(t, nf.get("errors"))
	require.Nil(t, nf.get("validation_errors"))
}

// TestBothErrorListsAreCapped: the cap of MaxErrorEntries applies to validation_errors as to
// errors, so the answer to a body with thousands of faults stays small either way.
func TestBothErrorListsAreCapped(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	items := strings.TrimSuffix(strings.Repeat(`{"name":1},`, 500), ",")
	r := h.authorize(`{"currency":"USD","request_payment_transaction":{"amount":1000},"supplementary_purchase_data":{"line_items":[` + items + `]}}`)
	requireError(t, r, http.StatusBadRequest, mockserver.CodeValidation, "")
	require.Len(t, r.get("errors"), mockhttp.MaxErrorEntries)
	require.Len(t, r.get("validation_errors"), mockhttp.MaxErrorEntries)
}

// undocumentedBody is a one-time payment with a line item field Klarna does not document.
func undocumentedBody() map[string]any {
	body := oneTime(1000)
	item := body["supplementary_purchase_data"].(map[string]any)["line_items"].([]any)[0].(map[string]any)
	item["colour"] = "red"
	return body
}

// TestUndocumentedFieldsWarnByDefault: a body field the contract does not describe is accepted,
// since Klarna may take it (its OpenAPI documents are downloads the contracts are written from),
// and kept as a warning in the call's journal entry, where a conformance check sees it; other
// faults of the same body are still refused.
func TestUndocumentedFieldsWarnByDefault(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(undocumentedBody())
	require.Equal(t, http.StatusOK, r.status, r.body)
	entries := h.journal("?path_contains=/payment/authorize")
	require.Len(t, entries, 1)
	require.Equal(t, []any{map[string]any{"parameter": "supplementary_purchase_data.line_items[0].colour", "message": "is not allowed"}},
		entries[0].(map[string]any)["warnings"])

	bad := undocumentedBody()
	bad["currency"] = "dollars"
	r = h.authorize(bad)
	requireError(t, r, http.StatusBadRequest, mockserver.CodeValidation, "currency")
	require.Len(t, r.get("errors"), 1, "the undocumented field is a warning, not an error: %s", r.body)

	// The mock's own control API has no Klarna behaviour to be faithful to: it refuses.
	adv := h.do(http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": "PT1M", "colour": "red"})
	requireError(t, adv, http.StatusBadRequest, mockserver.CodeValidation, "colour")
}

// TestUndocumentedFieldsRefused: with --undocumented-fields refuse, the same body is a 400 naming
// the field, and nothing is authorized.
func TestUndocumentedFieldsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withUndocumentedFields(mockhttp.RefuseUndocumented))
	r := h.authorize(undocumentedBody())
	requireError(t, r, http.StatusBadRequest, mockserver.CodeValidation, "supplementary_purchase_data.line_items[0].colour")
	require.Equal(t, "is not allowed", r.str("validation_errors.0.reason"))
}

// TestParseFieldPolicy: the flag takes warn or refuse only.
func TestParseFieldPolicy(t *testing.T) {
	t.Parallel()
	for _, p := range []mockhttp.FieldPolicy{mockhttp.WarnUndocumented, mockhttp.RefuseUndocumented} {
		got, err := mockhttp.ParseFieldPolicy(string(p))
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	_, err := mockhttp.ParseFieldPolicy("ignore")
	require.Error(t, err)
}

// TestKlarnaDocumentedFieldsAccepted follows the Klarna Web SDK v2/r6 reference
// (docs.klarna.com/websdk/v2-r6/interfaces/common.LineItem.html, common.Customer.html,
// common.Shipping.html, common.ShippingRecipient.html): the supplementary purchase data fields it
// names are part of the contract, so they are accepted without a warning, even under the strict
// policy.
func TestKlarnaDocumentedFieldsAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withUndocumentedFields(mockhttp.RefuseUndocumented))
	body := oneTime(1000)
	spd := body["supplementary_purchase_data"].(map[string]any)
	spd["line_items"].([]any)[0].(map[string]any)["currency"] = "USD"
	spd["line_items"].([]any)[0].(map[string]any)["product_identifier"] = "4006381333931"
	spd["customer"].(map[string]any)["address"] = map[string]any{"street_address": "Sveavägen 46", "postal_code": "111 34", "city": "Stockholm", "country": "SE"}
	spd["shipping"] = []any{map[string]any{
		"recipient":       map[string]any{"given_name": "Jane", "family_name": "Doe", "attention": "Reception"},
		"address":         map[string]any{"street_address": "Sveavägen 46", "city": "Stockholm", "country": "SE"},
		"shipping_option": map[string]any{"shipping_type": "TO_DOOR", "shipping_carrier": "PostNord", "shipping_type_attributes": []any{"TRACKED", "SIGNATURE_REQUIRED"}},
	}}
	r := h.authorize(body)
	require.Equal(t, http.StatusOK, r.status, r.body)
	entries := h.journal("?path_contains=/payment/authorize")
	require.Len(t, entries, 1)
	require.NotContains(t, entries[0].(map[string]any), "warnings")
}

// TestBackOutIsPurchaseFlowAborted follows the Klarna Web SDK v2 reference of
// PaymentRequestStateReason (docs.klarna.com/websdk/v2/enums/constants.PaymentRequestStateReason.html):
// a customer who drops out of the purchase flow leaves the request SUBMITTED with state_reason
// PURCHASE_FLOW_ABORTED.
func TestBackOutIsPurchaseFlowAborted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(oneTime(1000))
	r := h.act(id, "back-out")
	require.Equal(t, http.StatusOK, r.status, r.body)
	read := h.request(id)
	require.Equal(t, mockserver.StateSubmitted, read.str("state"))
	require.Equal(t, mockserver.StateInProgress, read.str("previous_state"))
	require.Equal(t, mockserver.ReasonPurchaseFlowAborted, read.str("state_reason"))
}

// direct is the harness calling Klarna's account-less paths: it reads and journals under the
// account those act on by default.
func (h *harness) direct() *harness { return h.withAccount(mockhttp.DirectAccountID) }

// TestDirectPartnerPaths follows Klarna's pages for Partners that integrate directly ("Klarna
// Direct": "Update a Payment Request",
// docs.klarna.com/acquirer/klarna-direct/payment-authorization/update-payment-request/, calls
// PUT /v2/payment/requests/{payment_request_id} on the same host, without
// /accounts/{partner_account_id}; docs/klarna.md §2): the authorize, presentation and Payment
// Request paths are served there, acting on the API key's own account, so what one creates the
// account path reads too.
func TestDirectPartnerPaths(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do(http.MethodPost, "/v2/payment/authorize", oneTime(1000))
	require.Equal(t, http.StatusOK, r.status, r.body)
	id := r.str("payment_request.payment_request_id")
	require.NotEmpty(t, id, r.body)

	read := h.do(http.MethodGet, "/v2/payment/requests/"+id, nil)
	require.Equal(t, http.StatusOK, read.status, read.body)
	require.Equal(t, mockserver.StateSubmitted, read.str("state"))
	require.Equal(t, mockserver.StateSubmitted, h.direct().state(id), "the key's own account is the default direct account")
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, h.path("/payment/requests/"+id), nil).status, "another account does not see it")

	updated := h.do(http.MethodPut, "/v2/payment/requests/"+id, map[string]any{"payment_request_reference": "updated-payment-request-reference"})
	require.Equal(t, http.StatusOK, updated.status, updated.body)
	require.Equal(t, "updated-payment-request-reference", updated.str("payment_request_reference"))

	canceled := h.do(http.MethodDelete, "/v2/payment/requests/"+id, nil)
	require.Equal(t, http.StatusOK, canceled.status, canceled.body)
	require.Equal(t, mockserver.StateCanceled, canceled.str("state"))

	p := h.do(http.MethodGet, "/v2/payment/presentation?"+url.Values{"currency": {"USD"}, "amount": {"1000"}}.Encode(), nil)
	require.Equal(t, http.StatusOK, p.status, p.body)
	require.NotEmpty(t, p.str("instruction"))

	var paths []any
	for _, e := range h.direct().journal("") {
		paths = append(paths, e.(map[string]any)["path"])
	}
	require.Equal(t, []any{"/v2/payment/authorize", "/v2/payment/requests/" + id, "/v2/accounts/" + mockhttp.DirectAccountID + "/payment/requests/" + id,
		"/v2/payment/requests/" + id, "/v2/payment/requests/" + id, "/v2/payment/presentation"}, paths, "the direct calls are journaled under the key's own account")
}

// TestDirectIdentitySDKToken: the public Klarna client calls the Identity API's SDK token on the
// account-less path too (docs/klarna.md §2), which answers as the account path does
// (TestIdentitySDKTokens), for the API key's own account: its customer tokens, not another's.
func TestDirectIdentitySDKToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const path = "/v2/identity/sdk-tokens"
	anon := h.do(http.MethodPost, path, map[string]any{})
	require.Equal(t, http.StatusOK, anon.status, anon.body)
	require.NotEmpty(t, anon.str("sdk_token"))
	require.Equal(t, testStart.Add(time.Hour).Format(time.RFC3339), anon.str("expires_at"))

	own := h.direct().customerToken("payment:customer_present", "jane@example.com")
	known := h.do(http.MethodPost, path, map[string]any{}, "Klarna-Customer-Token", own)
	require.Equal(t, http.StatusOK, known.status, known.body)
	require.NotEmpty(t, known.str("sdk_token"))
	requireError(t, h.do(http.MethodPost, path, map[string]any{}, "Klarna-Customer-Token", h.customerToken("payment:customer_present", "john@example.com")),
		http.StatusBadRequest, mockserver.CodeValidation, "Klarna-Customer-Token")

	var paths []any
	for _, e := range h.direct().journal("?path_contains=/identity/") {
		paths = append(paths, e.(map[string]any)["path"])
	}
	require.Equal(t, []any{path, path, path}, paths, "journaled under the key's own account")
}

// TestDirectPathsUseTheMappedAccount: with an accounts file, a key's direct calls act on the
// account the file maps it to.
func TestDirectPathsUseTheMappedAccount(t *testing.T) {
	t.Parallel()
	const account = "krn:partner:global:account:test:DIRMAP01"
	accounts, err := mockhttp.LoadAccounts("accounts.yaml", []byte("accounts:\n  - api_key: klarna_test_api_direct\n    partner_account_id: "+account+"\n"))
	require.NoError(t, err)
	h := newHarness(t, withAccounts(accounts)).withKey("klarna_test_api_direct").withAccount(account)
	r := h.do(http.MethodPost, "/v2/payment/authorize", oneTime(1000))
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, mockserver.StateSubmitted, h.state(r.str("payment_request.payment_request_id")))
}

// paymentRequestBody is a Payment Request as Klarna's Payment API reference ("Create a payment
// request") shows its minimal purchase: currency, amount and the customer interaction.
func paymentRequestBody(amount int64) map[string]any {
	return map[string]any{
		"currency":                    "USD",
		"amount":                      amount,
		"payment_request_reference":   "req-1",
		"customer_interaction_config": map[string]any{"method": "HANDOVER", "return_url": journeyReturnURL},
	}
}

// TestCreatePaymentRequest follows Klarna's Payment API reference (v2/r6,
// docs.klarna.com/api/kn/klarna-product-api-payment/klarna-product-api-payment-v2-r6, "Create a
// payment request", served on POST /v2/payment/requests): the request is created SUBMITTED with
// the customer's way into the Purchase Journey, and once the customer completed it, the final
// authorize with its network session token creates the transaction. The account path serves
// the same.
func TestCreatePaymentRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, path := range []string{"/v2/payment/requests", h.path("/payment/requests")} {
		t.Run(path, func(t *testing.T) {
			r := h.within(t).do(http.MethodPost, path, paymentRequestBody(11800), "Klarna-Idempotency-Key", "create-"+path)
			require.Equal(t, http.StatusCreated, r.status, r.body)
			require.Equal(t, mockserver.StateSubmitted, r.str("state"))
			require.Equal(t, float64(11800), r.get("amount"))
			require.Equal(t, "req-1", r.str("payment_request_reference"))
			id := r.str("payment_request_id")
			require.Equal(t, id, r.str("state_context.customer_interaction.payment_request_id"))
			require.Contains(t, r.str("state_context.customer_interaction.payment_request_url"), id)

			done := h.within(t).act(id, "approve")
			require.Equal(t, mockserver.StateCompleted, done.str("state"), done.body)
			final := h.within(t).do(http.MethodPost, strings.TrimSuffix(path, "/requests")+"/authorize", finalAuthorize(11800, "USD"),
				"Klarna-Network-Session-Token", done.str("state_context.klarna_network_session_token"))
			require.Equal(t, http.StatusOK, final.status, final.body)
			require.Equal(t, "APPROVED", final.str("payment_transaction_response.result"), final.body)
		})
	}
}

// TestCreatePaymentRequestRefusals: a Payment Request needs an amount, a customer token request
// or both, and its interaction expiry follows the authorize's rules, named where this body has it.
func TestCreatePaymentRequestRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	nothing := paymentRequestBody(0)
	delete(nothing, "amount")
	long := paymentRequestBody(1000)
	long["customer_interaction_config"].(map[string]any)["interaction_expiry"] = map[string]any{"duration": "P3D"}
	h.requireRejections([]rejection{
		{name: "nothing requested", method: http.MethodPost, path: "/v2/payment/requests", body: nothing, status: http.StatusBadRequest, code: mockserver.CodeValidation, param: "amount"},
		{name: "expiry too long", method: http.MethodPost, path: "/v2/payment/requests", body: long, status: http.StatusBadRequest, code: mockserver.CodeValidation, param: "customer_interaction_config.interaction_expiry.duration"},
		{name: "no customer interaction", method: http.MethodPost, path: "/v2/payment/requests", body: map[string]any{"currency": "USD", "amount": 1000}, status: http.StatusBadRequest, code: mockserver.CodeValidation, param: "customer_interaction_config"},
	})
}

// TestJournalRecordsUnknownRoutes: a call to a path or method Klarna's API does not serve is
// answered 404 or 405 and journaled, under the account its path names (the key's own one for an
// account-less path), so a conformance check sees a client calling a wrong path.
func TestJournalRecordsUnknownRoutes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	requireError(t, h.do(http.MethodPost, h.path("/payment/authorise"), oneTime(1000)), http.StatusNotFound, mockserver.CodeNotFound, "")
	requireError(t, h.do(http.MethodPut, h.path("/payment/authorize"), oneTime(1000)), http.StatusMethodNotAllowed, mockserver.CodeMethodNotAllowed, "")
	requireError(t, h.do(http.MethodPost, "/v2/payment/capture", nil), http.StatusNotFound, mockserver.CodeNotFound, "")

	entries := h.journal("")
	require.Len(t, entries, 2)
	wrong := entries[0].(map[string]any)
	require.Equal(t, h.path("/payment/authorise"), wrong["path"])
	require.Equal(t, float64(http.StatusNotFound), wrong["status"])
	require.Contains(t, wrong["body"], `"order-1"`, "what the client sent is kept")
	require.Equal(t, float64(http.StatusMethodNotAllowed), entries[1].(map[string]any)["status"])

	direct := h.direct().journal("")
	require.Len(t, direct, 1)
	require.Equal(t, "/v2/payment/capture", direct[0].(map[string]any)["path"])

	// Without a key the mock accepts there is no tenant to journal it for; another key's journal
	// never shows it.
	anonymous := h.withKey("")
	requireError(t, anonymous.do(http.MethodGet, h.path("/payment/nothing"), nil, "Authorization", ""), http.StatusNotFound, mockserver.CodeNotFound, "")
	require.Len(t, h.journal(""), 2)
}

// TestWebhookEventTypesAndDuplicates follows Klarna's Notifications API (v2/r6,
// docs.klarna.com/api/kn/klarna-notifications-api/klarna-notifications-v2-r6): its create webhook
// example subscribes to payment.request.state-change.completed,
// payment.transaction.state-change.expired and partner.account.change.created, which the mock
// accepts although it sends only the first; the same configuration again is the 409 Klarna
// answers when "the webhook configuration already exists".
func TestWebhookEventTypesAndDuplicates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	k := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil)
	require.Equal(t, http.StatusCreated, k.status, k.body)
	body := map[string]any{
		"url":            "https://partner.example/klarna/webhooks",
		"event_types":    []string{"payment.request.state-change.completed", "payment.transaction.state-change.expired", "partner.account.change.created"},
		"event_version":  "v2",
		"signing_key_id": k.str("signing_key_id"),
	}
	created := h.do(http.MethodPost, notificationAPI+"/webhooks", body)
	require.Equal(t, http.StatusCreated, created.status, created.body)
	again := h.do(http.MethodPost, notificationAPI+"/webhooks", body)
	requireError(t, again, http.StatusConflict, mockserver.CodeAlreadyExists, "")
	require.Contains(t, again.str("error_message"), created.str("webhook_id"))
}
