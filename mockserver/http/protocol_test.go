package http_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
)

// TestBasicAuthAsUserName: curl -u sends the key base64-encoded as a user name; that works too.
func TestBasicAuthAsUserName(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(oneTime(1000), "Authorization", "Basic "+basic(h.key+":"))
	require.Equal(t, http.StatusOK, r.status, r.body)
}

func TestAccountsFile(t *testing.T) {
	t.Parallel()
	accounts, err := mockhttp.LoadAccounts("accounts.yaml", []byte(`
accounts:
  - api_key: klarna_test_api_team_a
    partner_account_id: krn:partner:global:account:test:TEAMA001
  - api_key: klarna_test_api_team_a2
    partner_account_id: krn:partner:global:account:test:TEAMA001
`))
	require.NoError(t, err)
	h := newHarness(t, withAccounts(accounts)).withKey("klarna_test_api_team_a").withAccount("krn:partner:global:account:test:TEAMA001")
	id := h.stepUp(oneTime(1000))

	// Two keys of one account share its state.
	require.Equal(t, "SUBMITTED", h.withKey("klarna_test_api_team_a2").state(id))

	requireError(t, h.withAccount("krn:partner:global:account:test:TEAMB001").authorize(oneTime(1000)), http.StatusForbidden, "FORBIDDEN", "")
	requireError(t, h.withKey(newKey()).authorize(oneTime(1000)), http.StatusUnauthorized, "UNAUTHORIZED", "")

	for _, bad := range []string{"", "accounts: []", "accounts:\n  - api_key: k\n", "nope: 1", "accounts:\n  - api_key: k\n    partner_account_id: a\n  - api_key: k\n    partner_account_id: b\n"} {
		_, err := mockhttp.LoadAccounts("bad.yaml", []byte(bad))
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "bad.yaml")
	}
}

func TestKeysAreIsolated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(oneTime(1000))
	other := []string{"Authorization", "Basic " + newKey()}
	h.requireRejections([]rejection{
		{"read", http.MethodGet, h.path("/payment/requests/" + id), nil, other, 404, "NOT_FOUND", ""},
		{"cancel", http.MethodDelete, h.path("/payment/requests/" + id), nil, other, 404, "NOT_FOUND", ""},
	})
	require.Equal(t, "SUBMITTED", h.state(id), "nothing stored is lost")
}

func TestIdempotency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	first := h.authorize(oneTime(1000), "Klarna-Idempotency-Key", "key-1")
	again := h.authorize(oneTime(1000), "Klarna-Idempotency-Key", "key-1")
	require.Equal(t, first.body, again.body)

	conflict := h.authorize(oneTime(2000), "Klarna-Idempotency-Key", "key-1")
	requireError(t, conflict, http.StatusConflict, "IDEMPOTENCY_CONFLICT", "Klarna-Idempotency-Key")

	// Another key, and another API key with the same idempotency key, are separate requests.
	fresh := h.authorize(oneTime(1000), "Klarna-Idempotency-Key", "key-2")
	require.NotEqual(t, first.str("payment_request.payment_request_id"), fresh.str("payment_request.payment_request_id"))
	o := h.withKey(newKey()).authorize(oneTime(1000), "Klarna-Idempotency-Key", "key-1")
	require.NotEqual(t, first.str("payment_request.payment_request_id"), o.str("payment_request.payment_request_id"))

	// A rejected request is not stored: correcting it under the same key works.
	bad := h.authorize(map[string]any{"currency": "USD"}, "Klarna-Idempotency-Key", "key-3")
	require.Equal(t, http.StatusBadRequest, bad.status)
	ok := h.authorize(oneTime(1000), "Klarna-Idempotency-Key", "key-3")
	require.Equal(t, http.StatusOK, ok.status, ok.body)

	// After 24 hours the key is forgotten.
	h.clock.Advance(mockhttp.IdempotencyWindow)
	later := h.authorize(oneTime(1000), "Klarna-Idempotency-Key", "key-1")
	require.NotEqual(t, first.str("payment_request.payment_request_id"), later.str("payment_request.payment_request_id"))
}

// TestIdempotencyUnderConcurrency fires duplicates at once: exactly one transaction is created
// and every caller gets it.
func TestIdempotencyUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	token := h.customerToken("payment:customer_not_present", "")
	const n = 24
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := h.authorize(charge(1000, false, "sub"), "Klarna-Customer-Token", token, "Klarna-Idempotency-Key", "same-key")
			ids[i] = r.str("payment_transaction_response.payment_transaction.payment_transaction_id")
		}()
	}
	wg.Wait()
	for _, id := range ids {
		require.NotEmpty(t, id)
		require.Equal(t, ids[0], id)
	}
}

// TestRejectedRequests is the table of requests the mock refuses before or instead of doing
// anything, with the Klarna error each gets.
func TestRejectedRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	authorize := h.path("/payment/authorize")
	huge := `{"currency":"USD","pad":"` + strings.Repeat("x", mockhttp.MaxBodyBytes) + `"}`
	h.requireRejections([]rejection{
		{"no API key", http.MethodPost, authorize, oneTime(1000), []string{"Authorization", ""}, 401, "UNAUTHORIZED", ""},
		{"not basic", http.MethodPost, authorize, oneTime(1000), []string{"Authorization", "Bearer " + h.key}, 401, "UNAUTHORIZED", ""},
		{"not a test key", http.MethodPost, authorize, oneTime(1000), []string{"Authorization", "Basic klarna_live_api_abc"}, 401, "UNAUTHORIZED", ""},
		{"empty test key", http.MethodPost, authorize, oneTime(1000), []string{"Authorization", "Basic klarna_test_api_"}, 401, "UNAUTHORIZED", ""},
		{"malformed JSON", http.MethodPost, authorize, `{"currency":`, nil, 400, "VALIDATION_ERROR", ""},
		{"not an object", http.MethodPost, authorize, `[1,2]`, nil, 400, "VALIDATION_ERROR", ""},
		{"empty body", http.MethodPost, authorize, nil, nil, 400, "VALIDATION_ERROR", ""},
		{"wrong content type", http.MethodPost, authorize, `{"currency":"USD"}`, []string{"Content-Type", "text/plain"}, 415, "UNSUPPORTED_MEDIA_TYPE", ""},
		{"too large", http.MethodPost, authorize, huge, nil, 413, "PAYLOAD_TOO_LARGE", ""},
		{"amount zero", http.MethodPost, authorize, map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 0}}, nil, 400, "VALIDATION_ERROR", "request_payment_transaction.amount"},
		{"amount too large", http.MethodPost, authorize, map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 2147483648}}, nil, 400, "VALIDATION_ERROR", "request_payment_transaction.amount"},
		{"bad currency", http.MethodPost, authorize, map[string]any{"currency": "US", "request_payment_transaction": map[string]any{"amount": 1}}, nil, 400, "VALIDATION_ERROR", "currency"},
		{"missing currency", http.MethodPost, authorize, map[string]any{"request_payment_transaction": map[string]any{"amount": 1}}, nil, 400, "VALIDATION_ERROR", "currency"},
		{"bad scope", http.MethodPost, authorize, map[string]any{"currency": "USD", "request_customer_token": map[string]any{"scopes": []string{"payment:anything"}}}, nil, 400, "VALIDATION_ERROR", "request_customer_token.scopes[0]"},
		{"bad method", http.MethodPost, authorize, map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 1}, "step_up_config": map[string]any{"customer_interaction_config": map[string]any{"method": "POPUP"}}}, nil, 400, "VALIDATION_ERROR", "step_up_config.customer_interaction_config.method"},
		{"line item quantity", http.MethodPost, authorize, map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 1}, "supplementary_purchase_data": map[string]any{"line_items": []any{map[string]any{"name": "x", "quantity": "one", "total_amount": 1}}}}, nil, 400, "VALIDATION_ERROR", "supplementary_purchase_data.line_items[0].quantity"},
		{"line items do not add up", http.MethodPost, authorize, map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 100}, "supplementary_purchase_data": map[string]any{"line_items": []any{map[string]any{"name": "x", "quantity": 1, "total_amount": 99}}}}, nil, 400, "VALIDATION_ERROR", "supplementary_purchase_data.line_items"},
		{"nothing requested", http.MethodPost, authorize, map[string]any{"currency": "USD"}, nil, 400, "VALIDATION_ERROR", "request_payment_transaction"},
		{"bad correlation id", http.MethodPost, authorize, oneTime(1000), []string{"Partner-Correlation-Id", "not valid!"}, 400, "VALIDATION_ERROR", "Partner-Correlation-Id"},
		{"idempotency key too long", http.MethodPost, authorize, oneTime(1000), []string{"Klarna-Idempotency-Key", strings.Repeat("k", 256)}, 400, "VALIDATION_ERROR", "Klarna-Idempotency-Key"},
		{"unknown route", http.MethodGet, "/v2/nothing/here", nil, nil, 404, "NOT_FOUND", ""},
		{"wrong method", http.MethodPut, authorize, nil, nil, 405, "METHOD_NOT_ALLOWED", ""},
		{"unknown payment request", http.MethodGet, h.path("/payment/requests/krn:payment:eu1:request:" + unknownID), nil, nil, 404, "NOT_FOUND", ""},
		{"unknown transaction", http.MethodGet, h.path("/payment/transactions/krn:payment:eu1:transaction:" + unknownID), nil, nil, 404, "NOT_FOUND", ""},
		{"presentation without currency", http.MethodGet, h.path("/payment/presentation"), nil, nil, 400, "VALIDATION_ERROR", "currency"},
		{"unknown journey action", http.MethodPost, "/mock/v1/payment-requests/krn:payment:eu1:request:" + unknownID + "/dance", nil, nil, 400, "VALIDATION_ERROR", "action"},
		{"clock backwards", http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": "-1h"}, nil, 400, "VALIDATION_ERROR", "duration"},
	})
}

func TestCorrelationHeaders(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.authorize(oneTime(1000), "Partner-Correlation-Id", "abc123")
	require.Equal(t, "abc123", r.header.Get("Partner-Correlation-Id"))
	other := h.authorize(oneTime(1000))
	require.NotEqual(t, r.header.Get("Klarna-Correlation-Id"), other.header.Get("Klarna-Correlation-Id"))
}

func TestServesContract(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do(http.MethodGet, "/openapi.yaml", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, "/v2/accounts/{partner_account_id}/payment/authorize")
}

func TestClockAPI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do(http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": "PT1H"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, "1h0m0s", r.str("offset"))
	r = h.do(http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": "30m"})
	require.Equal(t, "1h30m0s", h.do(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
}
