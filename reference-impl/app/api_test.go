package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

func TestPaymentMethods(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	methods := func(body map[string]any) []acquirer.PaymentMethod {
		t.Helper()
		status, raw := e.call(http.MethodPost, "/v1/payment-methods", body)
		require.Equal(t, http.StatusOK, status, "%s", raw)
		return decode[struct {
			PaymentMethods []acquirer.PaymentMethod `json:"payment_methods"`
		}](t, raw).PaymentMethods
	}

	got := methods(map[string]any{"currency": "USD", "amount": 11800, "locale": "en-US", "intents": []string{"PAY"}})
	require.Len(t, got, 1)
	require.Equal(t, "klarna", got[0].Type)
	require.Equal(t, klarna.InstructionShow, got[0].Instruction)
	require.False(t, got[0].Preselected)
	require.NotEmpty(t, got[0].Header.Text)
	require.NotEmpty(t, got[0].PaymentButton.Text)
	require.NotNil(t, got[0].Message, "the amount gives an instalment message")

	token := e.createToken("ON_DEMAND")
	got = methods(map[string]any{"currency": "USD", "customer_token": token})
	require.Equal(t, klarna.InstructionPreselect, got[0].Instruction, "a known customer is personalised")
	require.True(t, got[0].Preselected)

	got = methods(map[string]any{"currency": "USD", "klarna_network_session_token": e.networkSessionToken("jane.doe@example.com")})
	require.Equal(t, klarna.InstructionPreselect, got[0].Instruction, "so is an identified Klarna Network session")

	require.Empty(t, methods(map[string]any{"currency": "JPY"}), "HIDE_KLARNA: nothing to show")

	status, raw := e.call(http.MethodPost, "/v1/payment-methods", map[string]any{"currency": "USD", "customer_token": "aptok_unknown"})
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "NOT_FOUND", decode[apError](t, raw).ErrorCode)
}

func TestOlderKlarnaNetworkFieldNamesAreAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	token := e.networkSessionToken("jane.doe@example.com")
	data := `{"content_type":"application/vnd.klarna.interoperability-data.v2+json","content":{}}`

	body := tokenSession("order-5001", "ON_DEMAND", 0, "SDK")
	body["interoperability_token"] = token
	body["klarna_interoperability_data"] = data
	status, raw := e.call(http.MethodPost, "/v1/sessions", body)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	require.Equal(t, acquirer.StatusCompleted, decode[session](t, raw).Status, "the token under its old name spared the step-up")

	body = tokenSession("order-5002", "ON_DEMAND", 0, "SDK")
	body["klarna_network_session_token"] = token
	body["interoperability_token"] = token + "-other"
	status, raw = e.call(http.MethodPost, "/v1/sessions", body)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "interoperability_token", decode[apError](t, raw).Errors[0].Parameter)
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	body := tokenSession("order-6001", "ON_DEMAND", 999, "REDIRECT")

	status, raw := e.call(http.MethodPost, "/v1/sessions", body, "Idempotency-Key", "key-6001")
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	first := decode[session](t, raw)

	status, raw = e.call(http.MethodPost, "/v1/sessions", body, "Idempotency-Key", "key-6001")
	require.Equal(t, http.StatusOK, status, "a retry gets the first session")
	require.Equal(t, first, decode[session](t, raw))

	body["amount"] = 1000
	status, raw = e.call(http.MethodPost, "/v1/sessions", body, "Idempotency-Key", "key-6001")
	require.Equal(t, http.StatusConflict, status)
	require.Equal(t, "IDEMPOTENCY_CONFLICT", decode[apError](t, raw).ErrorCode)

	status, _ = e.callAs(acquirer.TestKeyPrefix+randomHex(8), http.MethodPost, "/v1/sessions", body, "Idempotency-Key", "key-6001")
	require.Equal(t, http.StatusCreated, status, "keys are per Partner")
}

func TestRequestsTheContractRefuses(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})

	status, raw := e.callAs("", http.MethodPost, "/v1/sessions", tokenSession("o", "ON_DEMAND", 999, "SDK"))
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, "UNAUTHORIZED", decode[apError](t, raw).ErrorCode)
	status, _ = e.callAs("ap_live_unknown", http.MethodGet, "/v1/sessions/ses_1", nil)
	require.Equal(t, http.StatusUnauthorized, status)

	for name, body := range map[string]map[string]any{
		"zero amount":     {"reference": "o", "currency": "EUR", "amount": 0, "mode": "SDK"},
		"unknown field":   {"reference": "o", "currency": "EUR", "amount": 100, "mode": "SDK", "colour": "red"},
		"unknown mode":    {"reference": "o", "currency": "EUR", "amount": 100, "mode": "POPUP"},
		"neither":         {"reference": "o", "currency": "EUR", "mode": "SDK"},
		"no return url":   {"reference": "o", "currency": "EUR", "amount": 100, "mode": "REDIRECT"},
		"bad usage":       {"reference": "o", "currency": "EUR", "mode": "SDK", "request_customer_token": map[string]any{"usage": "FOREVER"}},
		"no subscription": {"reference": "o", "currency": "EUR", "mode": "SDK", "request_customer_token": map[string]any{"usage": "SUBSCRIPTION"}},
	} {
		status, raw := e.call(http.MethodPost, "/v1/sessions", body)
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", name, raw)
		got := decode[apError](t, raw)
		require.Equal(t, "INVALID_REQUEST", got.ErrorCode, name)
		require.NotEmpty(t, got.Errors, name)
		require.NotEmpty(t, got.RequestID, name)
	}

	token := e.createToken("ON_DEMAND")
	c := presentCharge(token, "o")
	delete(c, "mode")
	status, raw = e.call(http.MethodPost, "/v1/charges", c)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	require.Equal(t, "mode", decode[apError](t, raw).Errors[0].Parameter)

	status, _ = e.call(http.MethodGet, "/v1/sessions/ses_"+randomHex(12), nil)
	require.Equal(t, http.StatusNotFound, status)
}

func TestWhatKlarnaRefusesIsPassedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	body := tokenSession("order-7001", "ON_DEMAND", 999, "SDK")
	body["supplementary_purchase_data"] = map[string]any{
		"line_items": []any{map[string]any{"name": "Beans", "quantity": 1, "total_amount": 900}},
	}
	status, raw := e.call(http.MethodPost, "/v1/sessions", body, "Idempotency-Key", "key-7001")
	require.Equal(t, http.StatusUnprocessableEntity, status, "%s", raw)
	got := decode[apError](t, raw)
	require.Equal(t, "KLARNA_REJECTED", got.ErrorCode)
	require.Equal(t, http.StatusBadRequest, got.KlarnaError.Status)
	require.Equal(t, "VALIDATION_ERROR", got.KlarnaError.ErrorCode)

	body["supplementary_purchase_data"] = map[string]any{
		"line_items": []any{map[string]any{"name": "Beans", "quantity": 1, "total_amount": 999}},
	}
	status, raw = e.call(http.MethodPost, "/v1/sessions", body, "Idempotency-Key", "key-7001")
	require.Equal(t, http.StatusCreated, status, "a corrected request may reuse the key of the refused one: %s", raw)
}

func TestKlarnaWebhooksTheAcquirerHasNoUseFor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	secret := e.klarnaSecret
	post := func(body string) (int, []byte) {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set(klarna.HeaderSignature, signature.Sign(secret, []byte(body)))
		return e.postKlarnaWebhook(h, []byte(body))
	}

	status, raw := post(`{"metadata":{"event_type":"payment.request.state-change.completed","event_id":"ev-unknown"},
		"payload":{"payment_request_id":"krn:payment:eu1:request:00000000-0000-4000-8000-000000000000","state":"COMPLETED"}}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.JSONEq(t, `{"result":"IGNORED"}`, string(raw), "a Payment Request of no session or charge")

	status, raw = post(`{"metadata":{"event_type":"payment.transaction.state-change.authorized","event_id":"ev-tr"},"payload":{}}`)
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"result":"IGNORED"}`, string(raw))

	status, raw = post(`{"metadata":{"event_type":"payment.request.state-change.completed"},"payload":{}}`)
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	require.Equal(t, "INVALID_REQUEST", decode[apError](t, raw).ErrorCode)

	h := http.Header{}
	h.Set("Content-Type", "application/json")
	status, raw = e.postKlarnaWebhook(h, []byte(`{"metadata":{"event_type":"x","event_id":"y"},"payload":{}}`))
	require.Equal(t, http.StatusBadRequest, status, "an unsigned body is refused")
	require.Equal(t, "INVALID_SIGNATURE", decode[apError](t, raw).ErrorCode)
}

// TestRoutesOutsideTheContract checks the error shape of what the contract cannot describe: an
// unknown path and a method a path does not take.
func TestRoutesOutsideTheContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/v1/nothing-here", http.StatusNotFound, "NOT_FOUND"},
		{http.MethodDelete, "/v1/sessions", http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED"},
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, e.apURL+tc.path, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, tc.status, resp.StatusCode)
		var got apError
		require.NoError(t, json.Unmarshal(raw, &got))
		require.Equal(t, tc.code, got.ErrorCode)
		require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"))
	}
}

func TestThePartnerEventCheckCanFail(t *testing.T) {
	t.Parallel()
	require.Error(t, checkPartnerEvent([]byte(`{"event_id":"e","event_type":"order.completed","created_at":"2026-01-04T12:00:00Z","partner_id":"p","data":{"id":"x"}}`)))
	require.Error(t, checkPartnerEvent([]byte(`{"event_id":"e","event_type":"order.shipped","created_at":"2026-01-04T12:00:00Z","partner_id":"p",
		"data":{"customer_token":"aptok_1","klarna_customer_token":"krn:customer-token:eu1:1","usage":"ON_DEMAND","scopes":["payment:customer_present"],"session_id":"ses_1","created_at":"2026-01-04T12:00:00Z"}}`)))
	require.NoError(t, checkPartnerEvent([]byte(`{"event_id":"e","event_type":"token.created","created_at":"2026-01-04T12:00:00Z","partner_id":"p",
		"data":{"customer_token":"aptok_1","klarna_customer_token":"krn:customer-token:eu1:1","usage":"ON_DEMAND","scopes":["payment:customer_present"],"session_id":"ses_1","created_at":"2026-01-04T12:00:00Z"}}`)))
}
