package http_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tests of Klarna's token endpoints and of the tokens' lifecycle. Each names the Klarna page
// it follows; docs/klarna.md §2, §6, §7 and §11 sum them up.

const (
	// interoperabilityAPI is "Klarna Partner Product API - Interoperability (v2/r6)",
	// docs.klarna.com/api/kn/klarna-product-api-interoperability/klarna-product-api-interoperability-v2-r6.
	interoperabilityAPI = "Interoperability API v2/r6"
	// identityAPI is "Klarna Partner Product API - Identity (v2/r6)",
	// docs.klarna.com/api/kn/klarna-product-api-identity/klarna-product-api-identity-v2-r6.
	identityAPI = "Identity API v2/r6"
)

// await waits until the receiver has n verified deliveries of event type typ, and returns their
// payloads.
func (rc *hookReceiver) await(t *testing.T, typ string, n int) []map[string]any {
	t.Helper()
	require.Eventually(t, func() bool { return len(rc.payloads(typ)) >= n }, 10*time.Second, 5*time.Millisecond, typ)
	return rc.payloads(typ)
}

// mintTestToken calls test-tokens with body and headers, expecting a new token, and returns it.
func (h *harness) mintTestToken(body any, headers ...string) string {
	h.t.Helper()
	r := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), body, headers...)
	require.Equal(h.t, http.StatusCreated, r.status, r.body)
	return r.str("interoperability_token")
}

// TestTestTokensTakeKlarnasBody follows what Klarna's test environment serves at test-tokens, as
// a public Klarna client calls it (docs/klarna.md §11; no Klarna page describes it): the body
// {"customer_journey"}, answered with interoperability_token. The token works wherever Klarna
// takes one (Klarna-Interoperability-Token, Klarna-Network-Session-Token, on authorize and
// presentation), per the "Klarna Network Session Token" page
// (docs.klarna.com/acquirer/klarna-network/payment-authorization/authorization-resources/klarna-network-session-token/).
func TestTestTokensTakeKlarnasBody(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, journey := range []string{"KLARNA_EXPRESS_CHECKOUT", "SIGN_IN_WITH_KLARNA", "KLARNA_PRE_QUALIFICATION", "KLARNA_ACCOUNT_LINKING"} {
		r := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), map[string]any{"customer_journey": journey})
		require.Equal(t, http.StatusCreated, r.status, r.body)
		require.Regexp(t, `^krn:payment:eu1:klarna-network-session-token:[0-9a-f-]{36}$`, r.str("interoperability_token"), journey)
		require.Nil(t, r.get("klarna_network_session_token"), "Klarna's field only")
		require.Equal(t, testStart.Add(time.Hour).Format(time.RFC3339), r.str("expires_at"))
	}
	for _, header := range []string{"Klarna-Interoperability-Token", "Klarna-Network-Session-Token"} {
		tok := h.mintTestToken(map[string]any{"customer_journey": "KLARNA_EXPRESS_CHECKOUT"})
		a := h.authorize(oneTime(2500), header, tok)
		require.Equal(t, "APPROVED", a.str("payment_transaction_response.result"), "%s: %s", header, a.body)
		p := h.do(http.MethodGet, h.path("/payment/presentation?currency=USD&locale=en-US&amount=2500&intents[]=PAY"), nil, header, tok)
		require.Equal(t, http.StatusOK, p.status, p.body)
		require.Equal(t, "PRESELECT_KLARNA", p.str("instruction"), header)
	}

	// The mock's own extras stay optional fields beside Klarna's.
	declined := h.mintTestToken(map[string]any{"customer_journey": "SIGN_IN_WITH_KLARNA", "email": "jane+denied@example.com"})
	require.Equal(t, "DECLINED", h.authorize(oneTime(2500), "Klarna-Interoperability-Token", declined).str("payment_transaction_response.result"))
	unconsenting := h.mintTestToken(map[string]any{"consent": false})
	require.Equal(t, "STEP_UP_REQUIRED", h.authorize(tokenCreation("payment:customer_present", false),
		"Klarna-Network-Session-Token", unconsenting).str("customer_token_response.result"))

	h.requireRejections([]rejection{
		{name: "unknown journey", method: http.MethodPost, path: h.path("/interoperability/test-tokens"),
			body: map[string]any{"customer_journey": "KLARNA_CHECKOUT"}, status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "customer_journey"},
		{name: "unknown customer token", method: http.MethodPost, path: h.path("/interoperability/test-tokens"),
			body: map[string]any{"customer_journey": "KLARNA_EXPRESS_CHECKOUT"}, headers: []string{"Klarna-Customer-Token", "krn:customer-token:eu1:" + unknownID},
			status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "Klarna-Customer-Token"},
	})
}

// TestTestTokenStandsForTheCustomerOfACustomerToken follows the test environment's optional
// Klarna-Customer-Token and Klarna-Customer-Region headers of test-tokens (docs/klarna.md §11):
// the customer behind the customer token is the identified one. The customer's email shows it:
// a customer whose email needs a step-up (+stepup@) is stepped up again when paying with the
// token minted for them, where a plain identified customer is approved.
func TestTestTokenStandsForTheCustomerOfACustomerToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := tokenCreation("payment:customer_present", false)
	body["supplementary_purchase_data"] = map[string]any{"customer": map[string]any{"email": "jane+stepup@example.com"}}
	id := h.stepUp(body)
	customer := h.act(id, "approve").str("state_context.klarna_customer.customer_token")
	require.NotEmpty(t, customer)

	tok := h.mintTestToken(map[string]any{"customer_journey": "KLARNA_ACCOUNT_LINKING"},
		"Klarna-Customer-Token", customer, "Klarna-Customer-Region", "krn:test:us1:test")
	a := h.authorize(oneTime(2500), "Klarna-Interoperability-Token", tok)
	require.Equal(t, "STEP_UP_REQUIRED", a.str("payment_transaction_response.result"), a.body)

	plain := h.mintTestToken(map[string]any{"customer_journey": "KLARNA_ACCOUNT_LINKING"})
	require.Equal(t, "APPROVED", h.authorize(oneTime(2500), "Klarna-Interoperability-Token", plain).str("payment_transaction_response.result"))

	h.do(http.MethodPost, h.path("/identity/customer-tokens/revoke"), nil, "X-Klarna-Customer-Token", customer)
	requireError(t, h.do(http.MethodPost, h.path("/interoperability/test-tokens"), map[string]any{"customer_journey": "KLARNA_ACCOUNT_LINKING"},
		"Klarna-Customer-Token", customer), http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
}

// TestInteroperabilitySDKTokens follows the Interoperability API's "Generate SDK token"
// (interoperabilityAPI): POST .../interoperability/sdk-tokens with Klarna-Interoperability-Token
// and no body answers {sdk_token}.
func TestInteroperabilitySDKTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	path := h.path("/interoperability/sdk-tokens")
	tok := h.mintTestToken(map[string]any{"customer_journey": "KLARNA_EXPRESS_CHECKOUT"})
	r := h.do(http.MethodPost, path, nil, "Klarna-Interoperability-Token", tok)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotEmpty(t, r.str("sdk_token"), interoperabilityAPI)
	other := h.do(http.MethodPost, path, nil, "Klarna-Interoperability-Token", tok)
	require.NotEqual(t, r.str("sdk_token"), other.str("sdk_token"))

	// A completed Payment Request's session token is an interoperability token too.
	_, nst := h.completedRequest(2500)
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, path, nil, "Klarna-Interoperability-Token", nst).status)

	h.requireRejections([]rejection{
		{name: "no token", method: http.MethodPost, path: path, status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "Klarna-Interoperability-Token"},
		{name: "unknown token", method: http.MethodPost, path: path, headers: []string{"Klarna-Interoperability-Token", "krn:payment:eu1:klarna-network-session-token:" + unknownID},
			status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "Klarna-Interoperability-Token"},
	})
	requireError(t, h.withKey(newKey()).do(http.MethodPost, path, nil, "Klarna-Interoperability-Token", tok),
		http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Interoperability-Token")
	h.clock.Advance(time.Hour)
	requireError(t, h.do(http.MethodPost, path, nil, "Klarna-Interoperability-Token", tok), http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Interoperability-Token")
}

// TestIdentitySDKTokens follows the Identity API's SDK token call as the public Klarna client
// calls it (docs/klarna.md §2): POST .../identity/sdk-tokens with body {} and an optional
// Klarna-Customer-Token answers {sdk_token, expires_at}.
func TestIdentitySDKTokens(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	path := h.path("/identity/sdk-tokens")
	anon := h.do(http.MethodPost, path, map[string]any{})
	require.Equal(t, http.StatusOK, anon.status, anon.body)
	require.NotEmpty(t, anon.str("sdk_token"), identityAPI)
	require.Equal(t, testStart.Add(time.Hour).Format(time.RFC3339), anon.str("expires_at"))
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, path, nil).status, "the body may be left out")

	token := h.customerToken("payment:customer_present", "jane@example.com")
	known := h.do(http.MethodPost, path, map[string]any{}, "Klarna-Customer-Token", token)
	require.Equal(t, http.StatusOK, known.status, known.body)
	require.NotEmpty(t, known.str("sdk_token"))

	h.do(http.MethodPost, h.path("/identity/customer-tokens/revoke"), nil, "X-Klarna-Customer-Token", token)
	h.requireRejections([]rejection{
		{name: "revoked token", method: http.MethodPost, path: path, body: map[string]any{}, headers: []string{"Klarna-Customer-Token", token},
			status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "Klarna-Customer-Token"},
		{name: "unknown token", method: http.MethodPost, path: path, body: map[string]any{}, headers: []string{"Klarna-Customer-Token", "krn:customer-token:eu1:" + unknownID},
			status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "Klarna-Customer-Token"},
	})
}

// TestIdentityAPIReadsAndRevokesACustomerToken follows the Identity API's introspection and
// revocation of a customer token (identityAPI): the token in X-Klarna-Customer-Token; the read
// answers {status, scopes, issued_at, customer_token_reference}; after the revocation every
// charge with the token is rejected, and the revocation is announced by
// identity.customer-token.state-change.revoked.
func TestIdentityAPIReadsAndRevokesACustomerToken(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "s3cret")
	h := newHarness(t, withStaticWebhook(rc.url, rc.secret))
	introspect, revoke := h.path("/identity/customer-tokens/introspect"), h.path("/identity/customer-tokens/revoke")
	token := h.customerToken("payment:customer_not_present", "jane@example.com")

	got := h.do(http.MethodPost, introspect, nil, "X-Klarna-Customer-Token", token)
	require.Equal(t, http.StatusOK, got.status, got.body)
	require.Equal(t, "ACTIVE", got.str("status"), identityAPI)
	require.Equal(t, []any{"payment:customer_not_present"}, got.get("scopes"))
	require.Equal(t, float64(testStart.UnixMilli()), got.get("issued_at"))
	require.Equal(t, "ctr-1", got.str("customer_token_reference"))

	r := h.do(http.MethodPost, revoke, nil, "X-Klarna-Customer-Token", token)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "ctr-1", r.str("customer_token_reference"))
	requireError(t, h.authorize(charge(2500, false, "renewal-1"), "Klarna-Customer-Token", token), http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
	require.Equal(t, token, rc.await(t, "identity.customer-token.state-change.revoked", 1)[0]["customer_token"])
	ctl := h.do(http.MethodGet, "/mock/v1/accounts/"+h.account+"/customer-tokens/"+token, nil)
	require.Equal(t, "REVOKED", ctl.str("status"), "the mock's control API sees the same token")

	h.requireRejections([]rejection{
		{name: "read a revoked token", method: http.MethodPost, path: introspect, headers: []string{"X-Klarna-Customer-Token", token},
			status: http.StatusConflict, code: "INVALID_STATE_TRANSITION"},
		{name: "revoke twice", method: http.MethodPost, path: revoke, headers: []string{"X-Klarna-Customer-Token", token},
			status: http.StatusConflict, code: "INVALID_STATE_TRANSITION"},
		{name: "unknown token", method: http.MethodPost, path: introspect, headers: []string{"X-Klarna-Customer-Token", "krn:customer-token:eu1:" + unknownID},
			status: http.StatusNotFound, code: "NOT_FOUND"},
		{name: "no token", method: http.MethodPost, path: revoke, status: http.StatusBadRequest, code: "VALIDATION_ERROR", param: "X-Klarna-Customer-Token"},
	})
	other := h.customerToken("payment:customer_present", "john@example.com")
	requireError(t, h.withKey(newKey()).do(http.MethodPost, revoke, nil, "X-Klarna-Customer-Token", other), http.StatusNotFound, "NOT_FOUND", "")
	require.Equal(t, "ACTIVE", h.do(http.MethodPost, introspect, nil, "X-Klarna-Customer-Token", other).str("status"), "another tenant cannot revoke it")
	require.Len(t, rc.payloads(""), 1, "the revocation is the token's only event: Klarna documents none for its creation")
}

// TestWebhooksTakeKlarnasTokenEventName follows the Identity API's event name (identityAPI): a
// webhook may subscribe to identity.customer-token.state-change.revoked.
func TestWebhooksTakeKlarnasTokenEventName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	rcv := newHookReceiver(t, "")
	keyID := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil).str("signing_key_id")
	for _, types := range [][]string{{"identity.customer-token.state-change.revoked"}, {"identity.*"}} {
		wh := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": rcv.url + "/" + types[0], "event_types": types, "signing_key_id": keyID})
		require.Equal(t, http.StatusCreated, wh.status, wh.body)
	}
}

// TestTokenOnlyCreationHandsTheTokenOverInKlarnaCustomer follows "Token creation - Monitor the
// state" (docs.klarna.com/klarna-network-distribution/payments/tokenized-payments/server-side-only-integration/token-creation/monitor-the-payment-request-state):
// when only a token was requested, no final authorize is needed; the token is in the completed
// Payment Request, under state_context.klarna_customer as the Web SDK's KlarnaCustomer names it
// (docs.klarna.com/websdk/v2/interfaces/common.KlarnaCustomer.html), in the read and in the
// completed webhook's payload. The legacy payment_token comes beside the session token
// ("Klarna Network Session Token" page). A final authorize sent anyway answers the same token
// and spends the session token (the mock's choice, docs/api.md).
func TestTokenOnlyCreationHandsTheTokenOverInKlarnaCustomer(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "s3cret")
	h := newHarness(t, withStaticWebhook(rc.url, rc.secret))
	id := h.stepUp(tokenCreation("payment:customer_not_present", false))
	h.act(id, "approve")

	read := h.request(id)
	token := read.str("state_context.klarna_customer.customer_token")
	require.Regexp(t, `^krn:customer-token:eu1:[0-9a-f-]{36}$`, token)
	require.Equal(t, "ctr-1", read.str("state_context.klarna_customer.customer_token_reference"))
	require.Nil(t, read.get("state_context.customer_token"))
	nst := read.str("state_context.klarna_network_session_token")
	require.Equal(t, nst, read.str("state_context.payment_token"))

	ctx := rc.await(t, "payment.request.state-change.completed", 1)[0]["state_context"].(map[string]any)
	require.Equal(t, map[string]any{"customer_token": token, "customer_token_reference": "ctr-1"}, ctx["klarna_customer"])
	require.Equal(t, nst, ctx["payment_token"])

	// The token charges at once, without any final authorize.
	require.Equal(t, "APPROVED", h.authorize(charge(2500, false, "sub-1"), "Klarna-Customer-Token", token).str("payment_transaction_response.result"))

	f := h.authorize(map[string]any{"currency": "USD"}, "Klarna-Network-Session-Token", nst)
	require.Equal(t, http.StatusOK, f.status, f.body)
	require.Nil(t, f.get("payment_transaction_response"))
	require.Equal(t, "APPROVED", f.str("customer_token_response.result"))
	require.Equal(t, token, f.str("customer_token_response.customer_token.customer_token"))
	requireError(t, h.authorize(map[string]any{"currency": "USD"}, "Klarna-Network-Session-Token", nst), http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")
}

// TestSessionTokenIsSpentByItsTransaction follows the "Klarna Network Session Token" page
// (docs.klarna.com/acquirer/klarna-network/payment-authorization/authorization-resources/klarna-network-session-token/):
// the token is invalidated once its Payment Transaction is created. A repeat of the final
// authorize with the same Klarna-Idempotency-Key replays the first answer, even hours later;
// any other use of the token, under any of its header names, is refused with a 400 that says
// the token was spent.
func TestSessionTokenIsSpentByItsTransaction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, nst := h.completedRequest(11800)
	final := finalAuthorize(11800, "USD")
	first := h.authorize(final, "Klarna-Network-Session-Token", nst, "Klarna-Idempotency-Key", "final-1")
	require.Equal(t, "APPROVED", first.str("payment_transaction_response.result"), first.body)
	tx := first.str("payment_transaction_response.payment_transaction.payment_transaction_id")

	h.clock.Advance(2 * time.Hour)
	replay := h.authorize(final, "Klarna-Network-Session-Token", nst, "Klarna-Idempotency-Key", "final-1")
	require.Equal(t, http.StatusOK, replay.status, replay.body)
	require.Equal(t, first.body, replay.body, "the same key replays the first answer")

	for _, header := range []string{"Klarna-Network-Session-Token", "Klarna-Payment-Token", "Klarna-Interoperability-Token"} {
		again := h.authorize(final, header, nst)
		requireError(t, again, http.StatusBadRequest, "VALIDATION_ERROR", header)
		require.Contains(t, again.str("error_message"), "spent", header)
		require.Contains(t, again.str("error_message"), tx)
		require.Contains(t, again.str("error_message"), id)
	}
	requireError(t, h.authorize(final, "Klarna-Network-Session-Token", nst, "Klarna-Idempotency-Key", "final-2"),
		http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")
}

// TestLegacyPaymentTokenFinalizes follows the "Klarna Network Session Token" page: payment_token
// is still returned for backward compatibility, so an integration that finalizes with it (as
// Klarna-Payment-Token) still works.
func TestLegacyPaymentTokenFinalizes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id, nst := h.completedRequest(2500)
	legacy := h.request(id).str("state_context.payment_token")
	require.Equal(t, nst, legacy)
	f := h.authorize(finalAuthorize(2500, "USD"), "Klarna-Payment-Token", legacy)
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"), f.body)
}
