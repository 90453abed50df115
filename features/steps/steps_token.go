package steps

import (
	"context"
	"fmt"
)

// A customer token saved without a purchase: Klarna hands it over with the completed Payment
// Request, in its webhook and when the request is read, and asks for no final authorize ("Token
// creation - Monitor the state", docs.klarna.com/klarna-network-distribution/payments/
// tokenized-payments/server-side-only-integration/token-creation/monitor-the-payment-request-state:
// "No action required if only customer_token creation was requested"; docs/klarna.md §7).

// tokenSteps are the steps of a token that arrives with the completed Payment Request.
func (w *World) tokenSteps() []Step {
	return []Step{
		{"Then", `^the Partner reads the payment session as completed, with both customer tokens$`,
			"The Partner reads the last session (GET /v1/sessions/{id}) and finds it COMPLETED with both customer tokens, as when approved at once, even though Klarna's webhook has not reached the Acquiring Partner: it reads Klarna's Payment Request when its webhook is late (report-klarna-outcome, both-customer-tokens). After a Purchase Journey the final authorize, or for a token without a purchase its absence, is checked too (final-authorize, token-from-completed-request).",
			w.readsCompleted},
		{"Then", `^the Acquiring Partner took the customer token from Klarna's completed Payment Request, without a final authorize$`,
			"The last session, without a purchase, got its customer token from the completed Payment Request, and Klarna received no authorize with that request's network session token (token-from-completed-request).",
			w.tookTokenWithoutFinal},
	}
}

func (w *World) readsCompleted(ctx context.Context) error {
	o, r, err := w.readCurrent(ctx)
	if err != nil {
		return err
	}
	if r.Status != "COMPLETED" {
		return w.outcome(o, "the customer completed Klarna's Purchase Journey, so a read of %s %s should find it COMPLETED; it is %s (%s)", o.what, o.res.ID, r.Status, r.DeclineReason)
	}
	tok, vs := w.checkTokens(r.CustomerToken, o.usage)
	if len(vs) > 0 {
		return vs
	}
	w.token = tok
	return checked(w.checkCompletion(o))
}

func (w *World) tookTokenWithoutFinal() error {
	o, err := w.currentOp()
	if err != nil {
		return err
	}
	if o.amount > 0 {
		return fmt.Errorf("the %s has a purchase, which the final authorize creates", o.what)
	}
	return checked(w.checkNoFinal(o))
}

// checkCompletion checks what the Acquiring Partner sent Klarna after o's Purchase Journey
// completed: the final authorize of a purchase, none for a token alone.
func (w *World) checkCompletion(o *op) (Violations, error) {
	if o.amount > 0 {
		return w.checkFinal(o)
	}
	return w.checkNoFinal(o)
}

// checkNoFinal checks that Klarna received no final authorize for o, a session saving a token
// without a purchase.
func (w *World) checkNoFinal(o *op) (Violations, error) {
	if o.journeyToken() == "" {
		return nil, fmt.Errorf("the customer did not complete a Purchase Journey for the %s", o.what)
	}
	entries, err := w.journal()
	if err != nil {
		return nil, err
	}
	if finals := w.finalAuthorizes(o, entries); len(finals) > 0 {
		return Violations{{Rule: RuleTokenFromRequest, Detail: fmt.Sprintf(
			"the %s asked for a customer token without a purchase, yet Klarna received %s with the network session token of Payment Request %s",
			o.label(), finals[0].describe(o.journey.UpdatedAt), o.journey.PaymentRequestID)}}, nil
	}
	return nil, nil
}
