package klarna

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The Payment Transaction API: what happens to an authorized transaction (docs/klarna.md §10).
// Klarna allows at most 200 captures, 200 refunds and 500 operations in all on one transaction and
// answers 403 beyond ("Capture a payment transaction", "Refund payment transactions and
// allocation"); the client passes that answer on as an *Error like any other.

// TransactionParams names one payment transaction of an account, with the headers of a call on
// it.
type TransactionParams struct {
	// AccountID is the partner account; empty means the client's default.
	AccountID            string
	PaymentTransactionID string
	// IdempotencyKey identifies the operation; pass the same key when it is driven again, so
	// Klarna carries it out once. Empty means a fresh key, still reused by this call's retries.
	IdempotencyKey string
	CorrelationID  string
}

// CaptureParams is one capture: all or part of what remains authorized.
type CaptureParams struct {
	TransactionParams
	Request CaptureRequest
}

// CaptureRequest is the body of a capture. CapturedAmount 0 captures all that remains
// authorized.
type CaptureRequest struct {
	CapturedAmount          int64             `json:"captured_amount,omitempty"`
	PaymentCaptureReference string            `json:"payment_capture_reference,omitempty"`
	LineItems               []LineItem        `json:"line_items,omitempty"`
	Shipping                []CaptureShipping `json:"shipping,omitempty"`
}

// CaptureShipping is a shipment a capture sends, and how the customer tracks it.
type CaptureShipping struct {
	ShippingReference string `json:"shipping_reference,omitempty"`
	TrackingNumber    string `json:"tracking_number,omitempty"`
	TrackingURL       string `json:"tracking_url,omitempty"`
}

// RefundParams is one refund: of the transaction, or of one capture when PaymentCaptureID is set
// (Klarna allocates a refund of the transaction that has several captures by its line items).
type RefundParams struct {
	TransactionParams
	PaymentCaptureID string
	Request          RefundRequest
}

// RefundRequest is the body of a refund.
type RefundRequest struct {
	RefundedAmount         int64      `json:"refunded_amount"`
	PaymentRefundReference string     `json:"payment_refund_reference,omitempty"`
	LineItems              []LineItem `json:"line_items,omitempty"`
}

// PaymentCapture is one capture of a transaction.
type PaymentCapture struct {
	PaymentCaptureID        string    `json:"payment_capture_id"`
	PaymentCaptureReference string    `json:"payment_capture_reference,omitempty"`
	CapturedAmount          int64     `json:"captured_amount"`
	CapturedAt              time.Time `json:"captured_at"`
}

// PaymentRefund is one refund of a transaction; PaymentCaptureID names the capture refunded when
// it was made on one.
type PaymentRefund struct {
	PaymentRefundID        string    `json:"payment_refund_id"`
	PaymentRefundReference string    `json:"payment_refund_reference,omitempty"`
	PaymentCaptureID       string    `json:"payment_capture_id,omitempty"`
	RefundedAmount         int64     `json:"refunded_amount"`
	RefundedAt             time.Time `json:"refunded_at"`
}

// Capture captures all or part of what remains authorized of a transaction.
func (c *Client) Capture(ctx context.Context, p CaptureParams) (*PaymentCapture, error) {
	return send[PaymentCapture](ctx, c, c.transactionCall(p.TransactionParams, "/captures", p.Request))
}

// Refund refunds part or all of what was captured: of the transaction, or of one capture.
func (c *Client) Refund(ctx context.Context, p RefundParams) (*PaymentRefund, error) {
	rest := "/refunds"
	if p.PaymentCaptureID != "" {
		rest = "/captures/" + url.PathEscape(p.PaymentCaptureID) + "/refunds"
	}
	return send[PaymentRefund](ctx, c, c.transactionCall(p.TransactionParams, rest, p.Request))
}

// ReleaseRemaining voids a transaction: what remains authorized is released, and the transaction
// is CLOSED when nothing was captured, COMPLETED otherwise.
func (c *Client) ReleaseRemaining(ctx context.Context, p TransactionParams) (*PaymentTransaction, error) {
	return send[PaymentTransaction](ctx, c, c.transactionCall(p, "/void", nil))
}

// transactionCall is a POST on the sub-resource rest of a transaction.
func (c *Client) transactionCall(p TransactionParams, rest string, body any) call {
	return call{
		method:         http.MethodPost,
		path:           c.accountPath(p.AccountID, "/payment/transactions/"+url.PathEscape(p.PaymentTransactionID)+rest),
		body:           body,
		idempotencyKey: p.IdempotencyKey,
		correlationID:  p.CorrelationID,
	}
}
