package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// What the Acquiring Partner sent Klarna: the journal.

// checkCurrent runs the initial-authorize checks of the current session or charge, keeping the
// named rules (and a missing authorize).
func (w *World) checkCurrent(rules ...Rule) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	vs, err := w.checkInitial(o)
	return checked(only(vs, append(rules, RuleForwardPurchase)...), err)
}

func (w *World) forwardedData() error {
	if w.networkData == "" {
		return errors.New("the Partner shared no Klarna Network data in this scenario")
	}
	return w.checkCurrent(RuleNetworkDataUnaltered)
}

// lastWithSessionToken returns the newest call to the Acquiring Partner that carried a network
// session token.
func (w *World) lastWithSessionToken() *op {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.ops) - 1; i >= 0; i-- {
		if w.ops[i].nst != "" && w.ops[i].kind != "presentation" {
			return w.ops[i]
		}
	}
	return nil
}

func (w *World) forwardedSessionToken() error {
	o := w.lastWithSessionToken()
	if o == nil {
		return errors.New("the Partner shared no Klarna Network Session Token with the Acquiring Partner in this scenario")
	}
	if o.kind != "payment-methods" {
		vs, err := w.checkInitial(o)
		return checked(only(vs, RuleNetworkSessionTokenUnaltered, RuleForwardPurchase), err)
	}
	sent, ok, err := w.presentedWith(o, "Klarna-Network-Session-Token", o.nst)
	if err != nil || ok {
		return err
	}
	return broke(RuleNetworkSessionTokenUnaltered, "the Acquiring Partner asked Klarna for the payment presentation with Klarna-Network-Session-Token %q; Partner gave %q", sent, o.nst)
}

// presentedWith reports whether a payment presentation the Acquiring Partner asked Klarna for
// during o's call carried header with the value want, and the values the others carried.
func (w *World) presentedWith(o *op, header, want string) (sent []string, ok bool, err error) {
	entries, err := w.journal()
	if err != nil {
		return nil, false, err
	}
	for _, e := range entries {
		if e.isPresentation() && e.Seq > o.before && e.Seq <= o.after {
			if e.header(header) == want {
				return nil, true, nil
			}
			sent = append(sent, e.header(header))
		}
	}
	return sent, false, nil
}

// currentJournal returns the current session or charge and the journal of the scenario.
func (w *World) currentJournal() (*op, []entry, error) {
	o, err := w.currentOp()
	if err != nil {
		return nil, nil, err
	}
	entries, err := w.journal()
	return o, entries, err
}

func (w *World) askedForScope(usage string) error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.usage != usageOf(usage) {
		return fmt.Errorf("the scenario's session asked for a %s token, not %s", o.usage, usageOf(usage))
	}
	return w.checkCurrent(RuleCustomerTokenScope)
}

func (w *World) letStepUp() error          { return w.checkCurrent(RuleStepUpWhenPresent) }
func (w *World) noStepUp() error           { return w.checkCurrent(RuleNoStepUpWhenNotPresent) }
func (w *World) chargedKlarnaToken() error { return w.checkCurrent(RuleChargeKlarnaToken) }
func (w *World) sentSubscription() error   { return w.checkCurrent(RuleSubscriptionData) }

func (w *World) finalized() error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	return checked(w.checkFinal(o))
}

func (w *World) notFinalized() error {
	settle() // a final authorize may still be on its way
	o, entries, err := w.currentJournal()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.isAuthorize() || e.Seq <= o.after {
			continue
		}
		if w.env.isolated || strings.Contains(e.Body, o.reference) {
			return broke(RuleNoFinalWithoutCompletion, "the Purchase Journey of %s %s ended %s, yet Klarna received %s with body %s",
				o.what, o.res.ID, journeyState(o), e.describe(time.Time{}), clip(e.Body, 300))
		}
	}
	return nil
}

func journeyState(o *op) string {
	if o.journey == nil {
		return "without the customer"
	}
	return o.journey.State
}

func (w *World) nothingAfterWindow() error {
	o, entries, err := w.currentJournal()
	if err != nil {
		return err
	}
	if o.journeyToken() == "" || o.journey.CompletedAt == nil {
		return errors.New("the customer did not complete the Purchase Journey")
	}
	end := o.journey.CompletedAt.Add(60 * time.Minute)
	for _, e := range w.finalAuthorizes(o, entries) {
		if e.Status == http.StatusOK && !e.ReceivedAt.Before(end) {
			return broke(RuleFinalAuthorize, "Klarna approved a final authorize %s after the Purchase Journey completed", e.ReceivedAt.Sub(*o.journey.CompletedAt))
		}
	}
	return nil
}

func (w *World) presentedWithToken() error {
	o := w.methods
	if o == nil || o.kind != "payment-methods" || o.klarnaToken == "" {
		return errors.New("the Partner did not ask the Acquiring Partner for payment methods with a customer token")
	}
	sent, ok, err := w.presentedWith(o, "Klarna-Customer-Token", o.klarnaToken)
	if err != nil || ok {
		return err
	}
	if len(sent) == 0 {
		return broke(RulePresentationToken, "the Acquiring Partner did not ask Klarna for the payment presentation at all")
	}
	return broke(RulePresentationToken, "it sent Klarna-Customer-Token %q; the customer's token stands for %q", sent, o.klarnaToken)
}

func (w *World) idempotencyEverywhere() error {
	entries, err := w.journal()
	if err != nil {
		return err
	}
	posts := 0
	for _, e := range entries {
		if e.Method == http.MethodPost {
			posts++
		}
	}
	if posts == 0 {
		return errors.New("the Acquiring Partner sent Klarna no POST in this scenario")
	}
	return only(w.sweep(), RuleIdempotencyKey).err()
}

// initialKeys returns the initial authorizes of the current op and their distinct idempotency
// keys.
func (w *World) initialKeys() (*op, []entry, []string, error) {
	o, entries, err := w.currentJournal()
	if err != nil {
		return nil, nil, nil, err
	}
	auths := w.initialAuthorizes(o, entries)
	var keys []string
	for _, e := range auths {
		if k := e.header("Klarna-Idempotency-Key"); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return o, auths, keys, nil
}

func (w *World) authorizedOnce() error {
	o, auths, keys, err := w.initialKeys()
	if err != nil {
		return err
	}
	if len(auths) == 0 {
		return broke(RuleForwardPurchase, "Klarna received no authorize for the %s", o.what)
	}
	if len(keys) != 1 {
		return broke(RuleOneAuthorizePerPayment, "Klarna was asked to authorize the %s %d times under %d idempotency keys %q", o.what, len(auths), len(keys), keys)
	}
	return nil
}

func (w *World) notAskedToAuthorize() error {
	o, entries, err := w.currentJournal()
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.isAuthorize() && e.Seq > o.before && (w.env.isolated || strings.Contains(e.Body, o.reference)) {
			return broke(RuleValidateFirst, "the Acquiring Partner answered %d but first sent Klarna %s", o.ans.Status, e.describe(time.Time{}))
		}
	}
	return nil
}

func (w *World) retriedSameKey() error {
	o, auths, keys, err := w.initialKeys()
	if err != nil {
		return err
	}
	if len(auths) < 2 || len(keys) != 1 || keys[0] == "" {
		return broke(RuleRetrySameKey, "Klarna received %d authorizes for the %s, under the Klarna-Idempotency-Keys %q", len(auths), o.what, keys)
	}
	return nil
}

func (w *World) allSigned() error {
	ds := w.deliveries()
	if len(ds) == 0 {
		return broke(RuleTellPartner, "the Partner received no webhook at all")
	}
	return only(w.sweep(), RulePartnerWebhookSigned).err()
}

func (w *World) retriedSameEvent(ctx context.Context) error {
	var failed []*delivery
	ds := w.deliveries()
	for _, d := range ds {
		if d.status == http.StatusInternalServerError && d.event != nil {
			failed = append(failed, d)
		}
	}
	if len(failed) == 0 {
		return errors.New("the Partner's endpoint failed no delivery in this scenario")
	}
	for _, f := range failed {
		retried := w.eventually(ctx, func() bool {
			for _, d := range w.deliveries() {
				if d.delivered() && d.event != nil && d.event.EventID == f.event.EventID && bytes.Equal(d.body, f.body) {
					return true
				}
			}
			return false
		})
		if !retried {
			var got []string
			for _, d := range w.deliveries() {
				if d.event != nil && d.event.EventType == f.event.EventType {
					got = append(got, fmt.Sprintf("%s (answered %d)", d.event.EventID, d.status))
				}
			}
			return broke(RulePartnerWebhookRetried, "within %s the %s event %s the Partner failed to take did not arrive again with the same body; %s deliveries: %s",
				w.env.cfg.WaitTimeout, f.event.EventType, f.event.EventID, f.event.EventType, strings.Join(got, ", "))
		}
	}
	return nil
}
