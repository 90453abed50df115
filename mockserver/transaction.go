package mockserver

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// A payment transaction's life after authorization (docs/klarna.md §10): captures (full or
// partial), refunds (of the transaction or of one capture), a void that releases what remains
// authorized, updates of what the Partner said of the purchase, and the transitions its tenant's
// clock brings: AUTHORIZED -> EXPIRED at expires_at, and EXPIRED -> CLOSED (nothing captured) or
// COMPLETED (partly captured) ExpiredTransactionKept later.
//
// Timed transitions run on the one clock scheduler: a transaction that still has one ahead keeps
// one timer, holding its ids only, due at the next one; reaching COMPLETED or CLOSED stops it, as
// does forgetting the tenant. Every operation also applies and announces what is already due
// (due), and every read shows it, so a call racing the timer sees the state the tenant's clock
// says; whichever of the two stores the transition first announces it, once.

// Klarna's limits on one payment transaction (docs/klarna.md §10); an operation past them is
// refused with 403.
const (
	MaxCaptures   = 200
	MaxRefunds    = 200
	MaxOperations = 500
)

// CaptureNow is request_payment_transaction.capture for a capture with the authorization.
const CaptureNow = "NOW"

// PrefixPaymentRefund is the id prefix of the refunds the mock issues.
const PrefixPaymentRefund = "krn:payment:" + Region + ":refund:"

// Payment transaction events after authorization, with Klarna's names (docs/klarna.md §8, §10,
// where the refund's is marked inferred); EventTransactionAuthorized announces the authorization
// itself.
const (
	EventTransactionCaptured  = "payment.transaction.captured"
	EventTransactionRefunded  = "payment.transaction.refunded"
	EventTransactionCompleted = "payment.transaction.state-change.completed"
	EventTransactionExpired   = "payment.transaction.state-change.expired"
	EventTransactionClosed    = "payment.transaction.state-change.closed"
)

// Funding states of payment_funding.state.
const (
	FundingFunded  = "FUNDED"
	FundingExpired = "EXPIRED"
)

// PaymentCapture is one capture of a transaction: with the authorization (capture: NOW) or later.
type PaymentCapture struct {
	PaymentCaptureID        string            `json:"payment_capture_id"`
	PaymentCaptureReference string            `json:"payment_capture_reference,omitempty"`
	CapturedAmount          int64             `json:"captured_amount"`
	CapturedAt              time.Time         `json:"captured_at"`
	LineItems               []LineItem        `json:"line_items,omitempty"`
	Shipping                []CaptureShipping `json:"shipping,omitempty"`
}

// CaptureShipping is a shipment a capture sends: which of the purchase's shipping entries it is
// and how the customer tracks it.
type CaptureShipping struct {
	ShippingReference string `json:"shipping_reference,omitempty"`
	TrackingNumber    string `json:"tracking_number,omitempty"`
	TrackingURL       string `json:"tracking_url,omitempty"`
}

// PaymentRefund is one refund; PaymentCaptureID names the capture it refunds when it was made on
// one.
type PaymentRefund struct {
	PaymentRefundID        string     `json:"payment_refund_id"`
	PaymentRefundReference string     `json:"payment_refund_reference,omitempty"`
	PaymentCaptureID       string     `json:"payment_capture_id,omitempty"`
	RefundedAmount         int64      `json:"refunded_amount"`
	RefundedAt             time.Time  `json:"refunded_at"`
	LineItems              []LineItem `json:"line_items,omitempty"`
}

// CaptureRequest is the body of a capture. CapturedAmount zero captures all that remains
// authorized.
type CaptureRequest struct {
	CapturedAmount          int64             `json:"captured_amount,omitempty"`
	PaymentCaptureReference string            `json:"payment_capture_reference,omitempty"`
	LineItems               []LineItem        `json:"line_items,omitempty"`
	Shipping                []CaptureShipping `json:"shipping,omitempty"`
}

// RefundRequest is the body of a refund, of the transaction or of one capture.
type RefundRequest struct {
	RefundedAmount         int64      `json:"refunded_amount"`
	PaymentRefundReference string     `json:"payment_refund_reference,omitempty"`
	LineItems              []LineItem `json:"line_items,omitempty"`
}

// TransactionUpdate is the body of a transaction update: the fields given replace the
// transaction's, the others stay; within supplementary_purchase_data too.
type TransactionUpdate struct {
	PaymentTransactionReference string                     `json:"payment_transaction_reference,omitempty"`
	SupplementaryPurchaseData   *SupplementaryPurchaseData `json:"supplementary_purchase_data,omitempty"`
}

// newTransaction builds the transaction an approved authorize creates for rpt, keeping what spd
// says of the purchase. With capture: NOW it is created COMPLETED with one capture of the full
// amount (docs/klarna.md §10).
func newTransaction(accountID, currency string, rpt *PaymentTransactionRequest, spd *SupplementaryPurchaseData, now time.Time) *PaymentTransaction {
	tr := &PaymentTransaction{
		AccountID:                   accountID,
		PaymentTransactionID:        NewID(PrefixPaymentTransaction),
		PaymentTransactionReference: rpt.PaymentTransactionReference,
		Amount:                      rpt.Amount,
		Currency:                    currency,
		State:                       TransactionAuthorized,
		PaymentFunding:              PaymentFunding{Type: "GUARANTEED", State: FundingFunded},
		CreatedAt:                   now,
		UpdatedAt:                   now,
		ExpiresAt:                   now.Add(TransactionExpiry),
		SupplementaryPurchaseData:   purchaseData(spd),
	}
	if rpt.Capture == CaptureNow {
		tr.State = TransactionCompleted
		tr.PaymentCaptures = []PaymentCapture{{PaymentCaptureID: NewID(PrefixPaymentCapture), CapturedAmount: rpt.Amount, CapturedAt: now}}
		tr.Operations = 1
	}
	return tr
}

// purchaseData is what a transaction keeps of an authorize's supplementary purchase data: the
// purchase reference, line items, customer and shipping; nil when there is none of them.
func purchaseData(spd *SupplementaryPurchaseData) *SupplementaryPurchaseData {
	if spd == nil || spd.PurchaseReference == "" && len(spd.LineItems) == 0 && spd.Customer == nil && len(spd.Shipping) == 0 {
		return nil
	}
	return &SupplementaryPurchaseData{PurchaseReference: spd.PurchaseReference, LineItems: spd.LineItems, Customer: spd.Customer, Shipping: spd.Shipping}
}

// mergePurchaseData returns old with the fields update gives replaced, as an update applies them;
// old is left unchanged.
func mergePurchaseData(old, update *SupplementaryPurchaseData) *SupplementaryPurchaseData {
	merged := SupplementaryPurchaseData{}
	if old != nil {
		merged = *old
	}
	if update.PurchaseReference != "" {
		merged.PurchaseReference = update.PurchaseReference
	}
	if update.LineItems != nil {
		merged.LineItems = update.LineItems
	}
	if update.Customer != nil {
		merged.Customer = update.Customer
	}
	if update.Shipping != nil {
		merged.Shipping = update.Shipping
	}
	if update.Subscriptions != nil {
		merged.Subscriptions = update.Subscriptions
	}
	if update.OndemandService != nil {
		merged.OndemandService = update.OndemandService
	}
	return &merged
}

// appendTransactionEvents appends to events those announcing a new transaction: its
// authorization, or for capture: NOW its capture and completion (at most two).
func appendTransactionEvents(events []Event, tr *PaymentTransaction, now time.Time) []Event {
	if tr.State == TransactionCompleted {
		return append(events, transactionEvent(EventTransactionCaptured, tr, now), transactionEvent(EventTransactionCompleted, tr, now))
	}
	return append(events, transactionEvent(EventTransactionAuthorized, tr, now))
}

// transactionEvent is an event about a transaction, carrying the transaction as it is now.
func transactionEvent(typ string, tr *PaymentTransaction, at time.Time) Event {
	return newEvent(typ, tr.AccountID, tr.PaymentTransactionID, at, tr)
}

// Clone returns a copy that can be changed without touching t: the captures and refunds are
// copied; what they and the purchase data hold is shared, because changes replace it.
func (t *PaymentTransaction) Clone() *PaymentTransaction {
	c := *t
	c.PaymentCaptures = slices.Clone(t.PaymentCaptures)
	c.PaymentRefunds = slices.Clone(t.PaymentRefunds)
	return &c
}

// captured is the total of the transaction's captures.
func (t *PaymentTransaction) captured() int64 {
	var n int64
	for _, c := range t.PaymentCaptures {
		n += c.CapturedAmount
	}
	return n
}

// refunded is the total refunded: of the capture captureID, or of every refund when captureID
// is empty.
func (t *PaymentTransaction) refunded(captureID string) int64 {
	var n int64
	for _, r := range t.PaymentRefunds {
		if captureID == "" || r.PaymentCaptureID == captureID {
			n += r.RefundedAmount
		}
	}
	return n
}

// remaining is what is still authorized and may be captured.
func (t *PaymentTransaction) remaining() int64 { return t.Amount - t.captured() - t.ReleasedAmount }

// capture returns the transaction's capture with the id, if it has one.
func (t *PaymentTransaction) capture(id string) (PaymentCapture, bool) {
	for _, c := range t.PaymentCaptures {
		if c.PaymentCaptureID == id {
			return c, true
		}
	}
	return PaymentCapture{}, false
}

// nextDue is when the transaction's next timed transition falls due; zero when it has none.
func nextDue(t *PaymentTransaction) time.Time {
	switch {
	case t.ExpiresAt.IsZero():
		return time.Time{}
	case t.State == TransactionAuthorized:
		return t.ExpiresAt
	case t.State == TransactionExpired:
		return t.ExpiresAt.Add(ExpiredTransactionKept)
	}
	return time.Time{}
}

// due applies to t the timed transitions that have fallen due by now: an AUTHORIZED transaction
// expires at expires_at, and an EXPIRED one closes ExpiredTransactionKept later, or completes if
// it was partly captured, its remaining authorization released (docs/klarna.md §10). It returns
// t itself when nothing is due, else a changed copy and the transitions' events, each at the
// time it fell due.
func due(t *PaymentTransaction, now time.Time) (*PaymentTransaction, []Event) {
	var events []Event
	for {
		at := nextDue(t)
		if at.IsZero() || now.Before(at) {
			return t, events
		}
		next := t.Clone()
		next.UpdatedAt = at
		event := EventTransactionExpired
		if t.State == TransactionAuthorized {
			next.become(TransactionExpired)
		} else {
			event = next.release()
		}
		events = append(events, transactionEvent(event, next, at))
		t = next
	}
}

// Capture captures part or all of what remains authorized of a transaction and returns the
// capture (docs/klarna.md §10). A capture that leaves nothing authorized completes it.
func (s *Service) Capture(accountID, transactionID string, req CaptureRequest) (*PaymentCapture, error) {
	var made PaymentCapture
	_, err := s.updateTransaction(accountID, transactionID, func(tr *PaymentTransaction, now time.Time) (*PaymentTransaction, []Event, error) {
		if err := mayOperate(tr, "captured"); err != nil {
			return nil, nil, err
		}
		if err := checkCount(tr, len(tr.PaymentCaptures), MaxCaptures, "captures"); err != nil {
			return nil, nil, err
		}
		amount, remaining := req.CapturedAmount, tr.remaining()
		if amount == 0 {
			amount = remaining
		}
		if amount > remaining {
			return nil, nil, Invalid("captured_amount", fmt.Sprintf("only %d remains authorized to capture, not %d", remaining, amount))
		}
		if err := checkItemsTotal(req.LineItems, amount, "captured_amount"); err != nil {
			return nil, nil, err
		}
		made = PaymentCapture{
			PaymentCaptureID:        NewID(PrefixPaymentCapture),
			PaymentCaptureReference: req.PaymentCaptureReference,
			CapturedAmount:          amount,
			CapturedAt:              now,
			LineItems:               req.LineItems,
			Shipping:                req.Shipping,
		}
		next := operated(tr, now)
		next.PaymentCaptures = append(next.PaymentCaptures, made)
		events := []Event{transactionEvent(EventTransactionCaptured, next, now)}
		if next.remaining() == 0 {
			next.become(TransactionCompleted)
			events = append(events, transactionEvent(EventTransactionCompleted, next, now))
		}
		return next, events, nil
	})
	if err != nil {
		return nil, err
	}
	return &made, nil
}

// Refund refunds part or all of what was captured and returns the refund (docs/klarna.md §10):
// of the capture captureID, or of the transaction when captureID is empty. A refund of the
// transaction must list its line_items once it has several captures, so that the refund can be
// allocated to them.
func (s *Service) Refund(accountID, transactionID, captureID string, req RefundRequest) (*PaymentRefund, error) {
	var made PaymentRefund
	_, err := s.updateTransaction(accountID, transactionID, func(tr *PaymentTransaction, now time.Time) (*PaymentTransaction, []Event, error) {
		if tr.State == TransactionClosed {
			return nil, nil, notAllowed(tr, "refunded")
		}
		if captureID == "" && len(tr.PaymentCaptures) == 0 {
			return nil, nil, Conflict(fmt.Sprintf("Payment transaction %s has no capture; only a captured amount can be refunded.", tr.PaymentTransactionID))
		}
		if err := checkOperations(tr); err != nil {
			return nil, nil, err
		}
		if err := checkCount(tr, len(tr.PaymentRefunds), MaxRefunds, "refunds"); err != nil {
			return nil, nil, err
		}
		refundable := tr.captured() - tr.refunded("")
		if captureID != "" {
			c, ok := tr.capture(captureID)
			if !ok {
				return nil, nil, NotFound("Payment capture", captureID)
			}
			refundable = min(refundable, c.CapturedAmount-tr.refunded(captureID))
		} else if len(tr.PaymentCaptures) > 1 && len(req.LineItems) == 0 {
			return nil, nil, Invalid("line_items", fmt.Sprintf("the transaction has %d captures; list the refunded line items so the refund can be allocated to them, or refund one capture", len(tr.PaymentCaptures)))
		}
		if req.RefundedAmount > refundable {
			return nil, nil, Invalid("refunded_amount", fmt.Sprintf("only %d is captured and not yet refunded, not %d", refundable, req.RefundedAmount))
		}
		if err := checkItemsTotal(req.LineItems, req.RefundedAmount, "refunded_amount"); err != nil {
			return nil, nil, err
		}
		made = PaymentRefund{
			PaymentRefundID:        NewID(PrefixPaymentRefund),
			PaymentRefundReference: req.PaymentRefundReference,
			PaymentCaptureID:       captureID,
			RefundedAmount:         req.RefundedAmount,
			RefundedAt:             now,
			LineItems:              req.LineItems,
		}
		next := operated(tr, now)
		next.PaymentRefunds = append(next.PaymentRefunds, made)
		return next, []Event{transactionEvent(EventTransactionRefunded, next, now)}, nil
	})
	if err != nil {
		return nil, err
	}
	return &made, nil
}

// Void releases what remains authorized of an AUTHORIZED transaction, which is not fully
// captured by definition (docs/klarna.md §10): it becomes CLOSED when nothing was captured,
// COMPLETED otherwise.
func (s *Service) Void(accountID, transactionID string) (*PaymentTransaction, error) {
	return s.updateTransaction(accountID, transactionID, func(tr *PaymentTransaction, now time.Time) (*PaymentTransaction, []Event, error) {
		if err := mayOperate(tr, "voided"); err != nil {
			return nil, nil, err
		}
		next := operated(tr, now)
		event := next.release()
		return next, []Event{transactionEvent(event, next, now)}, nil
	})
}

// UpdateTransaction changes what the Partner said of an AUTHORIZED transaction: its reference
// and its supplementary purchase data (docs/klarna.md §10). Klarna names no event for it.
func (s *Service) UpdateTransaction(accountID, transactionID string, u TransactionUpdate) (*PaymentTransaction, error) {
	return s.updateTransaction(accountID, transactionID, func(tr *PaymentTransaction, now time.Time) (*PaymentTransaction, []Event, error) {
		if err := mayOperate(tr, "updated"); err != nil {
			return nil, nil, err
		}
		next := operated(tr, now)
		if u.PaymentTransactionReference != "" {
			next.PaymentTransactionReference = u.PaymentTransactionReference
		}
		if u.SupplementaryPurchaseData != nil {
			next.SupplementaryPurchaseData = purchaseData(mergePurchaseData(tr.SupplementaryPurchaseData, u.SupplementaryPurchaseData))
			if next.SupplementaryPurchaseData != nil && len(u.SupplementaryPurchaseData.LineItems) > 0 {
				if err := checkItemsTotal(next.SupplementaryPurchaseData.LineItems, next.Amount, "supplementary_purchase_data.line_items"); err != nil {
					return nil, nil, err
				}
			}
		}
		return next, nil, nil
	})
}

// become moves t, a copy being changed, to state, with the funding state that goes with it: an
// authorization that lapsed or was released uncaptured funds nothing any more.
func (t *PaymentTransaction) become(state string) {
	t.State = state
	t.PaymentFunding.State = FundingFunded
	if state == TransactionExpired || state == TransactionClosed {
		t.PaymentFunding.State = FundingExpired
	}
}

// release gives up what remains authorized of t, a copy being changed: it becomes COMPLETED when
// something was captured and CLOSED otherwise. It returns the event announcing the new state.
func (t *PaymentTransaction) release() string {
	t.ReleasedAmount += t.remaining()
	if len(t.PaymentCaptures) > 0 {
		t.become(TransactionCompleted)
		return EventTransactionCompleted
	}
	t.become(TransactionClosed)
	return EventTransactionClosed
}

// operated is a copy of tr counting one more operation, changed at now.
func operated(tr *PaymentTransaction, now time.Time) *PaymentTransaction {
	next := tr.Clone()
	next.Operations++
	next.UpdatedAt = now
	return next
}

// notAllowed refuses an operation the transaction's state does not allow (409).
func notAllowed(tr *PaymentTransaction, done string) error {
	return Conflict(fmt.Sprintf("Payment transaction %s is %s and cannot be %s.", tr.PaymentTransactionID, tr.State, done))
}

// mayOperate refuses an operation that only an AUTHORIZED transaction allows on one that is not
// (409), or on one past Klarna's limit of operations (403).
func mayOperate(tr *PaymentTransaction, done string) error {
	if tr.State != TransactionAuthorized {
		return notAllowed(tr, done)
	}
	return checkOperations(tr)
}

// checkCount refuses an operation past Klarna's limit of its kind (captures, refunds) on one
// transaction, n of limit already made (403, docs/klarna.md §10).
func checkCount(tr *PaymentTransaction, n, limit int, kind string) error {
	if n >= limit {
		return NewError(CodeForbidden, fmt.Sprintf("Payment transaction %s already has %d %s, the most Klarna allows on one transaction.", tr.PaymentTransactionID, limit, kind))
	}
	return nil
}

// checkOperations refuses an operation once the transaction has had MaxOperations of every kind
// together (403).
func checkOperations(tr *PaymentTransaction) error {
	if tr.Operations >= MaxOperations {
		return NewError(CodeForbidden, fmt.Sprintf(
			"Payment transaction %s has had %d operations (captures, refunds, updates and voids), the most Klarna allows on one transaction.", tr.PaymentTransactionID, MaxOperations))
	}
	return nil
}

// checkItemsTotal refuses line items that do not add up to the amount they describe, named by
// parameter; no line items is fine.
func checkItemsTotal(items []LineItem, amount int64, parameter string) error {
	if len(items) == 0 {
		return nil
	}
	var sum int64
	for _, li := range items {
		sum += li.TotalAmount
	}
	if sum != amount {
		return Invalid(parameter, fmt.Sprintf("the line items' total_amount add up to %d, not to %d", sum, amount))
	}
	return nil
}

// updateTransaction changes a payment transaction of the account in one write transaction. It
// first applies what the tenant's clock has made due, so no call acts on a lapsed state; change,
// when given, then gets the transaction and the time and returns the one to store and the events
// to publish once it is stored. A transaction the account does not have is a 404. Afterwards the
// transaction's timer is set for its next timed transition, or stopped when it has none.
func (s *Service) updateTransaction(accountID, id string, change func(tr *PaymentTransaction, now time.Time) (*PaymentTransaction, []Event, error)) (*PaymentTransaction, error) {
	var out *PaymentTransaction
	var events []Event
	err := s.store.Update(func(tx Tx) error {
		stored, err := tx.PaymentTransaction(accountID, id)
		if err != nil {
			return notFound(err, "Payment transaction", id)
		}
		now := s.ClockOf(stored.AccountID).Now()
		out, events = due(stored, now)
		if change != nil {
			next, more, err := change(out, now)
			if err != nil {
				return err
			}
			out, events = next, append(events, more...)
		}
		if out == stored {
			return nil
		}
		if err := tx.PutPaymentTransaction(out); err != nil {
			return err
		}
		return s.emit(tx, events...)
	})
	if err != nil {
		return nil, err
	}
	s.track(out)
	s.publish(events...)
	return out, nil
}

// track sets the transaction's one timer for its next timed transition, replacing any it had,
// or stops it when the transaction has none left. The timer holds ids only.
func (s *Service) track(tr *PaymentTransaction) {
	tenant, _ := SplitScope(tr.AccountID)
	accountID, id := tr.AccountID, tr.PaymentTransactionID
	at := nextDue(tr)
	if at.IsZero() {
		s.txTimers.done(tenant, id)
		return
	}
	c := s.ClockOf(accountID)
	s.txTimers.schedule(tenant, id, func() requestTimer {
		return requestTimer{expiry: c.At(at, func() { s.transactionDue(accountID, id) })}
	})
}

// transactionDue applies a transaction's timed transitions when its timer fires. A transaction
// that no longer exists (dropped, or its tenant forgotten) is left alone, and its timer is done.
func (s *Service) transactionDue(accountID, id string) {
	_, err := s.updateTransaction(accountID, id, nil)
	var ke *Error
	switch {
	case err == nil:
	case errors.As(err, &ke) && ke.Status < 500:
		tenant, _ := SplitScope(accountID)
		s.txTimers.done(tenant, id)
	default:
		s.log.Error("applying a payment transaction's timed transition", "payment_transaction_id", id, "err", err)
	}
}

// startTransaction sets the timer of the transaction an authorize answered with, once stored.
func (s *Service) startTransaction(resp *AuthorizeResponse) {
	if ptr := resp.PaymentTransactionResponse; ptr != nil && ptr.PaymentTransaction != nil {
		s.track(ptr.PaymentTransaction)
	}
}
