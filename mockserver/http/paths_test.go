package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOddPathsGetTheKlarnaNotFound checks that a path with an empty, "." or ".." segment, sent
// as it is or percent-encoded, gets the Klarna-shaped 404 on every route, and never a redirect
// (which gorilla/mux would answer with an empty body) or a handler run on an id "..".
func TestOddPathsGetTheKlarnaNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	authorize := map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 500}}
	var cases []rejection
	for _, c := range []struct{ method, path string }{
		{http.MethodPost, "//v2/accounts/x/payment/authorize"},
		{http.MethodPost, "/v2/accounts/x/../y"},
		{http.MethodPost, "/v2/accounts/%2e%2e/payment/authorize"},
		{http.MethodPost, "/v2/accounts/../payment/authorize"},
		{http.MethodPost, "/v2/accounts/%2E/payment/authorize"},
		{http.MethodPost, h.path("/payment//authorize")},
		{http.MethodGet, "/v2/accounts/%2e%2e/payment/authorize"}, // not a 405: nothing is there
		{http.MethodGet, h.path("/payment/requests/%2e%2e")},
		{http.MethodDelete, h.path("/payment/requests/.")},
		{http.MethodGet, "/journey/%2e%2e"}, // the Klarna-shaped 404, not the journey's page
		{http.MethodGet, "/mock/v1/clock/../clock"},
		{http.MethodGet, "/contracts/%2e%2e%2fgo.mod"},
	} {
		cases = append(cases, rejection{name: c.method + " " + c.path, method: c.method, path: c.path, body: authorize,
			status: http.StatusNotFound, code: "NOT_FOUND"})
	}
	h.requireRejections(cases)

	// The router still matches the decoded path, so a percent-encoded account id works.
	r := h.do(http.MethodPost, "/v2/accounts/krn%3Apartner%3Aglobal%3Aaccount%3Atest%3APATHS001/payment/authorize", authorize)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.NotNil(t, r.get("payment_transaction_response"), r.body)
}
