package mockserver

import (
	"errors"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// JourneyAction is something the customer does in the Purchase Journey.
type JourneyAction string

// The customer's journey actions.
const (
	// JourneyOpen: the customer opens the journey (SUBMITTED -> IN_PROGRESS).
	JourneyOpen JourneyAction = "open"
	// JourneyApprove: the customer approves the purchase and gives any consent asked for
	// (-> COMPLETED, issuing the network session token and any customer token).
	JourneyApprove JourneyAction = "approve"
	// JourneyDecline: Klarna declines the customer in the journey (-> DECLINED).
	JourneyDecline JourneyAction = "decline"
	// JourneyBackOut: the customer goes back to the merchant (IN_PROGRESS -> SUBMITTED).
	JourneyBackOut JourneyAction = "back-out"
	// JourneyAbandon: the customer leaves without a word; the request stays IN_PROGRESS until it
	// expires, which is all Klarna could observe.
	JourneyAbandon JourneyAction = "abandon"
)

// JourneyActions lists every action, in the order the journey page offers them.
var JourneyActions = []JourneyAction{JourneyOpen, JourneyApprove, JourneyDecline, JourneyBackOut, JourneyAbandon}

// ParseJourneyAction returns the action named s, or a 400 naming parameter.
func ParseJourneyAction(parameter, s string) (JourneyAction, error) {
	for _, a := range JourneyActions {
		if string(a) == s {
			return a, nil
		}
	}
	return "", Invalid(parameter, "unknown journey action "+s+"; use open, approve, decline, back-out or abandon")
}

// Act carries out a customer's action on a Payment Request and returns the request afterwards.
// Approve, decline and abandon open the journey first when the request is still SUBMITTED, so a
// test can complete a request in one call.
func (s *Service) Act(accountID, paymentRequestID string, action JourneyAction) (*PaymentRequest, error) {
	return s.updateRequest(accountID, paymentRequestID, func(tx Tx, pr *PaymentRequest, now time.Time) (*PaymentRequest, []Event, error) {
		var events []Event
		step := func(to, reason, event string) error {
			next, err := pr.Transition(to, reason, now)
			if err != nil {
				return err
			}
			pr = next
			events = append(events, requestEvent(event, pr, now))
			return nil
		}
		if action != JourneyBackOut && pr.State == StateSubmitted {
			if err := step(StateInProgress, "", EventRequestInProgress); err != nil {
				return nil, nil, err
			}
		} else if action == JourneyOpen {
			// Opening a journey that is already open changes nothing but is refused elsewhere.
			return nil, nil, Conflict("Payment request " + paymentRequestID + " is " + pr.State + " and cannot be opened.")
		}
		switch action {
		case JourneyApprove:
			next, err := pr.Transition(StateCompleted, "", now)
			if err != nil {
				return nil, nil, err
			}
			pr = next
			// The completed event carries the network session token and the customer token,
			// so it is built once complete has issued them.
			if err := s.complete(tx, pr, now); err != nil {
				return nil, nil, err
			}
			events = append(events, requestEvent(EventRequestCompleted, pr, now))
		case JourneyDecline:
			if err := step(StateDeclined, ReasonCustomerDeclined, EventRequestDeclined); err != nil {
				return nil, nil, err
			}
		case JourneyBackOut:
			// Klarna's reason for a customer who drops out of the purchase flow (docs/klarna.md §6).
			if err := step(StateSubmitted, ReasonPurchaseFlowAborted, EventRequestSubmitted); err != nil {
				return nil, nil, err
			}
		case JourneyAbandon:
			if pr.State != StateInProgress {
				return nil, nil, Conflict("Payment request " + paymentRequestID + " is " + pr.State + "; only an open journey can be abandoned.")
			}
		}
		return pr, events, nil
	})
}

// complete issues what a COMPLETED request hands over: the network session token for the final
// authorize (also under its legacy name payment_token) and, when one was requested, the customer
// token in state_context.klarna_customer, where Klarna puts it (docs/klarna.md §7). It changes
// pr, a fresh copy.
func (s *Service) complete(tx Tx, pr *PaymentRequest, now time.Time) error {
	initial := pr.InitialRequest()
	ns := &NetworkSession{
		Token:            NewID(PrefixNetworkSession),
		AccountID:        pr.AccountID,
		PaymentRequestID: pr.PaymentRequestID,
		Email:            customerEmail(initial, nil),
		Consent:          true,
		ExpiresAt:        now.Add(NetworkSessionWindow),
	}
	if err := tx.PutNetworkSession(ns); err != nil {
		return err
	}
	pr.StateContext.KlarnaNetworkSessionToken = ns.Token
	pr.StateContext.PaymentToken = ns.Token
	rct := initial.RequestCustomerToken
	if rct == nil {
		return nil
	}
	ct := newCustomerToken(pr.AccountID, rct, ns.Email, now)
	if err := tx.PutCustomerToken(ct); err != nil {
		return err
	}
	pr.IssuedToken = ct
	pr.StateContext.KlarnaCustomer = &KlarnaCustomer{CustomerToken: ct.Token, CustomerTokenReference: ct.CustomerTokenReference}
	return nil
}

// Cancel cancels a Payment Request for the Partner (DELETE): allowed while SUBMITTED or
// IN_PROGRESS, and while COMPLETED until a final authorize finalized it.
func (s *Service) Cancel(accountID, paymentRequestID string) (*PaymentRequest, error) {
	return s.transition(accountID, paymentRequestID, StateCanceled, ReasonPartnerCanceled, EventRequestCanceled)
}

// expire ends a request whose interaction window has passed; the clock calls it at expires_at.
// A request that already ended, or was dropped from the store, is left alone; either way its
// timers are done.
func (s *Service) expire(accountID, paymentRequestID string) {
	tenant, _ := SplitScope(accountID)
	defer s.timers.done(tenant, paymentRequestID)
	_, err := s.transition(accountID, paymentRequestID, StateExpired, ReasonInteractionExpired, EventRequestExpired)
	var ke *Error
	if err != nil && !(errors.As(err, &ke) && ke.Status < 500) {
		s.log.Error("expiring payment request", "payment_request_id", paymentRequestID, "err", err)
	}
}

// transition moves a request to state and publishes the event.
func (s *Service) transition(accountID, paymentRequestID, to, reason, event string) (*PaymentRequest, error) {
	return s.updateRequest(accountID, paymentRequestID, func(_ Tx, pr *PaymentRequest, now time.Time) (*PaymentRequest, []Event, error) {
		next, err := pr.Transition(to, reason, now)
		if err != nil {
			return nil, nil, err
		}
		return next, []Event{requestEvent(event, next, now)}, nil
	})
}

// updateRequest changes a Payment Request of the account in one write transaction: change gets
// the stored request and the time on its tenant's clock, and returns the one to store instead and
// the events to publish once it is stored. A request the account does not have is a 404. An empty
// accountID (the customer's side, which knows only the id) reaches any tenant's request, and the
// time is still the request's own tenant's. Once the request can no longer expire, its timers
// are stopped.
func (s *Service) updateRequest(accountID, paymentRequestID string, change func(tx Tx, pr *PaymentRequest, now time.Time) (*PaymentRequest, []Event, error)) (*PaymentRequest, error) {
	var out *PaymentRequest
	var events []Event
	err := s.store.Update(func(tx Tx) error {
		pr, err := tx.PaymentRequest(accountID, paymentRequestID)
		if err != nil {
			return notFound(err, "Payment request", paymentRequestID)
		}
		if out, events, err = change(tx, pr, s.ClockOf(pr.AccountID).Now()); err != nil {
			return err
		}
		if err := tx.PutPaymentRequest(out); err != nil {
			return err
		}
		return s.emit(tx, events...)
	})
	if err != nil {
		return nil, err
	}
	if !out.CanTransition(StateExpired) {
		tenant, _ := SplitScope(out.AccountID)
		s.timers.done(tenant, out.PaymentRequestID)
	}
	s.publish(events...)
	return out, nil
}

// simulateCustomer carries out the action an outcome rule scripted for the customer.
func (s *Service) simulateCustomer(accountID, paymentRequestID string, action rules.CustomerAction) {
	var a JourneyAction
	switch action {
	case rules.CustomerApprove:
		a = JourneyApprove
	case rules.CustomerDecline:
		a = JourneyDecline
	case rules.CustomerAbandon:
		a = JourneyAbandon
	default:
		return
	}
	if _, err := s.Act(accountID, paymentRequestID, a); err != nil {
		s.log.Info("simulated customer could not act", "payment_request_id", paymentRequestID, "action", a, "err", err)
	}
}

// JourneyPath is where the mock serves the Purchase Journey of a Payment Request; the id is the
// full payment_request_id.
const JourneyPath = "/journey/"

// JourneyURL is the payment_request_url of a Payment Request.
func JourneyURL(base, paymentRequestID string) string {
	return base + JourneyPath + paymentRequestID
}
