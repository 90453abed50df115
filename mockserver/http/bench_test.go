package http_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// benchBody is an approved one-time payment with line items, a customer and step_up_config: the
// shape a real integration sends, so validation cost is realistic.
const benchBody = `{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"step_up_config":{"payment_request_reference":"pr-1","customer_interaction_config":{"method":"HANDOVER","return_url":"https://merchant.example/return"}},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"}}}`

// BenchmarkAuthorize shows what an approved authorize costs in-process, without the network:
// "handler" is the whole HTTP stack (routing, auth, contract validation, decoding, rules,
// storage, encoding); "service" is the domain and storage alone, so the difference is what HTTP
// and validation add. Run: go test -run '^$' -bench Authorize -benchmem ./mockserver/http/
func BenchmarkAuthorize(b *testing.B) {
	// Every approved authorize stores an AUTHORIZED transaction, which stays live for weeks: a
	// quota above any b.N keeps the benchmark measuring approvals, not the 429 of a full quota.
	m, err := app.New(app.Config{Clock: clock.NewManual(testStart), MaxObjectsPerTenant: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	const key, account = "klarna_test_api_bench", "krn:partner:global:account:test:BENCH001"
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+account+"/interoperability/test-tokens", bytes.NewBufferString(`{"email":"jane@example.com"}`))
	req.Header.Set("Authorization", "Basic "+key)
	req.Header.Set("Content-Type", "application/json")
	m.Handler.ServeHTTP(rec, req)
	var tok mockserver.TestToken
	if err := json.Unmarshal(rec.Body.Bytes(), &tok); err != nil || tok.InteroperabilityToken == "" {
		b.Fatalf("minting a test token: %d %s", rec.Code, rec.Body)
	}

	b.Run("handler", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", bytes.NewBufferString(benchBody))
			req.Header.Set("Authorization", "Basic "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Klarna-Network-Session-Token", tok.InteroperabilityToken)
			rec := httptest.NewRecorder()
			m.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("%d %s", rec.Code, rec.Body)
			}
		}
	})
	b.Run("service", func(b *testing.B) {
		b.ReportAllocs()
		var ar mockserver.AuthorizeRequest
		if err := json.Unmarshal([]byte(benchBody), &ar); err != nil {
			b.Fatal(err)
		}
		// The handler stores under the key's tenant; any scope will do for the service alone.
		scope := mockserver.Scope("bench", account)
		t, err := m.Service.MintTestToken(mockserver.TestTokenCall{AccountID: scope, Request: mockserver.TestTokenRequest{Email: "jane@example.com"}})
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			resp, err := m.Service.Authorize(mockserver.AuthorizeCall{AccountID: scope, Request: &ar, SessionToken: t.InteroperabilityToken, SessionHeader: mockserver.HeaderNetworkSessionToken})
			if err != nil || resp.PaymentTransactionResponse.Result != mockserver.ResultApproved {
				b.Fatal(err, resp)
			}
		}
	})
}
