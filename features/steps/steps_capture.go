package steps

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// A payment's life after authorization: the Partner captures, refunds and releases through the
// Acquiring Partner, which carries each out on Klarna's payment transaction. Klarna allows full
// and partial captures, at most 200 of them, and at most 200 refunds and 500 operations in all
// per transaction, answering 403 beyond ("Capture a payment transaction",
// docs.klarna.com/klarna-network-distribution/after-payments/manage-payment-transactions/capture-a-payment-transaction;
// "Refund payment transactions and allocation",
// docs.klarna.com/klarna-network-distribution/after-payments/manage-payment-transactions/refund-payment-transactions-and-allocation;
// docs/klarna.md §10).

// operation is one capture, refund or release the Partner asked for.
type operation struct {
	kind   string // "capture", "refund", "release"
	path   string
	body   map[string]any
	amount int64 // 0: what remains (a capture), or none (a release)
	// before is the journal's head before the call, so only what Klarna received for it counts.
	before uint64
	ans    *Answer
}

// captureSteps are the steps of captures, refunds and releases.
func (w *World) captureSteps() []Step {
	return []Step{
		{"Given", `^the Partner charged the customer's token ` + amount + ` for a subscription renewal, and Klarna approved it$`,
			"The When step charging the customer's saved token without the customer (captured later), then the Then step that the charge is approved at once.",
			w.chargedApproved},
		{"Given", `^Klarna already recorded (\d+) captures on the payment's transaction$`,
			"That many captures of 0.01 each are made at Klarna on the transaction of the last session or charge, directly with the Acquiring Partner's credentials and not through it, as another system of the Acquiring Partner's might have.",
			w.capturedAtKlarna},
		{"When", `^the Partner captures ` + amount + ` of the payment$`,
			"The Partner captures that amount of the last session or charge (POST .../captures, with an Idempotency-Key). When the Acquiring Partner accepts it, Klarna must have received the capture of that amount on the payment's transaction (forward-operation).",
			w.capturesAmount},
		{"When", `^the Partner captures what remains of the payment$`,
			"The Partner captures the rest of the last session or charge (POST .../captures without an amount), checked as the capture of an amount.",
			w.capturesRest},
		{"When", `^the Partner refunds ` + amount + ` of the payment$`,
			"The Partner refunds that amount of what was captured of the last session or charge (POST .../refunds), checked as a capture is.",
			w.refunds},
		{"When", `^the Partner releases what remains authorized of the payment$`,
			"The Partner releases the rest of the authorization of the last session or charge (POST .../release), after which nothing more can be captured; Klarna must have received the void of the payment's transaction (forward-operation).",
			w.releases},
		{"Then", `^the payment shows ` + amount + ` captured and ` + amount + ` refunded$`,
			"The Acquiring Partner accepted the Partner's last capture, refund or release, and its answer shows the payment with these captured_amount and refunded_amount (report-klarna-outcome).",
			w.shows},
		{"Then", `^Klarna holds the payment's transaction as (AUTHORIZED|COMPLETED|CLOSED), with (\d+) captures? and (\d+) refunds?$`,
			"Klarna's payment transaction of the last session or charge, read from Klarna, is in that state with that many captures and refunds (forward-operation).",
			w.klarnaHolds},
		{"Then", `^the Acquiring Partner refuses the (capture|refund) as more than the payment allows, without asking Klarna$`,
			"The Partner's last capture or refund was refused with 400 INVALID_REQUEST naming amount (refuse-bad-input), and Klarna received no capture or refund of that amount (refuse-bad-input-before-klarna).",
			w.refusesTooMuch},
		{"Then", `^the Acquiring Partner refuses the (capture|refund|release), as nothing remains to act on$`,
			"The Partner's last capture, refund or release was refused with 409 INVALID_STATE (refuse-bad-input).",
			w.refusesNothingLeft},
		{"Then", `^the Acquiring Partner passes on Klarna's refusal past its limits$`,
			"The Partner's last capture, refund or release was answered 422 KLARNA_REJECTED with Klarna's 403 in klarna_error (report-klarna-outcome).",
			w.passesOnLimit},
	}
}

func (w *World) chargedApproved(ctx context.Context, amt, currency string) error {
	if err := w.chargesRenewal(ctx, amt, currency, ""); err != nil {
		return err
	}
	return w.approvedAtOnce("charge", "")
}

// transactionOf returns the current payment with its Klarna payment transaction.
func (w *World) transactionOf() (*op, error) {
	o, err := w.createdOp()
	if err != nil {
		return nil, err
	}
	if o.res.PaymentTransactionID == "" {
		return nil, w.outcome(o, "the %s %s has no payment_transaction_id to capture, refund or release", o.what, o.res.ID)
	}
	return o, nil
}

func (w *World) transactionPath(o *op) string {
	return "/v2/accounts/" + url.PathEscape(w.env.account) + "/payment/transactions/" + url.PathEscape(o.res.PaymentTransactionID)
}

func (w *World) capturedAtKlarna(n int) error {
	o, err := w.transactionOf()
	if err != nil {
		return err
	}
	for i := range n {
		if err := w.env.klarna.Do(http.MethodPost, w.transactionPath(o)+"/captures", w.env.apKlarnaKey, map[string]any{"captured_amount": 1}, nil); err != nil {
			return fmt.Errorf("capture %d of %d at Klarna: %w", i+1, n, err)
		}
	}
	return nil
}

// operate sends the Partner's capture, refund or release of the current payment, with a fresh
// Idempotency-Key, and checks that an accepted one reached Klarna.
func (w *World) operate(ctx context.Context, kind string, amount int64, body map[string]any) error {
	o, err := w.transactionOf()
	if err != nil {
		return err
	}
	suffix := map[string]string{"capture": "/captures", "refund": "/refunds", "release": "/release"}[kind]
	op := &operation{kind: kind, path: o.path + "/" + o.res.ID + suffix, body: body, amount: amount}
	if op.before, err = w.env.journalHead(); err != nil {
		return err
	}
	var payload any
	if body != nil {
		payload = body
	}
	if op.ans, err = w.call(ctx, http.MethodPost, op.path, o.key, payload, http.Header{"Idempotency-Key": {uuid.NewString()}}); err != nil {
		return err
	}
	w.operation = op
	if err := op.ans.contractErr(); err != nil {
		return err
	}
	if op.ans.Status >= 300 {
		return nil // the Then steps judge a refusal
	}
	return w.checkForwarded(o, op)
}

// checkForwarded checks that Klarna received the operation the Acquiring Partner accepted.
func (w *World) checkForwarded(o *op, op *operation) error {
	klarnaPath := map[string]string{"capture": "/captures", "refund": "/refunds", "release": "/void"}[op.kind]
	entries, err := w.journalOf(o.res.PaymentTransactionID)
	if err != nil {
		return err
	}
	field := map[string]string{"capture": "captured_amount", "refund": "refunded_amount"}[op.kind]
	for _, e := range entries {
		if e.Method != http.MethodPost || e.Seq <= op.before || !strings.HasSuffix(e.Path, klarnaPath) || e.Status >= 300 {
			continue
		}
		// A release has no amount, and a capture of what remains may name it or not.
		got, _ := e.field(field)
		if f, ok := got.(float64); field == "" || op.amount == 0 || ok && int64(f) == op.amount {
			return nil
		}
	}
	return broke(RuleForwardOperation, "the Acquiring Partner accepted the Partner's %s of %d on %s %s, but Klarna received no such %s on transaction %s",
		op.kind, op.amount, o.what, o.res.ID, op.kind, o.res.PaymentTransactionID)
}

// operateOn sends the Partner's capture or refund of an amount written as the features write it.
func (w *World) operateOn(ctx context.Context, kind, amt string) error {
	n, err := parseAmount(amt)
	if err != nil {
		return err
	}
	return w.operate(ctx, kind, n, map[string]any{"amount": n})
}

func (w *World) capturesAmount(ctx context.Context, amt, _ string) error {
	return w.operateOn(ctx, "capture", amt)
}

func (w *World) capturesRest(ctx context.Context) error { return w.operate(ctx, "capture", 0, nil) }

func (w *World) refunds(ctx context.Context, amt, _ string) error {
	return w.operateOn(ctx, "refund", amt)
}

func (w *World) releases(ctx context.Context) error { return w.operate(ctx, "release", 0, nil) }

// lastOperation returns the Partner's last capture, refund or release.
func (w *World) lastOperation() (*operation, error) {
	if w.operation == nil {
		return nil, fmt.Errorf("the Partner captured, refunded or released nothing in this scenario")
	}
	return w.operation, nil
}

func (w *World) shows(captured, _, refunded, _ string) error {
	op, err := w.lastOperation()
	if err != nil {
		return err
	}
	if op.ans.Status >= 300 {
		return broke(RuleReportOutcome, "the Partner's %s was refused: %d %s", op.kind, op.ans.Status, clip(string(op.ans.Body), 300))
	}
	var got struct {
		Captured int64 `json:"captured_amount"`
		Refunded int64 `json:"refunded_amount"`
	}
	if err := json.Unmarshal(op.ans.Body, &got); err != nil {
		return err
	}
	wantCaptured, _ := parseAmount(captured)
	wantRefunded, _ := parseAmount(refunded)
	if got.Captured != wantCaptured || got.Refunded != wantRefunded {
		return broke(RuleReportOutcome, "after the %s the payment should show %d captured and %d refunded; the Acquiring Partner answered %d and %d",
			op.kind, wantCaptured, wantRefunded, got.Captured, got.Refunded)
	}
	return nil
}

func (w *World) klarnaHolds(state string, captures, refunds int) error {
	o, err := w.transactionOf()
	if err != nil {
		return err
	}
	var tr struct {
		State    string `json:"state"`
		Captures []any  `json:"payment_captures"`
		Refunds  []any  `json:"payment_refunds"`
	}
	if err := w.env.klarna.Do(http.MethodGet, w.transactionPath(o), w.env.apKlarnaKey, nil, &tr); err != nil {
		return fmt.Errorf("reading transaction %s at Klarna: %w", o.res.PaymentTransactionID, err)
	}
	if tr.State != state || len(tr.Captures) != captures || len(tr.Refunds) != refunds {
		return broke(RuleForwardOperation, "Klarna should hold transaction %s as %s with %d captures and %d refunds; it is %s with %d and %d",
			o.res.PaymentTransactionID, state, captures, refunds, tr.State, len(tr.Captures), len(tr.Refunds))
	}
	return nil
}

// refusal returns the Acquiring Partner's refusal of the Partner's last operation of kind.
func (w *World) refusal(kind string) (*operation, apError, error) {
	op, err := w.lastOperation()
	if err != nil {
		return nil, apError{}, err
	}
	if op.kind != kind {
		return nil, apError{}, fmt.Errorf("the Partner's last operation was a %s, not a %s", op.kind, kind)
	}
	return op, op.ans.apError(), nil
}

func (w *World) refusesTooMuch(kind string) error {
	op, e, err := w.refusal(kind)
	if err != nil {
		return err
	}
	if op.ans.Status != http.StatusBadRequest || e.ErrorCode != "INVALID_REQUEST" || len(e.Errors) == 0 || e.Errors[0].Parameter != "amount" {
		return broke(RuleRefuseBadInput, "a %s of more than the payment allows should be refused with 400 INVALID_REQUEST naming amount; the Acquiring Partner answered %d %s",
			kind, op.ans.Status, clip(string(op.ans.Body), 300))
	}
	o, err := w.transactionOf()
	if err != nil {
		return err
	}
	if err := w.checkForwarded(o, op); err == nil {
		return broke(RuleValidateFirst, "the Acquiring Partner refused the %s of %d, yet sent it to Klarna", kind, op.amount)
	}
	return nil
}

func (w *World) refusesNothingLeft(kind string) error {
	op, e, err := w.refusal(kind)
	if err != nil {
		return err
	}
	if op.ans.Status != http.StatusConflict || e.ErrorCode != "INVALID_STATE" {
		return broke(RuleRefuseBadInput, "nothing remains to %s, so the Acquiring Partner should refuse with 409 INVALID_STATE; it answered %d %s",
			kind, op.ans.Status, clip(string(op.ans.Body), 300))
	}
	return nil
}

func (w *World) passesOnLimit() error {
	op, err := w.lastOperation()
	if err != nil {
		return err
	}
	e := op.ans.apError()
	if op.ans.Status != http.StatusUnprocessableEntity || e.ErrorCode != "KLARNA_REJECTED" || e.KlarnaError == nil || e.KlarnaError.Status != http.StatusForbidden {
		return broke(RuleReportOutcome, "Klarna refused the %s past its limits (403), so the Acquiring Partner should answer 422 KLARNA_REJECTED with Klarna's error in klarna_error; it answered %d %s",
			op.kind, op.ans.Status, clip(string(op.ans.Body), 300))
	}
	return nil
}
