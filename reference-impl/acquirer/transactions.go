package acquirer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// A payment's life after authorization: the Partner captures what it ships, refunds what comes
// back and releases what it will not ship, and the AP carries each out on the Klarna payment
// transaction (docs/klarna.md §10). The AP checks the amounts against what it recorded before it
// calls Klarna, so an over-capture is refused with the AP's own error; Klarna's refusals (its
// limits of 200 captures, 200 refunds and 500 operations per transaction, answered 403, or a
// state that no longer allows the operation, 409) are passed on to the Partner as
// KLARNA_REJECTED with Klarna's error.

// Capture is one capture of a payment's transaction.
type Capture struct {
	// ID is Klarna's payment_capture_id; keep it to refund this capture.
	ID         string
	Reference  string
	Amount     int64
	CapturedAt time.Time
	// Key is the Klarna idempotency key it was made under, "" for none (transactionParams).
	Key string
}

// Refund is one refund of a payment's transaction.
type Refund struct {
	// ID is Klarna's payment_refund_id; CaptureID the capture refunded, when one was named.
	ID         string
	CaptureID  string
	Reference  string
	Amount     int64
	RefundedAt time.Time
	Key        string
}

// CaptureResource is a capture as Partners see it (schema PaymentCapture).
type CaptureResource struct {
	CaptureID  string    `json:"capture_id"`
	Reference  string    `json:"reference,omitempty"`
	Amount     int64     `json:"amount"`
	CapturedAt time.Time `json:"captured_at"`
}

// RefundResource is a refund as Partners see it (schema PaymentRefund).
type RefundResource struct {
	RefundID   string    `json:"refund_id"`
	CaptureID  string    `json:"capture_id,omitempty"`
	Reference  string    `json:"reference,omitempty"`
	Amount     int64     `json:"amount"`
	RefundedAt time.Time `json:"refunded_at"`
}

// transactionResource adds what became of the payment's transaction to r.
func (p *Payment) transactionResource(r *PaymentResource) {
	r.CapturedAmount, r.RefundedAmount = p.captured(), p.refunded()
	for _, c := range p.Captures {
		r.Captures = append(r.Captures, CaptureResource{CaptureID: c.ID, Reference: c.Reference, Amount: c.Amount, CapturedAt: c.CapturedAt})
	}
	for _, f := range p.Refunds {
		r.Refunds = append(r.Refunds, RefundResource{RefundID: f.ID, CaptureID: f.CaptureID, Reference: f.Reference, Amount: f.Amount, RefundedAt: f.RefundedAt})
	}
	if !p.ReleasedAt.IsZero() {
		t := p.ReleasedAt
		r.ReleasedAt = &t
	}
}

func captureOf(c *klarna.PaymentCapture) Capture {
	return Capture{ID: c.PaymentCaptureID, Reference: c.PaymentCaptureReference, Amount: c.CapturedAmount, CapturedAt: c.CapturedAt}
}

// captured is what the payment's captures add up to; refunded what its refunds add up to.
func (p *Payment) captured() int64 {
	var n int64
	for _, c := range p.Captures {
		n += c.Amount
	}
	return n
}

func (p *Payment) refunded() int64 {
	var n int64
	for _, r := range p.Refunds {
		n += r.Amount
	}
	return n
}

// capturable is what remains authorized to capture: nothing once the rest was released.
func (p *Payment) capturable() int64 {
	if !p.ReleasedAt.IsZero() {
		return 0
	}
	return p.Amount - p.captured()
}

// CaptureRequest captures all or part of what remains authorized of a session's or charge's
// purchase.
type CaptureRequest struct {
	// IdempotencyKey is the Partner's Idempotency-Key: a retry under it captures once.
	IdempotencyKey string
	// Amount is in minor units; 0 captures all that remains.
	Amount    int64
	Reference string
	LineItems []klarna.LineItem
	Shipping  []klarna.CaptureShipping
}

// RefundRequest refunds part or all of what was captured.
type RefundRequest struct {
	IdempotencyKey string
	Amount         int64
	// CaptureID names the capture to refund (Klarna's payment_capture_id); empty refunds the
	// transaction, which Klarna allocates over several captures by LineItems.
	CaptureID string
	Reference string
	LineItems []klarna.LineItem
}

// Capture captures part or all of what remains authorized of one of the Partner's payments of a
// kind, and returns the payment with the capture.
func (s *Service) Capture(ctx context.Context, partner Partner, kind Kind, id string, req CaptureRequest) (*Payment, error) {
	p, err := s.transactionOf(partner, kind, id, "capture")
	if err != nil {
		return nil, err
	}
	tp := s.transactionParams(ctx, p, "capture", req.IdempotencyKey)
	if tp.IdempotencyKey != "" && slices.ContainsFunc(p.Captures, func(c Capture) bool { return c.Key == tp.IdempotencyKey }) {
		return p, nil // the Partner's retry of a capture made: its answer again
	}
	remains := p.capturable()
	amount := req.Amount
	if amount == 0 {
		amount = remains
	}
	switch {
	case remains == 0:
		return nil, NewError(CodeInvalidState, fmt.Sprintf("Nothing of %s remains to capture: %d of %d captured%s.", p.ID, p.captured(), p.Amount, releasedNote(p)))
	case amount < 0 || amount > remains:
		return nil, Invalid(FieldError{Parameter: "amount", Message: fmt.Sprintf("at most %d remains to capture (%d of %d captured)", remains, p.captured(), p.Amount)})
	}
	c, err := s.klarna.Capture(context.WithoutCancel(ctx), klarna.CaptureParams{
		TransactionParams: tp,
		Request:           klarna.CaptureRequest{CapturedAmount: amount, PaymentCaptureReference: req.Reference, LineItems: req.LineItems, Shipping: req.Shipping},
	})
	if err != nil {
		return nil, operationFailure(err)
	}
	s.log.Info("captured", "payment_id", p.ID, "partner_id", p.PartnerID, "amount", c.CapturedAmount, "payment_capture_id", c.PaymentCaptureID)
	return s.record(p.ID, func(cur *Payment) *Payment {
		if slices.ContainsFunc(cur.Captures, func(have Capture) bool { return have.ID == c.PaymentCaptureID }) {
			return nil // a retry Klarna answered with the capture it made before
		}
		next := cur.clone(s.now())
		made := captureOf(c)
		made.Key = tp.IdempotencyKey
		next.Captures = append(slices.Clone(cur.Captures), made)
		return next
	})
}

// Refund refunds part or all of what was captured of one of the Partner's payments of a kind,
// and returns the payment with the refund.
func (s *Service) Refund(ctx context.Context, partner Partner, kind Kind, id string, req RefundRequest) (*Payment, error) {
	p, err := s.transactionOf(partner, kind, id, "refund")
	if err != nil {
		return nil, err
	}
	tp := s.transactionParams(ctx, p, "refund", req.IdempotencyKey)
	if tp.IdempotencyKey != "" && slices.ContainsFunc(p.Refunds, func(r Refund) bool { return r.Key == tp.IdempotencyKey }) {
		return p, nil
	}
	refundable := p.captured() - p.refunded()
	if req.CaptureID != "" {
		i := slices.IndexFunc(p.Captures, func(c Capture) bool { return c.ID == req.CaptureID })
		if i < 0 {
			return nil, Invalid(FieldError{Parameter: "capture_id", Message: "is not a capture of " + p.ID})
		}
		refundable = p.Captures[i].Amount
		for _, r := range p.Refunds {
			if r.CaptureID == req.CaptureID {
				refundable -= r.Amount
			}
		}
	}
	if req.Amount <= 0 || req.Amount > refundable {
		return nil, Invalid(FieldError{Parameter: "amount", Message: fmt.Sprintf("at most %d was captured and not yet refunded", refundable)})
	}
	r, err := s.klarna.Refund(context.WithoutCancel(ctx), klarna.RefundParams{
		TransactionParams: tp,
		PaymentCaptureID:  req.CaptureID,
		Request:           klarna.RefundRequest{RefundedAmount: req.Amount, PaymentRefundReference: req.Reference, LineItems: req.LineItems},
	})
	if err != nil {
		return nil, operationFailure(err)
	}
	s.log.Info("refunded", "payment_id", p.ID, "partner_id", p.PartnerID, "amount", r.RefundedAmount, "payment_refund_id", r.PaymentRefundID)
	return s.record(p.ID, func(cur *Payment) *Payment {
		if slices.ContainsFunc(cur.Refunds, func(have Refund) bool { return have.ID == r.PaymentRefundID }) {
			return nil
		}
		next := cur.clone(s.now())
		next.Refunds = append(slices.Clone(cur.Refunds), Refund{
			ID: r.PaymentRefundID, CaptureID: r.PaymentCaptureID, Reference: r.PaymentRefundReference, Amount: r.RefundedAmount, RefundedAt: r.RefundedAt, Key: tp.IdempotencyKey,
		})
		return next
	})
}

// Release releases what remains authorized of one of the Partner's payments of a kind (Klarna's
// void), so that nothing more can be captured, and returns the payment.
func (s *Service) Release(ctx context.Context, partner Partner, kind Kind, id, idempotencyKey string) (*Payment, error) {
	p, err := s.transactionOf(partner, kind, id, "release")
	if err != nil {
		return nil, err
	}
	tp := s.transactionParams(ctx, p, "release", idempotencyKey)
	if tp.IdempotencyKey != "" && tp.IdempotencyKey == p.ReleaseKey {
		return p, nil
	}
	if p.capturable() == 0 {
		return nil, NewError(CodeInvalidState, fmt.Sprintf("Nothing of %s remains authorized to release: %d of %d captured%s.", p.ID, p.captured(), p.Amount, releasedNote(p)))
	}
	tr, err := s.klarna.ReleaseRemaining(context.WithoutCancel(ctx), tp)
	if err != nil {
		return nil, operationFailure(err)
	}
	s.log.Info("authorization released", "payment_id", p.ID, "partner_id", p.PartnerID, "state", tr.State)
	return s.record(p.ID, func(cur *Payment) *Payment {
		if !cur.ReleasedAt.IsZero() {
			return nil
		}
		next := cur.clone(s.now())
		next.ReleasedAt, next.ReleaseKey = next.UpdatedAt, tp.IdempotencyKey
		return next
	})
}

// transactionOf returns the Partner's payment whose transaction an operation is to act on: a
// COMPLETED one with a purchase.
func (s *Service) transactionOf(partner Partner, kind Kind, id, operation string) (*Payment, error) {
	p, err := s.payment(partner, kind, id)
	if err != nil {
		return nil, err
	}
	if p.Status != StatusCompleted || p.PaymentTransactionID == "" {
		why := "it is " + string(p.Status)
		if p.Status == StatusCompleted {
			why = "it saved a customer token without a purchase"
		}
		return nil, NewError(CodeInvalidState, fmt.Sprintf("%s has no payment transaction to %s: %s.", p.ID, operation, why))
	}
	return p, nil
}

// transactionParams names p's transaction to Klarna. The Klarna idempotency key follows the
// Partner's, so a Partner's retry is one operation for Klarna, and the AP, which records the key
// with what the operation made, answers a retry of one it recorded without calling Klarna again
// (even when nothing is left to capture since); without a key every call is new.
func (s *Service) transactionParams(ctx context.Context, p *Payment, operation, idempotencyKey string) klarna.TransactionParams {
	tp := klarna.TransactionParams{AccountID: p.Authorize.AccountID, PaymentTransactionID: p.PaymentTransactionID, CorrelationID: RequestID(ctx)}
	if idempotencyKey != "" {
		tp.IdempotencyKey = operation + "-" + p.ID + "-" + idempotencyKey
	}
	return tp
}

// record stores what an operation Klarna carried out changed on payment id, deciding on the
// stored version (ch returns nil when the change is there already), and returns the payment.
// Unlike apply it announces nothing: the Partner asked for the operation and gets its answer.
func (s *Service) record(id string, ch func(cur *Payment) *Payment) (*Payment, error) {
	var next *Payment
	err := s.store.Update(func(tx Tx) error {
		cur, err := tx.Payment(id)
		if err != nil {
			return err
		}
		if next = ch(cur); next == nil {
			next = cur
			return nil
		}
		return tx.PutPayment(next)
	})
	if err != nil {
		return nil, err
	}
	return next, nil
}

func releasedNote(p *Payment) string {
	if p.ReleasedAt.IsZero() {
		return ""
	}
	return ", the rest released"
}

// operationFailure turns a failed transaction operation into the Partner's error. Klarna refusing
// it past its limits (403) or in the transaction's state (409) is an answer the Partner has to
// act on, as a refusal of its data is: KLARNA_REJECTED with Klarna's error.
func operationFailure(err error) *Error {
	var ke *klarna.Error
	if errors.As(err, &ke) && (ke.StatusCode == http.StatusForbidden || ke.StatusCode == http.StatusConflict) {
		return &Error{Code: CodeKlarnaRejected, Message: "Klarna refused the operation: " + ke.ErrorCode + ": " + ke.ErrorMessage, Err: err, Klarna: ke}
	}
	return klarnaFailure(err)
}
