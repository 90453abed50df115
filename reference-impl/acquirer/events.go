package acquirer

import (
	"context"
	"errors"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// EventOutcome is what became of a Klarna webhook.
type EventOutcome string

// The outcomes of a Klarna webhook (schema WebhookAck).
const (
	// OutcomeProcessed: the event moved a session or charge on.
	OutcomeProcessed EventOutcome = "PROCESSED"
	// OutcomeDuplicate: the event was processed before; Klarna delivers at least once.
	OutcomeDuplicate EventOutcome = "DUPLICATE"
	// OutcomeIgnored: nothing to do.
	OutcomeIgnored EventOutcome = "IGNORED"
)

// HandleKlarnaEvent processes a verified Klarna webhook. An error means the event could not be
// processed now (Klarna unreachable for the final authorize) and Klarna should deliver it again;
// the event is recorded as processed only once processing succeeded, so a redelivery does the
// work then.
func (s *Service) HandleKlarnaEvent(ctx context.Context, e *klarna.Event) (EventOutcome, error) {
	id := e.Metadata.EventID
	var seen bool
	if err := s.store.View(func(tx Tx) error {
		var err error
		seen, err = tx.KlarnaEventSeen(id)
		return err
	}); err != nil {
		return "", err
	}
	if seen {
		s.log.Info("klarna event already processed", "event_id", id, "event_type", e.Metadata.EventType)
		return OutcomeDuplicate, nil
	}
	end, ok := endOf(eventState(e.Metadata.EventType))
	if !ok {
		return s.ignore(id, "event type of no interest", e)
	}
	pr, err := e.PaymentRequest()
	if err != nil {
		return "", Invalid(FieldError{Parameter: "payload", Message: err.Error()})
	}
	p, err := s.paymentOf(pr)
	if errors.Is(err, ErrNotFound) {
		return s.ignore(id, "unknown payment request", e)
	}
	if err != nil {
		return "", err
	}
	if p.Status.Final() {
		return s.ignore(id, "payment already "+string(p.Status), e)
	}
	return s.conclude(ctx, id, p, pr, end)
}

// eventState returns the Payment Request state a Klarna event announces, "" for any other event.
func eventState(eventType string) string {
	switch eventType {
	case klarna.EventRequestCompleted:
		return klarna.StateCompleted
	case klarna.EventRequestDeclined:
		return klarna.StateDeclined
	case klarna.EventRequestExpired:
		return klarna.StateExpired
	case klarna.EventRequestCanceled:
		return klarna.StateCanceled
	}
	return ""
}

// endOf returns the final status a Payment Request's state ends a payment with: "" for
// COMPLETED, which conclude finishes, and ok false for a state that is still open.
func endOf(state string) (end Status, ok bool) {
	switch state {
	case klarna.StateCompleted:
		return "", true
	case klarna.StateDeclined:
		return StatusDeclined, true
	case klarna.StateExpired:
		return StatusExpired, true
	case klarna.StateCanceled:
		return StatusCanceled, true
	}
	return "", false
}

// conclude finishes an open payment whose Payment Request pr reached a final state: it ends the
// payment with end, or for a completed request (end "") takes what the customer's journey
// brought. Klarna's webhook drives it (eventID names the event, recorded as processed with the
// change) and so does a read of the request when the webhook is late (eventID "").
func (s *Service) conclude(ctx context.Context, eventID string, p *Payment, pr *klarna.PaymentRequest, end Status) (EventOutcome, error) {
	switch {
	case end != "":
		return s.end(p.ID, eventID, end, orDefault(pr.StateReason, "PAYMENT_REQUEST_"+string(end)), pr)
	case p.transaction() == nil:
		return s.takeToken(ctx, eventID, p, pr)
	}
	return s.finalize(ctx, eventID, p, pr)
}

// takeToken completes a session that asked for a customer token without a purchase. Klarna hands
// the token over in the completed Payment Request's state_context.klarna_customer and asks for no
// final authorize ("Token creation - Monitor the state": "No action required if only
// customer_token creation was requested", docs/klarna.md §7). The token is taken from the
// webhook's payload or, should that lack it, from the Payment Request read from Klarna.
func (s *Service) takeToken(ctx context.Context, eventID string, p *Payment, pr *klarna.PaymentRequest) (EventOutcome, error) {
	scopes := []string{p.TokenRequest.Usage.Scope()}
	kt := pr.StateContext.IssuedToken(scopes)
	if kt == nil {
		read, err := s.klarna.PaymentRequest(context.WithoutCancel(ctx), p.Authorize.AccountID, pr.PaymentRequestID)
		if err != nil {
			return "", klarnaFailure(err)
		}
		pr, kt = read, read.StateContext.IssuedToken(scopes)
	}
	if kt == nil {
		s.log.Warn("completed payment request without a customer token", "payment_id", p.ID, "payment_request_id", pr.PaymentRequestID)
		return s.end(p.ID, eventID, StatusFailed, "NO_CUSTOMER_TOKEN", pr)
	}
	s.log.Info("customer token handed over", "payment_id", p.ID, "partner_id", p.PartnerID, "payment_request_id", pr.PaymentRequestID)
	return s.settle(p.ID, eventID, func(cur *Payment) (*Payment, *klarna.CustomerToken) {
		return cur.withHandedOverToken(pr, kt, s.now())
	})
}

// refresh reads the Payment Request of an open payment from Klarna and, once it reached a final
// state, concludes the payment as its webhook would: Klarna names reading the request beside its
// webhooks as a way to follow it ("Token creation - Monitor the state"), so a late webhook
// does not keep the Partner waiting. A failed read leaves the payment as it is.
func (s *Service) refresh(ctx context.Context, p *Payment) *Payment {
	if p.Status != StatusRequiresAction || p.PaymentRequestID == "" {
		return p
	}
	pr, err := s.klarna.PaymentRequest(ctx, p.Authorize.AccountID, p.PaymentRequestID)
	if err != nil {
		s.log.Warn("reading the payment request failed", "payment_id", p.ID, "payment_request_id", p.PaymentRequestID, "err", err)
		return p
	}
	end, ok := endOf(pr.State)
	if !ok {
		return p
	}
	if _, err := s.conclude(ctx, "", p, pr, end); err != nil {
		s.log.Warn("concluding the payment from its payment request failed", "payment_id", p.ID, "err", err)
	}
	if cur, err := s.stored(p.ID); err == nil {
		return cur
	}
	return p
}

// finalize makes the final authorize of a payment whose Payment Request the customer completed,
// within the 60 minutes its network session token is valid, and records the outcome.
func (s *Service) finalize(ctx context.Context, eventID string, p *Payment, pr *klarna.PaymentRequest) (EventOutcome, error) {
	fail := func(reason string) (EventOutcome, error) {
		s.log.Warn("payment could not be finalized", "payment_id", p.ID, "payment_request_id", pr.PaymentRequestID, "reason", reason)
		return s.end(p.ID, eventID, StatusFailed, reason, pr)
	}
	var token string
	if pr.StateContext != nil {
		token = pr.StateContext.KlarnaNetworkSessionToken
	}
	if token == "" {
		return fail("NO_NETWORK_SESSION_TOKEN")
	}
	now := s.now()
	completedAt := now
	if pr.CompletedAt != nil {
		completedAt = *pr.CompletedAt
	}
	windowEnd := completedAt.Add(klarna.NetworkSessionWindow)
	if !now.Before(windowEnd) {
		return fail("NETWORK_SESSION_TOKEN_EXPIRED")
	}
	params := klarna.AuthorizeParams{
		AccountID:      p.Authorize.AccountID,
		IdempotencyKey: "finalize-" + p.ID,
		CorrelationID:  RequestID(ctx),
		// The final authorize needs only the completed Payment Request's token, and the same
		// currency and amount: no step_up_config, no request_customer_token.
		NetworkSessionToken: token,
		Request:             klarna.AuthorizeRequest{Currency: p.Currency, RequestPaymentTransaction: p.transaction()},
	}
	// The call outlives Klarna's wait for the webhook's answer, so a slow success is still
	// recorded, but not the token's window, after which retrying is pointless. The window is on
	// the Service's clock, which need not be the real one (a klarna-mock's clock moves), so the
	// deadline is what remains of it from now.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), windowEnd.Sub(now))
	defer cancel()
	resp, err := s.klarna.Authorize(fctx, params)
	if err != nil {
		if permanent(err) {
			s.log.Warn("final authorize refused", "payment_id", p.ID, "err", err)
			return fail("FINAL_AUTHORIZE_REFUSED")
		}
		return "", klarnaFailure(err)
	}
	result, reason := resp.Result()
	s.log.Info("final authorize", "payment_id", p.ID, "kind", p.Kind, "partner_id", p.PartnerID, "result", result, "reason", reason)
	return s.settle(p.ID, eventID, func(cur *Payment) (*Payment, *klarna.CustomerToken) {
		return cur.withFinalResult(resp, pr, s.now())
	})
}

// paymentOf finds the payment of a Payment Request: by its reference, which is the payment's
// id (see stepUpConfig) and is there even if the webhook overtook the authorize answer, else by
// the Payment Request id.
func (s *Service) paymentOf(pr *klarna.PaymentRequest) (*Payment, error) {
	var p *Payment
	err := s.store.View(func(tx Tx) error {
		if ref := pr.PaymentRequestReference; ref != "" {
			found, err := tx.Payment(ref)
			if err == nil && (found.PaymentRequestID == "" || found.PaymentRequestID == pr.PaymentRequestID) {
				p = found
				return nil
			}
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		var err error
		p, err = tx.PaymentByPaymentRequest(pr.PaymentRequestID)
		return err
	})
	return p, err
}

// ignore records an event as processed without acting on it.
func (s *Service) ignore(eventID, why string, e *klarna.Event) (EventOutcome, error) {
	s.log.Info("klarna event ignored", "event_id", eventID, "event_type", e.Metadata.EventType, "why", why)
	err := s.store.Update(func(tx Tx) error { return tx.PutKlarnaEvent(eventID, s.now()) })
	if err != nil {
		return "", err
	}
	return OutcomeIgnored, nil
}

// settle applies the change a Klarna event brings to a payment that is still open, recording
// the event as processed. A payment that is already final, because another delivery of the same
// news got there first, stays as it is and the event counts as a duplicate.
func (s *Service) settle(id, eventID string, ch change) (EventOutcome, error) {
	_, changed, err := s.apply(id, eventID, func(cur *Payment) (*Payment, *klarna.CustomerToken) {
		if cur.Status.Final() {
			return nil, nil
		}
		return ch(cur)
	})
	switch {
	case err != nil:
		return "", err
	case changed:
		return OutcomeProcessed, nil
	}
	return OutcomeDuplicate, nil
}

// end ends a payment that is still open with a final status and its reason (see settle).
func (s *Service) end(id, eventID string, status Status, reason string, pr *klarna.PaymentRequest) (EventOutcome, error) {
	return s.settle(id, eventID, func(cur *Payment) (*Payment, *klarna.CustomerToken) {
		return cur.ended(status, reason, pr, s.now()), nil
	})
}
