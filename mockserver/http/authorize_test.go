package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOneTimePaymentStepsUpWithoutSessionToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(oneTime(11800))
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "STEP_UP_REQUIRED", r.str("payment_transaction_response.result"))
	require.Nil(t, r.get("payment_transaction_response.payment_transaction"))
	require.Nil(t, r.get("customer_token_response"))
	id := r.str("payment_request.payment_request_id")
	require.Regexp(t, `^krn:payment:eu1:request:[0-9a-f-]{36}$`, id)
	require.Equal(t, "SUBMITTED", r.str("payment_request.state"))
	require.Equal(t, "pr-1", r.str("payment_request.payment_request_reference"))
	require.Equal(t, float64(11800), r.get("payment_request.amount"))
	require.Equal(t, testStart.Add(3*time.Hour).Format(time.RFC3339), r.str("payment_request.expires_at"))
	require.Equal(t, "HANDOVER", r.str("payment_request.state_context.customer_interaction.method"))
	require.Equal(t, h.srv.URL+"/journey/"+id, r.str("payment_request.state_context.customer_interaction.payment_request_url"))

	got := h.do(http.MethodGet, h.path("/payment/requests/"+id), nil)
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, id, got.str("payment_request_id"))
}

func TestSDKModeReturnsOnlyTheRequestID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := oneTime(5000)
	body["step_up_config"] = map[string]any{"customer_interaction_config": map[string]any{"method": "SDK"}}
	r := h.authorize(body)
	require.Equal(t, "STEP_UP_REQUIRED", r.str("payment_transaction_response.result"))
	require.Equal(t, r.str("payment_request.payment_request_id"), r.str("payment_request.state_context.customer_interaction.payment_request_id"))
	require.Empty(t, r.str("payment_request.state_context.customer_interaction.payment_request_url"))
}

func TestOneTimePaymentApprovedWithSessionToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := oneTime(11800)
	body["request_payment_transaction"] = map[string]any{"amount": 11800, "payment_transaction_reference": "order-9", "capture": "NOW"}
	r := h.authorize(body, "Klarna-Network-Session-Token", h.testToken("jane@example.com"))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), r.body)
	require.Nil(t, r.get("payment_request"))
	id := r.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.Regexp(t, `^krn:payment:eu1:transaction:[0-9a-f-]{36}$`, id)
	require.Equal(t, "order-9", r.str("payment_transaction_response.payment_transaction.payment_transaction_reference"))
	require.NotEmpty(t, r.str("payment_transaction_response.payment_transaction.payment_captures.0.payment_capture_id"))

	got := h.do(http.MethodGet, h.path("/payment/transactions/"+id), nil)
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, float64(11800), got.get("amount"))
	require.Equal(t, "COMPLETED", got.str("state"), "capture: NOW (Klarna's Auto-capture page)")
}

func TestLegacyInteroperabilityTokenIdentifiesTheCustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(oneTime(1000), "Klarna-Interoperability-Token", h.testToken(""))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), r.body)
}

// TestTokenCreationStepUpThenFinal walks the token creation diagram's step-up branch: step-up,
// the customer consents in the journey, the final authorize yields the transaction and token, and
// a repeated final authorize returns the same transaction.
func TestTokenCreationStepUpThenFinal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(tokenCreation("payment:customer_not_present", true))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("payment_transaction_response.result"), r.body)
	require.Equal(t, "STEP_UP_REQUIRED", r.str("customer_token_response.result"))
	id := r.str("payment_request.payment_request_id")

	done := h.act(id, "approve")
	require.Equal(t, http.StatusOK, done.status, done.body)
	require.Equal(t, "COMPLETED", done.str("state"))
	require.Equal(t, "IN_PROGRESS", done.str("previous_state"))
	nst := done.str("state_context.klarna_network_session_token")
	require.Regexp(t, `^krn:payment:eu1:klarna-network-session-token:[0-9a-f-]{36}$`, nst)
	token := done.str("state_context.klarna_customer.customer_token")
	require.Regexp(t, `^krn:customer-token:eu1:[0-9a-f-]{36}$`, token)

	final := finalAuthorize(11800, "USD")
	f := h.authorize(final, "Klarna-Network-Session-Token", nst)
	require.Equal(t, http.StatusOK, f.status, f.body)
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"))
	require.Equal(t, token, f.str("customer_token_response.customer_token.customer_token"))
	require.Equal(t, []any{"payment:customer_not_present"}, f.get("customer_token_response.customer_token.scopes"))
	tx := f.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, tx)

	// The transaction spent the session token (TestSessionTokenIsSpentByItsTransaction).
	requireError(t, h.authorize(final, "Klarna-Network-Session-Token", nst), http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")

	// The new token charges without the customer.
	c := h.authorize(charge(2500, false, "sub-1"), "Klarna-Customer-Token", token)
	require.Equal(t, "APPROVED", c.str("payment_transaction_response.result"), c.body)
}

func TestTokenOnlyCreation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(tokenCreation("payment:customer_present", false))
	require.Nil(t, r.get("payment_transaction_response"))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("customer_token_response.result"))
	id := r.str("payment_request.payment_request_id")
	done := h.act(id, "approve")
	token := done.str("state_context.klarna_customer.customer_token")
	require.NotEmpty(t, token)
	f := h.authorize(map[string]any{"currency": "USD"}, "Klarna-Network-Session-Token", done.str("state_context.klarna_network_session_token"))
	require.Equal(t, http.StatusOK, f.status, f.body)
	require.Nil(t, f.get("payment_transaction_response"))
	require.Equal(t, token, f.str("customer_token_response.customer_token.customer_token"))
}

func TestTokenCreationApprovedForIdentifiedCustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(tokenCreation("payment:customer_present", true), "Klarna-Network-Session-Token", h.testToken("jane@example.com"))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), r.body)
	require.Equal(t, "APPROVED", r.str("customer_token_response.result"))
	require.Equal(t, "ctr-1", r.str("customer_token_response.customer_token.customer_token_reference"))
	require.NotEmpty(t, r.str("payment_transaction_response.payment_transaction.payment_transaction_id"))
	require.Nil(t, r.get("payment_request"))
}

func TestTokenCreationStepsUpWithoutConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), map[string]any{"consent": false})
	r := h.authorize(tokenCreation("payment:customer_present", false), "Klarna-Network-Session-Token", tok.str("interoperability_token"))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("customer_token_response.result"), r.body)
}

// TestOutcomes is the table of the defaults and magic values of fixtures/default.yaml.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	present := h.customerToken("payment:customer_present", "jane@example.com")
	notPresent := h.customerToken("payment:customer_not_present", "jane@example.com")
	withEmail := func(b map[string]any, email string) map[string]any {
		b["supplementary_purchase_data"] = map[string]any{"customer": map[string]any{"email": email}}
		return b
	}
	for _, tc := range []struct {
		name    string
		body    map[string]any
		headers []string
		result  string
		reason  string
	}{
		{"customer present charge approved", charge(1000, true, "o"), []string{"Klarna-Customer-Token", present}, "APPROVED", ""},
		{"customer present charge steps up by reference", charge(1000, true, "o-stepup"), []string{"Klarna-Customer-Token", present}, "STEP_UP_REQUIRED", ""},
		{"customer present charge declined by reference", charge(1000, true, "o-decline"), []string{"Klarna-Customer-Token", present}, "DECLINED", ""},
		{"subscription charge approved", charge(1000, false, "sub"), []string{"Klarna-Customer-Token", notPresent}, "APPROVED", ""},
		{"subscription charge cannot step up", charge(1000, false, "sub-stepup"), []string{"Klarna-Customer-Token", notPresent}, "DECLINED", "CUSTOMER_NOT_PRESENT"},
		{"subscription charge declined by reference", charge(1000, false, "sub-decline"), []string{"Klarna-Customer-Token", notPresent}, "DECLINED", ""},
		{"subscription charge declined by email", withEmail(charge(1000, false, "sub"), "a+denied@example.com"), []string{"Klarna-Customer-Token", notPresent}, "DECLINED", "RISK_REJECTED"},
		{"denied email declines", withEmail(oneTime(1000), "a+denied@example.com"), nil, "DECLINED", "RISK_REJECTED"},
		{"stepup email steps up an identified customer", withEmail(oneTime(1000), "a+stepup@example.com"), []string{"Klarna-Network-Session-Token", ""}, "STEP_UP_REQUIRED", ""},
		{"require_signup email steps up", withEmail(oneTime(1000), "a+require_signup@example.com"), []string{"Klarna-Network-Session-Token", ""}, "STEP_UP_REQUIRED", ""},
		{"purchase reference declines", func() map[string]any {
			b := oneTime(1000)
			b["supplementary_purchase_data"].(map[string]any)["purchase_reference"] = "p-decline-1"
			return b
		}(), nil, "DECLINED", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := h.within(t)
			headers := tc.headers
			if len(headers) == 2 && headers[0] == "Klarna-Network-Session-Token" {
				headers = []string{headers[0], h.testToken("")}
			}
			r := h.authorize(tc.body, headers...)
			require.Equal(t, http.StatusOK, r.status, r.body)
			require.Equal(t, tc.result, r.str("payment_transaction_response.result"), r.body)
			if tc.reason != "" {
				require.Equal(t, tc.reason, r.str("payment_transaction_response.result_reason"))
			}
			if tc.result == "STEP_UP_REQUIRED" {
				require.NotEmpty(t, r.str("payment_request.payment_request_id"))
			} else {
				require.Nil(t, r.get("payment_request"))
			}
		})
	}
}

// TestAuthorizeRejections is the table of authorizations and presentations refused for what they
// ask with: tokens of the wrong scope, account or state, and interaction expiries out of bounds.
func TestAuthorizeRejections(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	present := h.customerToken("payment:customer_present", "")
	notPresent := h.customerToken("payment:customer_not_present", "")
	authorize := h.path("/payment/authorize")
	expiring := func(expiry map[string]any) map[string]any { return withInteractionExpiry(oneTime(1000), expiry) }
	const expiryDuration = "step_up_config.customer_interaction_config.interaction_expiry.duration"
	h.requireRejections([]rejection{
		{"present token charged without the customer", http.MethodPost, authorize, charge(1000, false, "o"), []string{"Klarna-Customer-Token", present}, 400, "VALIDATION_ERROR", "Klarna-Customer-Token"},
		{"not-present token charged with the customer", http.MethodPost, authorize, charge(1000, true, "o"), []string{"Klarna-Customer-Token", notPresent}, 400, "VALIDATION_ERROR", "Klarna-Customer-Token"},
		{"unknown customer token", http.MethodPost, authorize, charge(1000, true, "o"), []string{"Klarna-Customer-Token", "krn:customer-token:eu1:" + unknownID}, 400, "VALIDATION_ERROR", "Klarna-Customer-Token"},
		// Tokens are visible only to their own account: another key cannot use or see them.
		{"another key's customer token", http.MethodPost, authorize, charge(1000, true, "o"), []string{"Klarna-Customer-Token", present, "Authorization", "Basic " + newKey()}, 400, "VALIDATION_ERROR", "Klarna-Customer-Token"},
		{"unknown network session token", http.MethodPost, authorize, finalAuthorize(1000, "USD"), []string{"Klarna-Network-Session-Token", "krn:payment:eu1:klarna-network-session-token:" + unknownID}, 400, "VALIDATION_ERROR", "Klarna-Network-Session-Token"},
		{"presentation for a malformed token", http.MethodGet, h.path("/payment/presentation?currency=USD"), nil, []string{"Klarna-Customer-Token", "krn:customer-token:eu1:nope"}, 400, "VALIDATION_ERROR", "Klarna-Customer-Token"},
		{"interaction expiry under 15 minutes", http.MethodPost, authorize, expiring(map[string]any{"duration": "PT14M"}), nil, 400, "VALIDATION_ERROR", expiryDuration},
		{"interaction expiry over 48 hours", http.MethodPost, authorize, expiring(map[string]any{"duration": "P2DT1S"}), nil, 400, "VALIDATION_ERROR", expiryDuration},
		{"interaction expiry not a duration", http.MethodPost, authorize, expiring(map[string]any{"duration": "soon"}), nil, 400, "VALIDATION_ERROR", expiryDuration},
		{"interaction expiry timestamp over 48 hours", http.MethodPost, authorize, expiring(map[string]any{"timestamp": testStart.Add(49 * time.Hour).Format(time.RFC3339)}), nil,
			400, "VALIDATION_ERROR", "step_up_config.customer_interaction_config.interaction_expiry.timestamp"},
	})

	// The longest interaction expiry is accepted.
	r := h.authorize(expiring(map[string]any{"timestamp": testStart.Add(48 * time.Hour).Format(time.RFC3339)}))
	require.Equal(t, testStart.Add(48*time.Hour).Format(time.RFC3339), r.str("payment_request.expires_at"), r.body)
}

func TestRevokedTokenIsRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	present := h.customerToken("payment:customer_present", "")
	revoke := "/mock/v1/accounts/" + h.account + "/customer-tokens/" + present + "/revoke"
	rev := h.do(http.MethodPost, revoke, nil)
	require.Equal(t, http.StatusOK, rev.status, rev.body)
	require.Equal(t, "REVOKED", rev.str("status"))
	r := h.authorize(charge(1000, true, "o"), "Klarna-Customer-Token", present)
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
	require.Contains(t, r.str("error_message"), "revoked")
	requireError(t, h.do(http.MethodPost, revoke, nil), http.StatusConflict, "INVALID_STATE_TRANSITION", "")
}

// TestFinalAuthorizeRejections is the table of final authorizations refused after the customer
// approved: each row gets a fresh mock, as some move its clock or cancel the request.
func TestFinalAuthorizeRejections(t *testing.T) {
	t.Parallel()
	withStepUp := finalAuthorize(1000, "USD")
	withStepUp["step_up_config"] = stepUpConfig("x")
	for _, tc := range []struct {
		name string
		// meanwhile happens between the customer's approval and the final authorize.
		meanwhile func(h *harness, id string)
		body      map[string]any
		param     string
		// message is part of the error_message, when it matters.
		message string
	}{
		{"amount differs", nil, finalAuthorize(999, "USD"), "request_payment_transaction.amount", ""},
		{"currency differs", nil, finalAuthorize(1000, "EUR"), "currency", ""},
		{"window passed", func(h *harness, _ string) { h.clock.Advance(60*time.Minute + time.Second) }, finalAuthorize(1000, "USD"), "Klarna-Network-Session-Token", "60-minute"},
		{"request no longer completed", func(h *harness, id string) {
			c := h.cancel(id)
			require.Equal(h.t, "CANCELED", c.str("state"), c.body)
		}, finalAuthorize(1000, "USD"), "Klarna-Network-Session-Token", "CANCELED"},
		{"step_up_config on final", nil, withStepUp, "step_up_config", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			id, nst := h.completedRequest(1000)
			if tc.meanwhile != nil {
				tc.meanwhile(h, id)
			}
			r := h.authorize(tc.body, "Klarna-Network-Session-Token", nst)
			requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", tc.param)
			require.Contains(t, r.str("error_message"), tc.message)
		})
	}
}

func TestFinalAuthorizeWithinTheWindow(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, nst := h.completedRequest(1000)
	h.clock.Advance(59 * time.Minute)
	r := h.authorize(finalAuthorize(1000, "USD"), "Klarna-Network-Session-Token", nst)
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), r.body)
}

func TestCancelAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(oneTime(1000))
	c := h.cancel(id)
	require.Equal(t, http.StatusOK, c.status, c.body)
	require.Equal(t, "CANCELED", c.str("state"))
	require.Equal(t, "PARTNER_CANCELED", c.str("state_reason"))
	require.Equal(t, "SUBMITTED", c.str("previous_state"))
	require.NotEmpty(t, c.str("canceled_at"))
	requireError(t, h.cancel(id), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	// A finalized request can no longer be canceled.
	done, nst := h.completedRequest(1000)
	f := h.authorize(finalAuthorize(1000, "USD"), "Klarna-Network-Session-Token", nst)
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"))
	requireError(t, h.cancel(done), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	// Expiry runs on the clock: 3 hours by default, or interaction_expiry.
	open := h.stepUp(oneTime(1000))
	short := h.stepUp(withInteractionExpiry(oneTime(1000), map[string]any{"duration": "PT15M"}))
	h.clock.Advance(15 * time.Minute)
	require.Equal(t, "EXPIRED", h.state(short))
	require.Equal(t, "SUBMITTED", h.state(open))
	h.clock.Advance(3 * time.Hour)
	expired := h.request(open)
	require.Equal(t, "EXPIRED", expired.str("state"))
	require.Equal(t, "EXPIRED", expired.str("state_reason"))
	requireError(t, h.act(open, "approve"), http.StatusConflict, "INVALID_STATE_TRANSITION", "")
}

// TestJournalKeepsWhatWasSent checks the journal holds the authorize exactly as sent, network
// data included, and never the API key.
func TestJournalKeepsWhatWasSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := oneTime(1000)
	data := `{"content_type":"application/vnd.klarna.interoperability-data.v2+json","content":{"x":1}}`
	body["klarna_network_data"] = data
	r := h.authorize(body, "Klarna-Idempotency-Key", "journal-1")
	require.Equal(t, http.StatusOK, r.status, r.body)
	h.withKey(newKey()).authorize(oneTime(1000))

	j := h.do(http.MethodGet, "/mock/v1/accounts/"+h.account+"/journal?path_contains=/payment/authorize", nil)
	require.Equal(t, http.StatusOK, j.status, j.body)
	entries := j.get("entries").([]any)
	require.Len(t, entries, 1, "another key's requests are not in this key's journal")
	e := entries[0].(map[string]any)
	require.Equal(t, "journal-1", e["headers"].(map[string]any)["Klarna-Idempotency-Key"])
	require.NotContains(t, e["headers"], "Authorization")
	require.Equal(t, float64(200), e["status"])
	var sent map[string]any
	require.NoError(t, json.Unmarshal([]byte(e["body"].(string)), &sent))
	require.Equal(t, data, sent["klarna_network_data"])

	since := int(e["seq"].(float64))
	require.Empty(t, h.do(http.MethodGet, fmt.Sprintf("/mock/v1/accounts/%s/journal?since=%d", h.account, since), nil).get("entries"))
}
