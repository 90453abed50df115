package http_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// approved authorizes body for an identified, consenting customer, which is approved at once, and
// returns the transaction's id.
func (h *harness) approved(body map[string]any) string {
	h.t.Helper()
	r := h.authorize(body, "Klarna-Network-Session-Token", h.testToken("jane@example.com"))
	require.Equal(h.t, "APPROVED", r.str("payment_transaction_response.result"), r.body)
	return r.str("payment_transaction_response.payment_transaction.payment_transaction_id")
}

// transactionPath is the path of a transaction, or of one of its operations with suffix.
func (h *harness) transactionPath(id, suffix string) string {
	return h.path("/payment/transactions/" + id + suffix)
}

// transaction reads a transaction through Klarna's API.
func (h *harness) transaction(id string) response {
	h.t.Helper()
	r := h.do(http.MethodGet, h.transactionPath(id, ""), nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r
}

// capture sends a capture of transaction id with body (nil: capture all that remains) and
// expects status.
func (h *harness) capture(id string, body any, status int) response {
	h.t.Helper()
	r := h.do(http.MethodPost, h.transactionPath(id, "/captures"), body)
	require.Equal(h.t, status, r.status, r.body)
	return r
}

// transactionEvents waits until rc has received n verified events about the transaction id and
// returns their types in the order they arrived, which is the order they were sent: one
// subject's events are delivered in order.
func (rc *hookReceiver) transactionEvents(t *testing.T, id string, n int) []string {
	t.Helper()
	var types []string
	require.Eventually(t, func() bool {
		types = nil
		for _, hit := range rc.got() {
			var e struct {
				Metadata webhook.EventMetadata `json:"metadata"`
				Payload  map[string]any        `json:"payload"`
			}
			if hit.verified && json.Unmarshal(hit.body, &e) == nil && e.Payload["payment_transaction_id"] == id {
				types = append(types, e.Metadata.EventType)
			}
		}
		return len(types) >= n
	}, 10*time.Second, time.Millisecond)
	return types
}

// withCapture sets request_payment_transaction.capture of an authorize body.
func withCapture(body map[string]any, mode string) map[string]any {
	body["request_payment_transaction"].(map[string]any)["capture"] = mode
	return body
}

// TestCaptureNowCreatesACompletedTransaction follows Klarna's "Auto-capture" page
// (docs.klarna.com/klarna-network-distribution/payment-authorization/auto-capture/): with
// capture: NOW the transaction is created COMPLETED with the capture of the full amount, whose
// payment_capture_id the answer carries, and payment.transaction.captured is sent.
func TestCaptureNowCreatesACompletedTransaction(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "capture-now-secret")
	h := newHarness(t, withStaticWebhook(rc.url, "capture-now-secret"))
	r := h.authorize(withCapture(oneTime(11800), "NOW"), "Klarna-Network-Session-Token", h.testToken("jane@example.com"))
	require.Equal(t, "APPROVED", r.str("payment_transaction_response.result"), r.body)
	require.Equal(t, "COMPLETED", r.str("payment_transaction_response.payment_transaction.state"))
	require.Equal(t, float64(11800), r.get("payment_transaction_response.payment_transaction.payment_captures.0.captured_amount"))
	require.Regexp(t, `^krn:payment:eu1:capture:[0-9a-f-]{36}$`, r.str("payment_transaction_response.payment_transaction.payment_captures.0.payment_capture_id"))
	id := r.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.Equal(t, "COMPLETED", h.transaction(id).str("state"))

	require.Equal(t, []string{"payment.transaction.captured", "payment.transaction.state-change.completed"}, rc.transactionEvents(t, id, 2))
	requireError(t, h.capture(id, nil, http.StatusConflict), http.StatusConflict, "INVALID_STATE_TRANSITION", "")
}

// TestTransactionKeepsWhatTheAuthorizeSaid: a transaction returns the line items, customer and
// shipping its authorize sent, as Klarna's "Manage payment transactions with Klarna Network"
// page describes reading a transaction for its post-purchase operations
// (docs.klarna.com/klarna-network-distribution/after-payments/manage-payment-transactions), both
// when approved at once and when created by the final authorize of a Payment Request.
func TestTransactionKeepsWhatTheAuthorizeSaid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := oneTime(11800)
	spd := body["supplementary_purchase_data"].(map[string]any)
	spd["shipping"] = []any{map[string]any{
		"recipient": map[string]any{"given_name": "Jane", "family_name": "Doe"},
		"address":   map[string]any{"street_address": "1 Main St", "postal_code": "10001", "city": "New York", "country": "US"},
	}}
	r := h.transaction(h.approved(body))
	require.Equal(t, "purchase-1", r.str("supplementary_purchase_data.purchase_reference"))
	require.Equal(t, "Shoes", r.str("supplementary_purchase_data.line_items.0.name"))
	require.Equal(t, "jane@example.com", r.str("supplementary_purchase_data.customer.email"))
	require.Equal(t, "New York", r.str("supplementary_purchase_data.shipping.0.address.city"))

	_, nst := h.completedRequest(13400)
	f := h.authorize(finalAuthorize(13400, "USD"), "Klarna-Network-Session-Token", nst)
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"), f.body)
	final := h.transaction(f.str("payment_transaction_response.payment_transaction.payment_transaction_id"))
	require.Equal(t, "Shoes", final.str("supplementary_purchase_data.line_items.0.name"), "the initial authorize's purchase data")
}

// TestCapturesAndRefunds follows Klarna's "Capture a payment transaction" page (full or partial
// captures, docs.klarna.com/klarna-network-distribution/after-payments/
// manage-payment-transactions/capture-a-payment-transaction) and "Refund payment transactions
// and allocation" (refund a capture by its payment_capture_id, or the transaction with its
// line_items, docs.klarna.com/klarna-network-distribution/after-payments/
// manage-payment-transactions/refund-payment-transactions-and-allocation).
func TestCapturesAndRefunds(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "captures-secret")
	h := newHarness(t, withStaticWebhook(rc.url, "captures-secret"))
	id := h.approved(oneTime(10000))
	require.Equal(t, "AUTHORIZED", h.transaction(id).str("state"))
	requireError(t, h.do(http.MethodPost, h.transactionPath(id, "/refunds"), map[string]any{"refunded_amount": 100}), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	first := h.capture(id, map[string]any{
		"captured_amount": 4000, "payment_capture_reference": "shipment-1",
		"line_items": []any{map[string]any{"name": "Shoes", "quantity": 1, "total_amount": 4000}},
		"shipping":   []any{map[string]any{"tracking_number": "1Z999", "tracking_url": "https://carrier.example/1Z999"}},
	}, http.StatusCreated)
	captureID := first.str("payment_capture_id")
	require.Equal(t, "shipment-1", first.str("payment_capture_reference"))
	require.Equal(t, "1Z999", first.str("shipping.0.tracking_number"))
	require.Equal(t, "AUTHORIZED", h.transaction(id).str("state"), "a partial capture leaves the rest authorized")
	requireError(t, h.capture(id, map[string]any{"captured_amount": 6001}, http.StatusBadRequest), http.StatusBadRequest, "VALIDATION_ERROR", "captured_amount")
	requireError(t, h.capture(id, map[string]any{"captured_amount": 100, "line_items": []any{map[string]any{"name": "Shoes", "quantity": 1, "total_amount": 99}}}, http.StatusBadRequest),
		http.StatusBadRequest, "VALIDATION_ERROR", "captured_amount")

	rest := h.capture(id, nil, http.StatusCreated)
	require.Equal(t, float64(6000), rest.get("captured_amount"), "no amount captures all that remains")
	tr := h.transaction(id)
	require.Equal(t, "COMPLETED", tr.str("state"))
	require.Len(t, tr.get("payment_captures"), 2)

	refunds := h.transactionPath(id, "/refunds")
	byCapture := h.transactionPath(id, "/captures/"+captureID+"/refunds")
	h.requireRejections([]rejection{
		{name: "several captures need line items", method: http.MethodPost, path: refunds, body: map[string]any{"refunded_amount": 100}, status: 400, code: "VALIDATION_ERROR", param: "line_items"},
		{name: "more than the capture", method: http.MethodPost, path: byCapture, body: map[string]any{"refunded_amount": 4001}, status: 400, code: "VALIDATION_ERROR", param: "refunded_amount"},
		{name: "unknown capture", method: http.MethodPost, path: h.transactionPath(id, "/captures/krn:payment:eu1:capture:"+unknownID+"/refunds"), body: map[string]any{"refunded_amount": 1}, status: 404, code: "NOT_FOUND"},
		{name: "no amount", method: http.MethodPost, path: refunds, body: map[string]any{}, status: 400, code: "VALIDATION_ERROR", param: "refunded_amount"},
	})
	one := h.do(http.MethodPost, byCapture, map[string]any{"refunded_amount": 1000, "payment_refund_reference": "return-1"})
	require.Equal(t, http.StatusCreated, one.status, one.body)
	require.Equal(t, captureID, one.str("payment_capture_id"))
	require.Regexp(t, `^krn:payment:eu1:refund:[0-9a-f-]{36}$`, one.str("payment_refund_id"))
	requireError(t, h.do(http.MethodPost, byCapture, map[string]any{"refunded_amount": 3001}), http.StatusBadRequest, "VALIDATION_ERROR", "refunded_amount")
	all := h.do(http.MethodPost, refunds, map[string]any{"refunded_amount": 9000, "line_items": []any{map[string]any{"name": "Shoes", "quantity": 2, "total_amount": 9000}}})
	require.Equal(t, http.StatusCreated, all.status, all.body)
	require.Empty(t, all.str("payment_capture_id"))
	requireError(t, h.do(http.MethodPost, byCapture, map[string]any{"refunded_amount": 1}), http.StatusBadRequest, "VALIDATION_ERROR", "refunded_amount")
	require.Len(t, h.transaction(id).get("payment_refunds"), 2)

	require.Equal(t, []string{
		"payment.transaction.state-change.authorized", "payment.transaction.captured", "payment.transaction.captured",
		"payment.transaction.state-change.completed", "payment.transaction.refunded", "payment.transaction.refunded",
	}, rc.transactionEvents(t, id, 6))
}

// TestVoidAndUpdate follows Klarna's "Void payment transactions" page (release the remaining
// authorization of a transaction not fully captured, docs.klarna.com/klarna-network-distribution/
// after-payments/manage-payment-transactions/void-payment-transactions) and the update of an
// AUTHORIZED transaction its state definitions page lists (docs.klarna.com/
// klarna-network-distribution/after-payments/manage-payment-transactions/
// payment-transaction-state-definitions/).
func TestVoidAndUpdate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.approved(oneTime(5000))
	upd := h.do(http.MethodPatch, h.transactionPath(id, ""), map[string]any{
		"payment_transaction_reference": "order-1b",
		"supplementary_purchase_data":   map[string]any{"line_items": []any{map[string]any{"name": "Boots", "quantity": 1, "total_amount": 5000}}},
	})
	require.Equal(t, http.StatusOK, upd.status, upd.body)
	require.Equal(t, "order-1b", upd.str("payment_transaction_reference"))
	require.Equal(t, "Boots", upd.str("supplementary_purchase_data.line_items.0.name"))
	require.Equal(t, "jane@example.com", upd.str("supplementary_purchase_data.customer.email"), "what the update leaves out stays")
	requireError(t, h.do(http.MethodPatch, h.transactionPath(id, ""), map[string]any{
		"supplementary_purchase_data": map[string]any{"line_items": []any{map[string]any{"name": "Boots", "quantity": 1, "total_amount": 4999}}},
	}), http.StatusBadRequest, "VALIDATION_ERROR", "supplementary_purchase_data.line_items")

	voided := h.do(http.MethodPost, h.transactionPath(id, "/void"), nil)
	require.Equal(t, http.StatusOK, voided.status, voided.body)
	require.Equal(t, "CLOSED", voided.str("state"), "nothing was captured")
	requireError(t, h.do(http.MethodPost, h.transactionPath(id, "/void"), nil), http.StatusConflict, "INVALID_STATE_TRANSITION", "")
	requireError(t, h.do(http.MethodPatch, h.transactionPath(id, ""), map[string]any{"payment_transaction_reference": "late"}), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	partly := h.approved(oneTime(5000))
	h.capture(partly, map[string]any{"captured_amount": 2000}, http.StatusCreated)
	done := h.do(http.MethodPost, h.transactionPath(partly, "/void"), nil)
	require.Equal(t, "COMPLETED", done.str("state"), done.body)

	other := h.withKey(newKey())
	requireError(t, other.capture(partly, nil, http.StatusNotFound), http.StatusNotFound, "NOT_FOUND", "")
}

// TestTransactionExpiresOnTheTenantsClock follows Klarna's "Payment transaction state
// definitions" page (docs.klarna.com/klarna-network-distribution/after-payments/
// manage-payment-transactions/payment-transaction-state-definitions/) through the mock's clock:
// the transaction expires at expires_at, payment.transaction.state-change.expired is sent, and 7
// days later it is CLOSED.
func TestTransactionExpiresOnTheTenantsClock(t *testing.T) {
	t.Parallel()
	rc := newHookReceiver(t, "expiry-secret")
	h := newHarness(t, withStaticWebhook(rc.url, "expiry-secret"))
	id := h.approved(oneTime(5000))
	expires, err := time.Parse(time.RFC3339, h.transaction(id).str("expires_at"))
	require.NoError(t, err)
	require.Equal(t, testStart.Add(28*24*time.Hour), expires)

	h.advanceBy("P28D")
	tr := h.transaction(id)
	require.Equal(t, "EXPIRED", tr.str("state"))
	require.Equal(t, "EXPIRED", tr.str("payment_funding.state"))
	requireError(t, h.capture(id, nil, http.StatusConflict), http.StatusConflict, "INVALID_STATE_TRANSITION", "")
	h.advanceBy("P7D")
	require.Equal(t, "CLOSED", h.transaction(id).str("state"))
	require.Equal(t, []string{
		"payment.transaction.state-change.authorized", "payment.transaction.state-change.expired", "payment.transaction.state-change.closed",
	}, rc.transactionEvents(t, id, 3))
}

// TestTooManyCaptures follows Klarna's "Capture a payment transaction" page: at most 200 captures
// on one transaction (docs.klarna.com/klarna-network-distribution/after-payments/
// manage-payment-transactions/capture-a-payment-transaction), beyond which Klarna answers 403 as
// its "Refund a Payment Transaction" page says of its limits (docs.klarna.com/acquirer/
// klarna-network/after-payments/manage-payment-transactions/refund-a-payment-transaction/).
func TestTooManyCaptures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := oneTime(1000)
	id := h.approved(body)
	for range 200 {
		h.capture(id, map[string]any{"captured_amount": 1}, http.StatusCreated)
	}
	r := h.capture(id, map[string]any{"captured_amount": 1}, http.StatusForbidden)
	requireError(t, r, http.StatusForbidden, "FORBIDDEN", "")
	require.Equal(t, "ACCESS_ERROR", r.str("error_type"))
}

// TestCaptureRepeatedWithItsIdempotencyKey: a capture retried with its Klarna-Idempotency-Key
// gets the first answer and captures nothing more (docs/klarna.md §1: the key is honoured on
// every POST and PATCH).
func TestCaptureRepeatedWithItsIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.approved(oneTime(5000))
	body := map[string]any{"captured_amount": 1000}
	first := h.do(http.MethodPost, h.transactionPath(id, "/captures"), body, "Klarna-Idempotency-Key", "capture-1")
	require.Equal(t, http.StatusCreated, first.status, first.body)
	again := h.do(http.MethodPost, h.transactionPath(id, "/captures"), body, "Klarna-Idempotency-Key", "capture-1")
	require.Equal(t, first.body, again.body)
	require.Len(t, h.transaction(id).get("payment_captures"), 1)
}
