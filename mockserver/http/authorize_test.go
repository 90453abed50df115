package http_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
)

// customerToken creates an approved customer token with scope, as an identified customer would.
func (h *harness) customerToken(scope, email string) string {
	h.t.Helper()
	r := h.authorize(tokenCreation(scope, false), "Klarna-Network-Session-Token", h.testToken(email))
	require.Equal(h.t, http.StatusOK, r.status, string(r.body))
	require.Equal(h.t, "APPROVED", r.str("customer_token_response.result"), string(r.body))
	return r.str("customer_token_response.customer_token.customer_token")
}

func TestOneTimePaymentStepsUpWithoutSessionToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	r := h.authorize(oneTime(11800))
	require.Equal(t, http.StatusOK, r.status, string(r.body))
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
	h := newHarness(t, app.Config{})
	body := oneTime(5000)
	body["step_up_config"] = map[string]any{"customer_interaction_config": map[string]any{"method": "SDK"}}
	r := h.authorize(body)
	require.Equal(t, "STEP_UP_REQUIRED", r.str("payment_transaction_response.result"))
	require.Equal(t, r.str("payment_request.payment_request_id"), r.str("payment_request.state_context.customer_interaction.payment_request_id"))
	require.Empty(t, r.str("payment_request.state_context.customer_interaction.payment_request_url"))
}

func TestOneTimePaymentApprovedWithSessionToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	body := oneTime(11800)
	body["request_payment_transaction"] = map[string]any{"amount": 11800, "payment_transaction_reference": "order-9", "capture": "NOW"}
	r := h.authorize(body, "Klarna-Network-Session-Token", h.testToken("jane@example.com"))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), string(r.body))
	require.Nil(t, r.get("payment_request"))
	id := r.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.Regexp(t, `^krn:payment:eu1:transaction:[0-9a-f-]{36}$`, id)
	require.Equal(t, "order-9", r.str("payment_transaction_response.payment_transaction.payment_transaction_reference"))
	require.NotEmpty(t, r.str("payment_transaction_response.payment_transaction.payment_captures.0.payment_capture_id"))

	got := h.do(http.MethodGet, h.path("/payment/transactions/"+id), nil)
	require.Equal(t, http.StatusOK, got.status)
	require.Equal(t, float64(11800), got.get("amount"))
	require.Equal(t, "AUTHORIZED", got.str("state"))
}

func TestLegacyInteroperabilityTokenIdentifiesTheCustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	r := h.authorize(oneTime(1000), "Klarna-Interoperability-Token", h.testToken(""))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), string(r.body))
}

// TestTokenCreationStepUpThenFinal walks the token creation diagram's step-up branch: step-up,
// the customer consents in the journey, the final authorize yields the transaction and token, and
// a repeated final authorize returns the same transaction.
func TestTokenCreationStepUpThenFinal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	r := h.authorize(tokenCreation("payment:customer_not_present", true))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("payment_transaction_response.result"), string(r.body))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("customer_token_response.result"))
	id := r.str("payment_request.payment_request_id")

	done := h.act(id, "approve")
	require.Equal(t, http.StatusOK, done.status, string(done.body))
	require.Equal(t, "COMPLETED", done.str("state"))
	require.Equal(t, "IN_PROGRESS", done.str("previous_state"))
	nst := done.str("state_context.klarna_network_session_token")
	require.Regexp(t, `^krn:payment:eu1:klarna-network-session-token:[0-9a-f-]{36}$`, nst)
	token := done.str("state_context.customer_token.customer_token")
	require.Regexp(t, `^krn:customer-token:eu1:[0-9a-f-]{36}$`, token)

	final := map[string]any{"currency": "USD", "request_payment_transaction": purchase(11800, "order-tok")}
	f := h.authorize(final, "Klarna-Network-Session-Token", nst)
	require.Equal(t, http.StatusOK, f.status, string(f.body))
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"))
	require.Equal(t, token, f.str("customer_token_response.customer_token.customer_token"))
	require.Equal(t, []any{"payment:customer_not_present"}, f.get("customer_token_response.customer_token.scopes"))
	tx := f.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, tx)

	again := h.authorize(final, "Klarna-Network-Session-Token", nst)
	require.Equal(t, tx, again.str("payment_transaction_response.payment_transaction.payment_transaction_id"), "the final authorize is idempotent per token")

	legacy := h.authorize(final, "Klarna-Payment-Token", nst)
	require.Equal(t, tx, legacy.str("payment_transaction_response.payment_transaction.payment_transaction_id"))

	// The new token charges without the customer.
	c := h.authorize(charge(2500, false, "sub-1"), "Klarna-Customer-Token", token)
	require.Equal(t, "APPROVED", c.str("payment_transaction_response.result"), string(c.body))
}

func TestTokenOnlyCreation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	r := h.authorize(tokenCreation("payment:customer_present", false))
	require.Nil(t, r.get("payment_transaction_response"))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("customer_token_response.result"))
	id := r.str("payment_request.payment_request_id")
	done := h.act(id, "approve")
	token := done.str("state_context.customer_token.customer_token")
	require.NotEmpty(t, token)
	f := h.authorize(map[string]any{"currency": "USD"}, "Klarna-Network-Session-Token", done.str("state_context.klarna_network_session_token"))
	require.Equal(t, http.StatusOK, f.status, string(f.body))
	require.Nil(t, f.get("payment_transaction_response"))
	require.Equal(t, token, f.str("customer_token_response.customer_token.customer_token"))
}

func TestTokenCreationApprovedForIdentifiedCustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	r := h.authorize(tokenCreation("payment:customer_present", true), "Klarna-Network-Session-Token", h.testToken("jane@example.com"))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), string(r.body))
	require.Equal(t, "APPROVED", r.str("customer_token_response.result"))
	require.Equal(t, "ctr-1", r.str("customer_token_response.customer_token.customer_token_reference"))
	require.NotEmpty(t, r.str("payment_transaction_response.payment_transaction.payment_transaction_id"))
	require.Nil(t, r.get("payment_request"))
}

func TestTokenCreationStepsUpWithoutConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	tok := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), map[string]any{"consent": false})
	r := h.authorize(tokenCreation("payment:customer_present", false), "Klarna-Network-Session-Token", tok.str("klarna_network_session_token"))
	require.Equal(t, "STEP_UP_REQUIRED", r.str("customer_token_response.result"), string(r.body))
}

// TestOutcomes is the table of the defaults and magic values of fixtures/default.yaml.
func TestOutcomes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
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
			headers := tc.headers
			if len(headers) == 2 && headers[0] == "Klarna-Network-Session-Token" {
				headers = []string{headers[0], h.testToken("")}
			}
			r := h.authorize(tc.body, headers...)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, tc.result, r.str("payment_transaction_response.result"), string(r.body))
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

func TestTokenScopesAndStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	present := h.customerToken("payment:customer_present", "")
	notPresent := h.customerToken("payment:customer_not_present", "")

	r := h.authorize(charge(1000, false, "o"), "Klarna-Customer-Token", present)
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
	r = h.authorize(charge(1000, true, "o"), "Klarna-Customer-Token", notPresent)
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
	r = h.authorize(charge(1000, true, "o"), "Klarna-Customer-Token", "krn:customer-token:eu1:00000000-0000-4000-8000-000000000000")
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")

	// Tokens are visible only to their own account: another key cannot use or see them.
	other := *h
	other.key = newKey()
	r = other.authorize(charge(1000, true, "o"), "Klarna-Customer-Token", present)
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")

	rev := h.do(http.MethodPost, "/mock/v1/accounts/"+h.account+"/customer-tokens/"+present+"/revoke", nil)
	require.Equal(t, http.StatusOK, rev.status, string(rev.body))
	require.Equal(t, "REVOKED", rev.str("status"))
	r = h.authorize(charge(1000, true, "o"), "Klarna-Customer-Token", present)
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
	require.Contains(t, r.str("error_message"), "revoked")
	again := h.do(http.MethodPost, "/mock/v1/accounts/"+h.account+"/customer-tokens/"+present+"/revoke", nil)
	requireError(t, again, http.StatusConflict, "INVALID_STATE_TRANSITION", "")
}

// completedRequest steps up a one-time payment and has the customer approve it, returning the
// request id and its network session token.
func (h *harness) completedRequest(amount int64) (id, nst string) {
	h.t.Helper()
	r := h.authorize(oneTime(amount))
	id = r.str("payment_request.payment_request_id")
	done := h.act(id, "approve")
	require.Equal(h.t, "COMPLETED", done.str("state"), string(done.body))
	return id, done.str("state_context.klarna_network_session_token")
}

func TestFinalAuthorizeRejections(t *testing.T) {
	t.Parallel()
	final := func(amount int64, currency string) map[string]any {
		return map[string]any{"currency": currency, "request_payment_transaction": purchase(amount, "order-1")}
	}
	t.Run("unknown token", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		r := h.authorize(final(1000, "USD"), "Klarna-Network-Session-Token", "krn:payment:eu1:klarna-network-session-token:00000000-0000-4000-8000-000000000000")
		requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")
	})
	t.Run("amount differs", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		_, nst := h.completedRequest(1000)
		r := h.authorize(final(999, "USD"), "Klarna-Network-Session-Token", nst)
		requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "request_payment_transaction.amount")
	})
	t.Run("currency differs", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		_, nst := h.completedRequest(1000)
		r := h.authorize(final(1000, "EUR"), "Klarna-Network-Session-Token", nst)
		requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "currency")
	})
	t.Run("window passed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		_, nst := h.completedRequest(1000)
		h.clock.Advance(60*time.Minute + time.Second)
		r := h.authorize(final(1000, "USD"), "Klarna-Network-Session-Token", nst)
		requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")
		require.Contains(t, r.str("error_message"), "60-minute")
	})
	t.Run("within window", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		_, nst := h.completedRequest(1000)
		h.clock.Advance(59 * time.Minute)
		r := h.authorize(final(1000, "USD"), "Klarna-Network-Session-Token", nst)
		require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), string(r.body))
	})
	t.Run("request no longer completed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		id, nst := h.completedRequest(1000)
		c := h.do(http.MethodDelete, h.path("/payment/requests/"+id), nil)
		require.Equal(t, "CANCELED", c.str("state"), string(c.body))
		r := h.authorize(final(1000, "USD"), "Klarna-Network-Session-Token", nst)
		requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")
		require.Contains(t, r.str("error_message"), "CANCELED")
	})
	t.Run("step_up_config on final", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, app.Config{})
		_, nst := h.completedRequest(1000)
		body := final(1000, "USD")
		body["step_up_config"] = stepUpConfig("x")
		r := h.authorize(body, "Klarna-Network-Session-Token", nst)
		requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "step_up_config")
	})
}

func TestCancelAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	id := h.authorize(oneTime(1000)).str("payment_request.payment_request_id")
	c := h.do(http.MethodDelete, h.path("/payment/requests/"+id), nil)
	require.Equal(t, http.StatusOK, c.status, string(c.body))
	require.Equal(t, "CANCELED", c.str("state"))
	require.Equal(t, "PARTNER_CANCELED", c.str("state_reason"))
	require.Equal(t, "SUBMITTED", c.str("previous_state"))
	require.NotEmpty(t, c.str("canceled_at"))
	requireError(t, h.do(http.MethodDelete, h.path("/payment/requests/"+id), nil), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	// A finalized request can no longer be canceled.
	done, nst := h.completedRequest(1000)
	f := h.authorize(map[string]any{"currency": "USD", "request_payment_transaction": purchase(1000, "x")}, "Klarna-Network-Session-Token", nst)
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"))
	requireError(t, h.do(http.MethodDelete, h.path("/payment/requests/"+done), nil), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	// Expiry runs on the clock: 3 hours by default, or interaction_expiry.
	open := h.authorize(oneTime(1000)).str("payment_request.payment_request_id")
	body := oneTime(1000)
	body["step_up_config"].(map[string]any)["customer_interaction_config"].(map[string]any)["interaction_expiry"] = map[string]any{"duration": "PT15M"}
	short := h.authorize(body).str("payment_request.payment_request_id")
	h.clock.Advance(15 * time.Minute)
	require.Equal(t, "EXPIRED", h.do(http.MethodGet, h.path("/payment/requests/"+short), nil).str("state"))
	require.Equal(t, "SUBMITTED", h.do(http.MethodGet, h.path("/payment/requests/"+open), nil).str("state"))
	h.clock.Advance(3 * time.Hour)
	expired := h.do(http.MethodGet, h.path("/payment/requests/"+open), nil)
	require.Equal(t, "EXPIRED", expired.str("state"))
	require.Equal(t, "EXPIRED", expired.str("state_reason"))
	requireError(t, h.act(open, "approve"), http.StatusConflict, "INVALID_STATE_TRANSITION", "")
}

func TestInteractionExpiryBounds(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	for _, tc := range []struct {
		expiry map[string]any
		param  string
	}{
		{map[string]any{"duration": "PT14M"}, "step_up_config.customer_interaction_config.interaction_expiry.duration"},
		{map[string]any{"duration": "P2DT1S"}, "step_up_config.customer_interaction_config.interaction_expiry.duration"},
		{map[string]any{"duration": "soon"}, "step_up_config.customer_interaction_config.interaction_expiry.duration"},
		{map[string]any{"timestamp": testStart.Add(49 * time.Hour).Format(time.RFC3339)}, "step_up_config.customer_interaction_config.interaction_expiry.timestamp"},
	} {
		body := oneTime(1000)
		body["step_up_config"].(map[string]any)["customer_interaction_config"].(map[string]any)["interaction_expiry"] = tc.expiry
		requireError(t, h.authorize(body), http.StatusBadRequest, "VALIDATION_ERROR", tc.param)
	}
	body := oneTime(1000)
	body["step_up_config"].(map[string]any)["customer_interaction_config"].(map[string]any)["interaction_expiry"] = map[string]any{"timestamp": testStart.Add(48 * time.Hour).Format(time.RFC3339)}
	r := h.authorize(body)
	require.Equal(t, testStart.Add(48*time.Hour).Format(time.RFC3339), r.str("payment_request.expires_at"), string(r.body))
}

func TestPresentation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	p := h.do(http.MethodGet, h.path("/payment/presentation?currency=USD&locale=en-US&amount=11836&intents[]=PAY"), nil)
	require.Equal(t, http.StatusOK, p.status, string(p.body))
	require.Equal(t, "SHOW_KLARNA", p.str("instruction"))
	require.Contains(t, p.str("payment_option.message.text"), "29.59 USD")

	token := h.customerToken("payment:customer_present", "jane@example.com")
	personal := h.do(http.MethodGet, h.path("/payment/presentation?currency=USD&intents[]=PAY"), nil, "Klarna-Customer-Token", token)
	require.Equal(t, "PRESELECT_KLARNA", personal.str("instruction"), string(personal.body))

	hidden := h.do(http.MethodGet, h.path("/payment/presentation?currency=JPY"), nil)
	require.Equal(t, "HIDE_KLARNA", hidden.str("instruction"), string(hidden.body))

	bad := h.do(http.MethodGet, h.path("/payment/presentation?currency=USD"), nil, "Klarna-Customer-Token", "krn:customer-token:eu1:nope")
	requireError(t, bad, http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
}

// TestJournalKeepsWhatWasSent checks the journal holds the authorize exactly as sent, network
// data included, and never the API key.
func TestJournalKeepsWhatWasSent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, app.Config{})
	body := oneTime(1000)
	data := `{"content_type":"application/vnd.klarna.interoperability-data.v2+json","content":{"x":1}}`
	body["klarna_network_data"] = data
	r := h.authorize(body, "Klarna-Idempotency-Key", "journal-1")
	require.Equal(t, http.StatusOK, r.status, string(r.body))
	other := *h
	other.key = newKey()
	other.authorize(oneTime(1000))

	j := h.do(http.MethodGet, "/mock/v1/accounts/"+h.account+"/journal?path_contains=/payment/authorize", nil)
	require.Equal(t, http.StatusOK, j.status, string(j.body))
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
