package mockserver

import (
	"errors"
	"time"

	"github.com/google/uuid"

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
	now := s.clock.Now()
	var out *PaymentRequest
	var events []Event
	err := s.store.Update(func(tx Tx) error {
		pr, err := tx.PaymentRequest(accountID, paymentRequestID)
		if errors.Is(err, ErrNotFound) {
			return NotFound("Payment request", paymentRequestID)
		}
		if err != nil {
			return err
		}
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
				return err
			}
		} else if action == JourneyOpen {
			// Opening a journey that is already open changes nothing but is refused elsewhere.
			return Conflict("Payment request " + paymentRequestID + " is " + pr.State + " and cannot be opened.")
		}
		switch action {
		case JourneyApprove:
			next, err := pr.Transition(StateCompleted, "", now)
			if err != nil {
				return err
			}
			pr = next
			// The completed event carries the network session token and the customer token,
			// so it is built once complete has issued them, and announced before the token.
			token, err := s.complete(tx, pr, now)
			if err != nil {
				return err
			}
			events = append(events, requestEvent(EventRequestCompleted, pr, now))
			if token != nil {
				events = append(events, tokenEvent(EventCustomerTokenCreated, token, now))
			}
		case JourneyDecline:
			if err := step(StateDeclined, ReasonCustomerDeclined, EventRequestDeclined); err != nil {
				return err
			}
		case JourneyBackOut:
			if err := step(StateSubmitted, ReasonCustomerBackedOut, EventRequestSubmitted); err != nil {
				return err
			}
		case JourneyAbandon:
			if pr.State != StateInProgress {
				return Conflict("Payment request " + paymentRequestID + " is " + pr.State + "; only an open journey can be abandoned.")
			}
		}
		out = pr
		return tx.PutPaymentRequest(pr)
	})
	if err != nil {
		return nil, err
	}
	s.publish(events...)
	return out, nil
}

// complete issues what a COMPLETED request hands over: the network session token for the final
// authorize and, when one was requested, the customer token, which it returns. It changes pr, a
// fresh copy.
func (s *Service) complete(tx Tx, pr *PaymentRequest, now time.Time) (*CustomerToken, error) {
	ns := &NetworkSession{
		Token:            PrefixNetworkSession + uuid.NewString(),
		AccountID:        pr.AccountID,
		PaymentRequestID: pr.PaymentRequestID,
		Email:            customerEmail(&pr.Request, nil),
		Consent:          true,
		ExpiresAt:        now.Add(NetworkSessionWindow),
	}
	if err := tx.PutNetworkSession(ns); err != nil {
		return nil, err
	}
	pr.StateContext.KlarnaNetworkSessionToken = ns.Token
	rct := pr.Request.RequestCustomerToken
	if rct == nil {
		return nil, nil
	}
	ct := newCustomerToken(pr.AccountID, rct, ns.Email, now)
	if err := tx.PutCustomerToken(ct); err != nil {
		return nil, err
	}
	pr.StateContext.CustomerToken = ct
	return ct, nil
}

// Cancel cancels a Payment Request for the Partner (DELETE): allowed while SUBMITTED or
// IN_PROGRESS, and while COMPLETED until a final authorize finalized it.
func (s *Service) Cancel(accountID, paymentRequestID string) (*PaymentRequest, error) {
	return s.transition(accountID, paymentRequestID, StateCanceled, ReasonPartnerCanceled, EventRequestCanceled)
}

// expire ends a request whose interaction window has passed; the clock calls it at expires_at.
// A request that already ended, or was dropped from the store, is left alone.
func (s *Service) expire(accountID, paymentRequestID string) {
	_, err := s.transition(accountID, paymentRequestID, StateExpired, ReasonInteractionExpired, EventRequestExpired)
	var ke *Error
	if err != nil && !(errors.As(err, &ke) && ke.Status < 500) {
		s.log.Error("expiring payment request", "payment_request_id", paymentRequestID, "err", err)
	}
}

// transition moves a request to state and publishes the event.
func (s *Service) transition(accountID, paymentRequestID, to, reason, event string) (*PaymentRequest, error) {
	now := s.clock.Now()
	var next *PaymentRequest
	err := s.store.Update(func(tx Tx) error {
		pr, err := tx.PaymentRequest(accountID, paymentRequestID)
		if errors.Is(err, ErrNotFound) {
			return NotFound("Payment request", paymentRequestID)
		}
		if err != nil {
			return err
		}
		if next, err = pr.Transition(to, reason, now); err != nil {
			return err
		}
		return tx.PutPaymentRequest(next)
	})
	if err != nil {
		return nil, err
	}
	s.publish(requestEvent(event, next, now))
	return next, nil
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

// PaymentRequest returns a Payment Request of the account.
func (s *Service) PaymentRequest(accountID, id string) (*PaymentRequest, error) {
	return lookup(s, "Payment request", id, func(tx Tx) (*PaymentRequest, error) { return tx.PaymentRequest(accountID, id) })
}

// PaymentTransaction returns a payment transaction of the account.
func (s *Service) PaymentTransaction(accountID, id string) (*PaymentTransaction, error) {
	return lookup(s, "Payment transaction", id, func(tx Tx) (*PaymentTransaction, error) { return tx.PaymentTransaction(accountID, id) })
}

// TestTokenRequest asks the mock for a network session token standing for a customer already
// identified by Klarna (as in a Klarna Express Checkout session).
type TestTokenRequest struct {
	Email   string   `json:"email,omitempty"`
	Consent *bool    `json:"consent,omitempty"`
	Scopes  []string `json:"scopes,omitempty"`
}

// TestToken is the answer to a TestTokenRequest.
type TestToken struct {
	KlarnaNetworkSessionToken string    `json:"klarna_network_session_token"`
	ExpiresAt                 time.Time `json:"expires_at"`
}

// MintTestToken mints a network session token for an identified customer, consenting unless
// the request says otherwise.
func (s *Service) MintTestToken(accountID string, in TestTokenRequest) (*TestToken, error) {
	now := s.clock.Now()
	ns := &NetworkSession{
		Token:     PrefixNetworkSession + uuid.NewString(),
		AccountID: accountID,
		Email:     in.Email,
		Consent:   in.Consent == nil || *in.Consent,
		Scopes:    in.Scopes,
		ExpiresAt: now.Add(TestTokenLifetime),
	}
	if err := s.store.Update(func(tx Tx) error { return tx.PutNetworkSession(ns) }); err != nil {
		return nil, err
	}
	return &TestToken{KlarnaNetworkSessionToken: ns.Token, ExpiresAt: ns.ExpiresAt}, nil
}

// RevokeCustomerToken revokes a customer token: later charges with it are rejected. Klarna does
// not publish revocation; the mock offers it so integrations can test the rejection.
func (s *Service) RevokeCustomerToken(accountID, token string) (*CustomerToken, error) {
	now := s.clock.Now()
	var out *CustomerToken
	err := s.store.Update(func(tx Tx) error {
		ct, err := tx.CustomerToken(accountID, token)
		if errors.Is(err, ErrNotFound) {
			return NotFound("Customer token", token)
		}
		if err != nil {
			return err
		}
		if ct.Status == TokenRevoked {
			return Conflict("Customer token " + token + " is already revoked.")
		}
		c := *ct
		c.Status = TokenRevoked
		out = &c
		return tx.PutCustomerToken(out)
	})
	if err != nil {
		return nil, err
	}
	s.publish(tokenEvent(EventCustomerTokenRevoked, out, now))
	return out, nil
}

// CustomerToken returns a customer token of the account, active or revoked.
func (s *Service) CustomerToken(accountID, token string) (*CustomerToken, error) {
	return lookup(s, "Customer token", token, func(tx Tx) (*CustomerToken, error) { return tx.CustomerToken(accountID, token) })
}

// lookup reads one object in a read transaction; a missing one is a 404 naming what and id.
func lookup[T any](s *Service, what, id string, get func(Tx) (T, error)) (T, error) {
	var v T
	err := s.store.View(func(tx Tx) error {
		var err error
		v, err = get(tx)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return v, NotFound(what, id)
	}
	return v, err
}
