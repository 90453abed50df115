package app_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
)

// A payment's life after authorization, through the acquirer's Partner API, against the mock's
// Payment Transaction API: Klarna's "Capture a payment transaction"
// (docs.klarna.com/klarna-network-distribution/after-payments/manage-payment-transactions/capture-a-payment-transaction:
// full or partial, "a maximum of 200 captures on any given transaction") and "Refund payment
// transactions and allocation" (docs.klarna.com/klarna-network-distribution/after-payments/manage-payment-transactions/refund-payment-transactions-and-allocation:
// "a maximum of 200 refunds and 500 total operations ... Exceeding this restriction will result
// in a 403 response"), docs/klarna.md §10.

// approvedCharge charges a fresh subscription token amount without the customer, captured later,
// and returns the approved charge.
func (e *env) approvedCharge(amount int) charge {
	e.t.Helper()
	body := subscriptionCharge(e.createToken("SUBSCRIPTION"), "sub-"+randomHex(4), amount)
	delete(body, "capture")
	status, raw := e.call(http.MethodPost, "/v1/charges", body)
	require.Equal(e.t, http.StatusCreated, status, "%s", raw)
	c := decode[charge](e.t, raw)
	require.Equal(e.t, acquirer.StatusCompleted, c.Status)
	require.Empty(e.t, c.Captures, "captured later")
	return c
}

// transaction reads the charge's transaction at the mock, as Klarna holds it.
func (e *env) transaction(c charge) (state string, captures, refunds int) {
	var tr struct {
		State    string `json:"state"`
		Captures []any  `json:"payment_captures"`
		Refunds  []any  `json:"payment_refunds"`
	}
	e.mock(http.MethodGet, "/v2/accounts/"+klarnaAccount+"/payment/transactions/"+url.PathEscape(c.PaymentTransactionID), nil, &tr)
	return tr.State, len(tr.Captures), len(tr.Refunds)
}

// TestCapturesAndRefundsThroughTheAcquirer follows "Capture a payment transaction" (full or
// partial) and "Refund payment transactions and allocation" (a refund of one capture by its
// payment_capture_id, or of the transaction with line_items when it has several captures).
func TestCapturesAndRefundsThroughTheAcquirer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	c := e.approvedCharge(999)
	path := "/v1/charges/" + c.ID

	status, raw := e.call(http.MethodPost, path+"/captures", map[string]any{"amount": 400, "reference": "shipment-1"}, "Idempotency-Key", "cap-1")
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	got := decode[charge](t, raw)
	require.Equal(t, int64(400), got.CapturedAmount)
	require.Len(t, got.Captures, 1)
	first := got.Captures[0]
	require.Equal(t, "shipment-1", first.Reference)
	require.NotEmpty(t, first.CaptureID)

	// The Partner's retry under the same key is the same capture, at Klarna and at the acquirer.
	status, raw = e.call(http.MethodPost, path+"/captures", map[string]any{"amount": 400, "reference": "shipment-1"}, "Idempotency-Key", "cap-1")
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	require.Len(t, decode[charge](t, raw).Captures, 1)
	state, captures, _ := e.transaction(c)
	require.Equal(t, "AUTHORIZED", state)
	require.Equal(t, 1, captures)

	// More than remains is refused by the acquirer itself, naming the amount.
	status, raw = e.call(http.MethodPost, path+"/captures", map[string]any{"amount": 600})
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	refusal := decode[apError](t, raw)
	require.Equal(t, "INVALID_REQUEST", refusal.ErrorCode)
	require.Equal(t, "amount", refusal.Errors[0].Parameter)
	require.Contains(t, refusal.ErrorMessage, "at most 599 remains to capture")
	require.Nil(t, refusal.KlarnaError, "Klarna was not asked")

	// Without an amount the rest is captured, which completes the transaction. A retry of that
	// capture still gets it, though nothing remains now; a new capture is refused.
	for range 2 {
		status, raw = e.call(http.MethodPost, path+"/captures", nil, "Idempotency-Key", "cap-2")
		require.Equal(t, http.StatusCreated, status, "%s", raw)
		got = decode[charge](t, raw)
		require.Equal(t, int64(999), got.CapturedAmount)
		require.Len(t, got.Captures, 2)
	}
	state, captures, _ = e.transaction(c)
	require.Equal(t, "COMPLETED", state)
	require.Equal(t, 2, captures)
	status, raw = e.call(http.MethodPost, path+"/captures", nil)
	require.Equal(t, http.StatusConflict, status, "%s", raw)
	require.Equal(t, "INVALID_STATE", decode[apError](t, raw).ErrorCode)

	// Refunds: of one capture, at most what it captured; of the whole, with line items since it
	// has several captures.
	status, raw = e.call(http.MethodPost, path+"/refunds", map[string]any{"amount": 401, "capture_id": first.CaptureID})
	require.Equal(t, http.StatusBadRequest, status, "%s", raw)
	require.Equal(t, "amount", decode[apError](t, raw).Errors[0].Parameter)
	status, raw = e.call(http.MethodPost, path+"/refunds", map[string]any{"amount": 150, "capture_id": first.CaptureID, "reference": "return-1"})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	got = decode[charge](t, raw)
	require.Equal(t, int64(150), got.RefundedAmount)
	require.Equal(t, first.CaptureID, got.Refunds[0].CaptureID)
	status, raw = e.call(http.MethodPost, path+"/refunds", map[string]any{"amount": 100,
		"line_items": []any{map[string]any{"name": "Coffee club", "quantity": 1, "total_amount": 100}}})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	require.Equal(t, int64(250), decode[charge](t, raw).RefundedAmount)
	_, _, refunds := e.transaction(c)
	require.Equal(t, 2, refunds)

	status, raw = e.call(http.MethodGet, path, nil)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, decode[charge](t, raw).Refunds, 2, "the reads show the refunds too")
}

// TestReleasingWhatRemainsAuthorized follows "Void a Payment Transaction"
// (docs.klarna.com/acquirer/klarna-direct/after-payments/manage-payment-transactions/void-a-payment-transaction/):
// a partly captured transaction becomes COMPLETED once the rest is released.
func TestReleasingWhatRemainsAuthorized(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	c := e.approvedCharge(999)
	path := "/v1/charges/" + c.ID

	status, raw := e.call(http.MethodPost, path+"/captures", map[string]any{"amount": 300})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	status, raw = e.call(http.MethodPost, path+"/release", nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	require.NotNil(t, decode[charge](t, raw).ReleasedAt)
	state, _, _ := e.transaction(c)
	require.Equal(t, "COMPLETED", state, "partly captured, then released (Klarna's void)")

	status, raw = e.call(http.MethodPost, path+"/captures", map[string]any{"amount": 100})
	require.Equal(t, http.StatusConflict, status, "%s", raw)
	require.Equal(t, "INVALID_STATE", decode[apError](t, raw).ErrorCode)
	status, _ = e.call(http.MethodPost, path+"/release", nil)
	require.Equal(t, http.StatusConflict, status)
}

// TestOperationsOnAPaymentWithoutATransactionAreRefused: a token saved without a purchase has no
// transaction ("Token creation - Monitor the state": no final authorize creates one), so there is
// nothing to capture, and the acquirer says so before calling Klarna.
func TestOperationsOnAPaymentWithoutATransactionAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	body := tokenSession("signup-"+randomHex(4), "ON_DEMAND", 0, "SDK")
	body["klarna_network_session_token"] = e.networkSessionToken("jane.doe@example.com")
	status, raw := e.call(http.MethodPost, "/v1/sessions", body)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	s := decode[session](t, raw)

	status, raw = e.call(http.MethodPost, "/v1/sessions/"+s.ID+"/captures", nil)
	require.Equal(t, http.StatusConflict, status, "%s", raw)
	refusal := decode[apError](t, raw)
	require.Equal(t, "INVALID_STATE", refusal.ErrorCode)
	require.Contains(t, refusal.ErrorMessage, "without a purchase")

	status, _ = e.call(http.MethodPost, "/v1/charges/"+s.ID+"/refunds", map[string]any{"amount": 1})
	require.Equal(t, http.StatusNotFound, status, "a session is no charge")
	status, _ = e.callAs(acquirer.TestKeyPrefix+randomHex(8), http.MethodPost, "/v1/sessions/"+s.ID+"/release", nil)
	require.Equal(t, http.StatusNotFound, status, "another Partner's session does not exist for it")
}

// TestKlarnasLimitIsPassedOnToThePartner follows "Capture a payment transaction" ("a maximum of
// 200 captures") and "Refund payment transactions and allocation" ("Exceeding this restriction
// will result in a 403 response"): the acquirer passes the 403 on as KLARNA_REJECTED with
// Klarna's error.
func TestKlarnasLimitIsPassedOnToThePartner(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	c := e.approvedCharge(500)
	// The captures Klarna counts need not all come through the acquirer.
	for range 200 {
		e.mock(http.MethodPost, "/v2/accounts/"+klarnaAccount+"/payment/transactions/"+url.PathEscape(c.PaymentTransactionID)+"/captures",
			map[string]any{"captured_amount": 1}, nil)
	}
	status, raw := e.call(http.MethodPost, "/v1/charges/"+c.ID+"/captures", map[string]any{"amount": 1})
	require.Equal(t, http.StatusUnprocessableEntity, status, "%s", raw)
	refusal := decode[apError](t, raw)
	require.Equal(t, "KLARNA_REJECTED", refusal.ErrorCode)
	require.NotNil(t, refusal.KlarnaError)
	require.Equal(t, http.StatusForbidden, refusal.KlarnaError.Status)
}

// TestCaptureNowIsCapturedWithTheAuthorization follows "Auto-capture"
// (docs.klarna.com/klarna-network-distribution/payment-authorization/auto-capture/): with capture
// NOW the transaction is captured at once and the answer carries its payment_capture_id, which
// the acquirer keeps so that the capture can be refunded.
func TestCaptureNowIsCapturedWithTheAuthorization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	status, raw := e.call(http.MethodPost, "/v1/charges", subscriptionCharge(e.createToken("SUBSCRIPTION"), "sub-now-1", 999))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	c := decode[charge](t, raw)
	require.Equal(t, int64(999), c.CapturedAmount)
	require.Len(t, c.Captures, 1)
	state, captures, _ := e.transaction(c)
	require.Equal(t, "COMPLETED", state)
	require.Equal(t, 1, captures)

	status, raw = e.call(http.MethodPost, "/v1/charges/"+c.ID+"/refunds", map[string]any{"amount": 999, "capture_id": c.Captures[0].CaptureID})
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	require.Equal(t, int64(999), decode[charge](t, raw).RefundedAmount)
}
