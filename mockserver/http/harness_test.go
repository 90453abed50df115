package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts/contracttest"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// testStart is where every test's manual clock starts.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness is one real mock served over HTTP, with a unique API key so tests never share state,
// and a contract check on every response.
type harness struct {
	t        *testing.T
	srv      *httptest.Server
	mock     *app.Mock
	clock    *clock.Clock
	key      string
	account  string
	payments *contracttest.Checker
	control  *contracttest.Checker
	notify   *contracttest.Checker
}

func newHarness(t *testing.T, cfg app.Config) *harness {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = clock.NewManual(testStart)
	}
	m, err := app.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(func() {
		srv.Close()
		_, _ = m.Close(context.Background())
	})
	return &harness{
		t:        t,
		srv:      srv,
		mock:     m,
		clock:    cfg.Clock,
		key:      newKey(),
		account:  "krn:partner:global:account:test:TEST0001",
		payments: contracttest.New(t, "klarna-payments.yaml"),
		control:  contracttest.New(t, "mock-control.yaml"),
		notify:   contracttest.New(t, "klarna-notifications.yaml"),
	}
}

func newKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "klarna_test_api_" + hex.EncodeToString(b)
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// get walks a dotted path (a.b.0.c) through the decoded JSON body.
func (r response) get(path string) any {
	var cur any = r.json
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

func (r response) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

// do sends a request with the harness's key (unless headers set Authorization) and checks the
// response against its contract.
func (h *harness) do(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Basic "+h.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.srv.Client().Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	out := response{status: resp.StatusCode, header: resp.Header, body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(h.t, json.Unmarshal(raw, &out.json), string(raw))
	}
	require.NotEmpty(h.t, resp.Header.Get("Klarna-Correlation-Id"), "every response carries Klarna-Correlation-Id")
	checker := h.payments
	switch {
	case strings.HasPrefix(path, "/mock/"):
		checker = h.control
	case strings.HasPrefix(path, "/v2/notification/"):
		checker = h.notify
	}
	// Answers for paths or methods no operation has cannot be checked against an operation.
	routeless := resp.StatusCode == http.StatusMethodNotAllowed || strings.HasPrefix(out.str("error_message"), "No route")
	if (strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/mock/")) && !routeless {
		checker.Check(h.t, req, resp.StatusCode, resp.Header, raw)
	}
	return out
}

func (h *harness) path(suffix string) string {
	return "/v2/accounts/" + h.account + suffix
}

func (h *harness) authorize(body any, headers ...string) response {
	h.t.Helper()
	return h.do(http.MethodPost, h.path("/payment/authorize"), body, headers...)
}

// act drives the customer's side of the Purchase Journey through the mock's control API.
func (h *harness) act(paymentRequestID, action string) response {
	h.t.Helper()
	return h.do(http.MethodPost, "/mock/v1/payment-requests/"+paymentRequestID+"/"+action, nil)
}

// testToken mints a network session token of an identified, consenting customer.
func (h *harness) testToken(email string) string {
	h.t.Helper()
	body := map[string]any{}
	if email != "" {
		body["email"] = email
	}
	r := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), body)
	require.Equal(h.t, http.StatusCreated, r.status, string(r.body))
	return r.str("klarna_network_session_token")
}

// requireError asserts a Klarna-shaped error with status, code and (when given) parameter.
func requireError(t *testing.T, r response, status int, code, parameter string) {
	t.Helper()
	require.Equal(t, status, r.status, string(r.body))
	require.Equal(t, code, r.str("error_code"), string(r.body))
	require.NotEmpty(t, r.str("error_id"))
	require.NotEmpty(t, r.str("error_type"))
	require.NotEmpty(t, r.str("error_message"))
	if parameter != "" {
		require.Equal(t, parameter, r.str("errors.0.parameter"), string(r.body))
	}
}

// Request bodies used across tests.

func stepUpConfig(ref string) map[string]any {
	return map[string]any{
		"payment_request_reference": ref,
		"customer_interaction_config": map[string]any{
			"method":     "HANDOVER",
			"return_url": "https://merchant.example/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}",
		},
	}
}

func purchase(amount int64, ref string) map[string]any {
	return map[string]any{"amount": amount, "payment_transaction_reference": ref}
}

func oneTime(amount int64) map[string]any {
	return map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": purchase(amount, "order-1"),
		"step_up_config":              stepUpConfig("pr-1"),
		"supplementary_purchase_data": map[string]any{
			"purchase_reference": "purchase-1",
			"line_items":         []any{map[string]any{"name": "Shoes", "quantity": 1, "total_amount": amount}},
			"customer":           map[string]any{"email": "jane@example.com"},
		},
	}
}

func tokenCreation(scope string, withPurchase bool) map[string]any {
	b := map[string]any{
		"currency":               "USD",
		"request_customer_token": map[string]any{"scopes": []string{scope}, "customer_token_reference": "ctr-1"},
		"step_up_config":         stepUpConfig("pr-tok"),
	}
	if withPurchase {
		b["request_payment_transaction"] = purchase(11800, "order-tok")
	}
	return b
}

func charge(amount int64, present bool, ref string) map[string]any {
	b := map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": purchase(amount, ref),
	}
	if present {
		b["step_up_config"] = stepUpConfig("pr-charge")
	}
	return b
}

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
