package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// What the Partner sees.

func (w *World) askedForJourney() error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.res == nil || o.res.Status != "REQUIRES_ACTION" {
		return w.outcome(o, "the %s should need the customer in Klarna's Purchase Journey (REQUIRES_ACTION); the Acquiring Partner answered %s", o.what, o.describeAnswer())
	}
	if o.res.PaymentRequestID == "" {
		return w.outcome(o, "the %s needs the customer in Klarna's Purchase Journey but carries no payment_request_id", o.what)
	}
	if o.mode == "REDIRECT" {
		if u, err := url.Parse(o.res.PaymentRequestURL); err != nil || !u.IsAbs() {
			return w.outcome(o, "in redirect mode the Partner needs Klarna's payment_request_url to send the customer to; got %q", o.res.PaymentRequestURL)
		}
	}
	return nil
}

// checkTokens checks a customer token the Partner got: the Acquiring Partner's own and Klarna's,
// with the usage asked for, Klarna's being one Klarna issued.
func (w *World) checkTokens(raw json.RawMessage, usage string) (*tokenResource, Violations) {
	tok := tokenOf(raw)
	if tok == nil {
		return nil, Violations{{Rule: RuleBothTokens, Detail: fmt.Sprintf("the Partner got no customer_token: %s", clip(string(raw), 200))}}
	}
	var vs Violations
	switch {
	case tok.KlarnaCustomerToken == "":
		vs = append(vs, Violation{Rule: RuleBothTokens, Detail: fmt.Sprintf("the token %s comes without klarna_customer_token", tok.CustomerToken)})
	case tok.KlarnaCustomerToken == tok.CustomerToken:
		vs = append(vs, Violation{Rule: RuleBothTokens, Detail: "the Acquiring Partner's customer_token is Klarna's token itself"})
	default:
		var kt struct {
			Scopes []string `json:"scopes"`
			Status string   `json:"status"`
		}
		err := w.env.klarna.Do(http.MethodGet, "/mock/v1/accounts/"+url.PathEscape(w.env.account)+"/customer-tokens/"+url.PathEscape(tok.KlarnaCustomerToken), w.env.apKlarnaKey, nil, &kt)
		switch {
		case err != nil:
			vs = append(vs, Violation{Rule: RuleBothTokens, Detail: fmt.Sprintf("Klarna does not know the klarna_customer_token %s the Partner got: %v", tok.KlarnaCustomerToken, err)})
		case usage != "" && !slices.Contains(kt.Scopes, scopeOf(usage)):
			vs = append(vs, Violation{Rule: RuleCustomerTokenScope, Detail: fmt.Sprintf("Klarna issued the token with scopes %v; a %s token needs %s", kt.Scopes, usage, scopeOf(usage))})
		}
	}
	if usage != "" && tok.Usage != usage {
		vs = append(vs, Violation{Rule: RuleCustomerTokenScope, Detail: fmt.Sprintf("the Partner asked for a %s token and got one of usage %q", usage, tok.Usage)})
	}
	return tok, vs
}

func (w *World) approvedAtOnce(what, withTokens string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.res == nil || o.res.Status != "COMPLETED" {
		return w.outcome(o, "Klarna approved the %s, so the Acquiring Partner should answer COMPLETED; it answered %s", what, o.describeAnswer())
	}
	if o.amount > 0 && o.res.PaymentTransactionID == "" {
		return w.outcome(o, "the approved %s %s carries no payment_transaction_id", what, o.res.ID)
	}
	if withTokens != "" {
		tok, vs := w.checkTokens(o.res.CustomerToken, o.usage)
		if len(vs) > 0 {
			return vs
		}
		w.token = tok
	}
	return nil
}

func (w *World) declinedBecause(what, reason string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.res == nil || o.res.Status != "DECLINED" || o.res.DeclineReason != reason {
		return w.outcome(o, "Klarna declined the %s (%s), so the Acquiring Partner should answer DECLINED with decline_reason %s; it answered %s", what, reason, reason, o.describeAnswer())
	}
	if o.res.PaymentRequestID != "" || o.res.PaymentRequestURL != "" {
		return w.outcome(o, "a declined %s must not send the customer to Klarna's Purchase Journey", what)
	}
	return nil
}

func (w *World) chargeNotCompleted() error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.res != nil && (o.res.Status == "COMPLETED" || o.res.Status == "REQUIRES_ACTION") {
		return w.outcome(o, "Klarna refused the charge, so it must not be %s", o.res.Status)
	}
	return nil
}

func (w *World) noToken() error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.res != nil {
		if t := tokenOf(o.res.CustomerToken); t != nil {
			return w.outcome(o, "no customer token may be issued when Klarna did not approve; the Partner got %s", t.CustomerToken)
		}
		if ds := w.events("token.created", o.res.ID); len(ds) > 0 {
			return w.outcome(o, "no customer token may be issued when Klarna did not approve; the Partner was told token.created")
		}
	}
	return nil
}

// awaitEnd waits until the Partner was told how o ended (order.completed or payment.declined).
func (w *World) awaitEnd(ctx context.Context, o *op) (completed, declined []*delivery) {
	w.eventually(ctx, func() bool {
		completed, declined = w.events("order.completed", o.res.ID), w.events("payment.declined", o.res.ID)
		return len(completed)+len(declined) > 0
	})
	return completed, declined
}

// createdOp returns the current session or charge, or an outcome failure when the Acquiring
// Partner never created it.
func (w *World) createdOp() (*op, error) {
	o, err := w.currentOp()
	if err != nil {
		return nil, err
	}
	if o.res == nil {
		return nil, w.outcome(o, "the %s was never created: %s", o.what, o.describeAnswer())
	}
	return o, nil
}

// notTold reports that the Partner was not told how o ended (ended: "completed", "expired", ...).
func (w *World) notTold(o *op, ended string) error {
	return w.withDiagnosis(o, broke(RuleTellPartner, "within %s the Partner was not told that %s %s %s; it was told: %s",
		w.env.cfg.WaitTimeout, o.what, o.res.ID, ended, w.describeEvents(o.res.ID)))
}

func (w *World) toldCompleted(ctx context.Context, withTokens string) error {
	o, err := w.createdOp()
	if err != nil {
		return err
	}
	completed, _ := w.awaitEnd(ctx, o)
	if len(completed) == 0 {
		return w.notTold(o, "completed")
	}
	d := completed[0]
	if d.data.Status != "COMPLETED" {
		return w.outcome(o, "order.completed about %s says status %q", o.res.ID, d.data.Status)
	}
	if o.amount > 0 && d.data.PaymentTransactionID == "" {
		return w.outcome(o, "order.completed about %s carries no payment_transaction_id", o.res.ID)
	}
	if withTokens != "" {
		tok, vs := w.checkTokens(d.data.CustomerToken, o.usage)
		if len(vs) > 0 {
			return vs
		}
		w.token = tok
	}
	if o.journeyToken() != "" {
		return checked(w.checkCompletion(o))
	}
	return nil
}

func (w *World) toldEnded(ctx context.Context, how string) error {
	o, err := w.createdOp()
	if err != nil {
		return err
	}
	want := map[string][]string{
		"was declined": {"DECLINED"}, "expired": {"EXPIRED"}, "was canceled": {"CANCELED"}, "failed": {"FAILED", "EXPIRED"},
	}[how]
	completed, declined := w.awaitEnd(ctx, o)
	if len(completed) > 0 {
		return w.outcome(o, "the Partner was told %s %s completed, but the payment %s", o.what, o.res.ID, how)
	}
	if len(declined) == 0 {
		return w.notTold(o, how)
	}
	if !slices.Contains(want, declined[0].data.Status) {
		return w.outcome(o, "the Partner was told payment.declined about %s with status %s (%s); the payment %s, so the status must be %s",
			o.res.ID, declined[0].data.Status, declined[0].data.DeclineReason, how, strings.Join(want, " or "))
	}
	return nil
}

func (w *World) toldOnce() error {
	o, err := w.currentOp()
	if err != nil || o.res == nil {
		return errors.New("no payment to ask about")
	}
	settle()
	if ids := distinctEvents(w.events("order.completed", o.res.ID)); len(ids) != 1 {
		return broke(RulePartnerToldOnce, "the Partner was told order.completed %d times about %s (event ids %v)", len(ids), o.res.ID, ids)
	}
	return nil
}

// readCurrent returns the current session or charge and how the Acquiring Partner reads it now.
func (w *World) readCurrent(ctx context.Context) (*op, *resource, error) {
	o, err := w.currentOp()
	if err != nil {
		return nil, nil, err
	}
	r, err := w.read(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	return o, r, nil
}

func (w *World) stillWaiting(ctx context.Context) error {
	o, r, err := w.readCurrent(ctx)
	if err != nil {
		return err
	}
	if r.Status != "REQUIRES_ACTION" {
		return w.outcome(o, "the customer can still complete Klarna's Purchase Journey, so the %s must stay REQUIRES_ACTION; it is %s (%s)", o.what, r.Status, r.DeclineReason)
	}
	settle() // a wrong webhook to the Partner may still be on its way
	if told := w.describeEvents(o.res.ID); told != "nothing" {
		return w.outcome(o, "the customer can still complete Klarna's Purchase Journey, yet the Partner was told: %s", told)
	}
	return nil
}

func (w *World) onlyToken(ctx context.Context) error {
	o, r, err := w.readCurrent(ctx)
	if err != nil {
		return err
	}
	if r.PaymentTransactionID != "" {
		return w.outcome(o, "a session without a purchase must not authorize a payment; it has payment_transaction_id %s", r.PaymentTransactionID)
	}
	return nil
}

func (w *World) klarnaIs(how string) error {
	o := w.methods
	if o == nil {
		return errors.New("the Partner did not ask how to present Klarna")
	}
	if o.ans.Status != http.StatusOK {
		return broke(RuleReportOutcome, "asking for the %s got %s", o.what, o.describeAnswer())
	}
	var instruction string
	preselected := true
	if o.kind == "presentation" {
		var p struct {
			Instruction string `json:"instruction"`
		}
		_ = json.Unmarshal(o.ans.Body, &p)
		instruction = p.Instruction
	} else {
		var p struct {
			PaymentMethods []struct {
				Instruction string `json:"instruction"`
				Preselected bool   `json:"preselected"`
			} `json:"payment_methods"`
		}
		_ = json.Unmarshal(o.ans.Body, &p)
		instruction = "HIDE_KLARNA"
		if len(p.PaymentMethods) > 0 {
			instruction, preselected = p.PaymentMethods[0].Instruction, p.PaymentMethods[0].Preselected
		}
	}
	want := map[string]string{"shown": "SHOW_KLARNA", "preselected": "PRESELECT_KLARNA", "hidden": "HIDE_KLARNA"}[how]
	if instruction != want || (how == "preselected" && !preselected) {
		return broke(RuleReportOutcome, "Klarna should be %s (%s) in the payment selector; the %s said %s (preselected %v): %s",
			how, want, o.what, instruction, preselected, clip(string(o.ans.Body), 300))
	}
	return nil
}

func (w *World) returnsSame(what string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.res == nil || len(o.retries) == 0 {
		return errors.New("there is no retried request to compare")
	}
	r := o.retries[len(o.retries)-1]
	var got resource
	_ = json.Unmarshal(r.Body, &got)
	if (r.Status != http.StatusOK && r.Status != http.StatusCreated) || got.ID != o.res.ID {
		return broke(RuleOneAuthorizePerPayment, "the retry of %s %s answered %d with %s %q", what, o.res.ID, r.Status, what, got.ID)
	}
	return nil
}

func (w *World) refusedInvalid(field string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	e := o.ans.apError()
	var named []string
	for _, f := range e.Errors {
		named = append(named, f.Parameter)
	}
	if o.ans.Status != http.StatusBadRequest || e.ErrorCode != "INVALID_REQUEST" || len(named) == 0 || (field != "" && !slices.Contains(named, field)) {
		want := "naming the offending field"
		if field != "" {
			want = fmt.Sprintf("naming %q", field)
		}
		return broke(RuleRefuseBadInput, "the %s should be refused with 400 INVALID_REQUEST %s; the Acquiring Partner answered %s (fields %v)", o.what, want, o.describeAnswer(), named)
	}
	return nil
}

func (w *World) refusedAs(how string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	want := map[string]struct {
		status int
		code   string
	}{
		"unauthorized": {http.StatusUnauthorized, "UNAUTHORIZED"}, "a conflict": {http.StatusConflict, "IDEMPOTENCY_CONFLICT"},
		"not found": {http.StatusNotFound, "NOT_FOUND"}, "forbidden": {http.StatusForbidden, "FORBIDDEN"},
	}[how]
	if o.ans.Status != want.status || o.ans.apError().ErrorCode != want.code {
		return broke(RuleRefuseBadInput, "the %s should be refused as %s (%d %s); the Acquiring Partner answered %s", o.what, how, want.status, want.code, o.describeAnswer())
	}
	return nil
}

func (w *World) passesKlarnasRefusal() error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	e := o.ans.apError()
	if o.ans.Status != http.StatusUnprocessableEntity || e.ErrorCode != "KLARNA_REJECTED" || e.KlarnaError == nil || e.KlarnaError.Status != http.StatusBadRequest {
		return broke(RuleRefuseBadInput, "Klarna refused the %s's data, so the Acquiring Partner should answer 422 KLARNA_REJECTED with Klarna's error in klarna_error; it answered %s", o.what, o.describeAnswer())
	}
	return nil
}

func (w *World) refusesWebhook() error {
	if w.webhookStatus < 400 || w.webhookStatus > 499 {
		return broke(RuleVerifyKlarnaSignature, "the Acquiring Partner answered %d %s to a webhook signed with the wrong secret", w.webhookStatus, clip(w.webhookBody, 200))
	}
	return nil
}

func (w *World) acceptsDuplicate() error {
	if w.webhookStatus < 200 || w.webhookStatus > 299 {
		return broke(RulePartnerToldOnce, "Klarna delivers at least once, so the Acquiring Partner must acknowledge a repeated delivery with 2xx; it answered %d %s", w.webhookStatus, clip(w.webhookBody, 200))
	}
	return nil
}
