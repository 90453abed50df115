package mockserver

import (
	"fmt"
	"time"
)

// Payment Request states (docs/klarna.md §6).
const (
	StateSubmitted  = "SUBMITTED"
	StateInProgress = "IN_PROGRESS"
	StateCompleted  = "COMPLETED"
	StateDeclined   = "DECLINED"
	StateExpired    = "EXPIRED"
	StateCanceled   = "CANCELED"
)

// Payment Request state reasons the mock sends: Klarna documents the first two (docs/klarna.md
// §6); CUSTOMER_DECLINED and EXPIRED are the mock's, so a test can tell why a request ended.
// contracts/klarna-payments.yaml lists exactly these.
const (
	ReasonPartnerCanceled     = "PARTNER_CANCELED"
	ReasonPurchaseFlowAborted = "PURCHASE_FLOW_ABORTED"
	ReasonCustomerDeclined    = "CUSTOMER_DECLINED"
	ReasonInteractionExpired  = "EXPIRED"
)

// Payment Request lifetimes.
const (
	DefaultRequestExpiry = 3 * time.Hour
	MinRequestExpiry     = 15 * time.Minute
	MaxRequestExpiry     = 48 * time.Hour
	// NetworkSessionWindow is how long the network session token of a COMPLETED request may be
	// used for the final authorize.
	NetworkSessionWindow = 60 * time.Minute
)

// PaymentRequest is Klarna's step-up resource: the purchase the customer reviews in the Purchase
// Journey. Stored values are never mutated; transitions return a changed copy.
type PaymentRequest struct {
	AccountID               string        `json:"-"`
	PaymentRequestID        string        `json:"payment_request_id"`
	PaymentRequestReference string        `json:"payment_request_reference,omitempty"`
	Amount                  int64         `json:"amount,omitempty"`
	Currency                string        `json:"currency"`
	State                   string        `json:"state"`
	PreviousState           string        `json:"previous_state,omitempty"`
	StateReason             string        `json:"state_reason,omitempty"`
	StateContext            *StateContext `json:"state_context,omitempty"`
	CreatedAt               time.Time     `json:"created_at"`
	UpdatedAt               time.Time     `json:"updated_at"`
	ExpiresAt               time.Time     `json:"expires_at"`
	CompletedAt             *time.Time    `json:"completed_at,omitempty"`
	CanceledAt              *time.Time    `json:"canceled_at,omitempty"`

	// initial is the initial authorize that stepped up, packed (packed.go): the journey shows
	// it and the final authorize is checked against it and takes its transaction from it.
	// InitialRequest and SetInitialRequest read and set it.
	initial []byte
	// ChargedToken is the customer token a customer-present charge stepped up with.
	ChargedToken string `json:"-"`
	// IssuedToken is the customer token the completed request issued, when one was requested;
	// the final authorize answers it in customer_token_response.
	IssuedToken *CustomerToken `json:"-"`
	// TransactionID is the transaction the final authorize created (none for a token-only
	// request), and FinalizedAt when: a finalized request can no longer be canceled, and its
	// network session token is spent.
	TransactionID string     `json:"-"`
	FinalizedAt   *time.Time `json:"-"`
}

// StateContext carries what the Partner needs at the request's current state.
type StateContext struct {
	CustomerInteraction       *CustomerInteraction `json:"customer_interaction,omitempty"`
	KlarnaNetworkSessionToken string               `json:"klarna_network_session_token,omitempty"`
	// PaymentToken is the legacy name of the network session token, which Klarna still returns
	// for backward compatibility (docs/klarna.md §6); the mock gives the same value, so it also
	// works as Klarna-Payment-Token on the final authorize.
	PaymentToken string `json:"payment_token,omitempty"`
	// KlarnaCustomer holds the customer token a completed request issued (docs/klarna.md §7).
	KlarnaCustomer *KlarnaCustomer `json:"klarna_customer,omitempty"`
}

// KlarnaCustomer is the customer of a completed Payment Request, as Klarna hands it over: the
// customer token issued, when one was requested, with the Partner's reference for it.
type KlarnaCustomer struct {
	CustomerToken          string `json:"customer_token,omitempty"`
	CustomerTokenReference string `json:"customer_token_reference,omitempty"`
}

// CustomerInteraction tells how to send the customer into the Purchase Journey.
type CustomerInteraction struct {
	Method            string `json:"method"`
	PaymentRequestURL string `json:"payment_request_url,omitempty"`
	PaymentRequestID  string `json:"payment_request_id,omitempty"`
	ReturnURL         string `json:"return_url,omitempty"`
}

// InitialRequest returns the initial authorize that stepped up, as the call sent it but without
// its step_up_config, which lives on in the request's own fields (payment_request_reference,
// state_context.customer_interaction, expires_at). It is decoded afresh on every call, so the
// caller may change it; a request never given one returns an empty AuthorizeRequest.
func (p *PaymentRequest) InitialRequest() *AuthorizeRequest {
	if p.initial == nil {
		return &AuthorizeRequest{}
	}
	req, err := unpackValue[AuthorizeRequest](p.initial)
	if err != nil {
		// Only SetInitialRequest writes the bytes, from a value, so they always decode.
		panic(fmt.Sprintf("mockserver: the initial request of payment request %s: %v", p.PaymentRequestID, err))
	}
	return req
}

// SetInitialRequest keeps req, without its step_up_config, as the initial authorize that stepped
// up (see InitialRequest). It changes p, so it is for a request not yet stored, or a copy; req is
// not kept and may be changed afterwards.
func (p *PaymentRequest) SetInitialRequest(req *AuthorizeRequest) {
	kept := *req
	kept.StepUpConfig = nil
	p.initial = packValue(&kept)
}

// Finalized reports whether a final authorize already created the transaction.
func (p *PaymentRequest) Finalized() bool { return p.FinalizedAt != nil }

// Terminal reports whether the request can no longer change state.
func (p *PaymentRequest) Terminal() bool {
	switch p.State {
	case StateExpired, StateCanceled, StateDeclined:
		return true
	case StateCompleted:
		return p.Finalized()
	}
	return false
}

// transitions lists the allowed moves of the state machine; COMPLETED -> CANCELED is further
// limited to requests not yet finalized.
var transitions = map[string][]string{
	StateSubmitted:  {StateInProgress, StateExpired, StateCanceled},
	StateInProgress: {StateSubmitted, StateCompleted, StateDeclined, StateExpired, StateCanceled},
	StateCompleted:  {StateCanceled},
}

// CanTransition reports whether the state machine allows moving to state.
func (p *PaymentRequest) CanTransition(to string) bool {
	if p.State == StateCompleted && p.Finalized() {
		return false
	}
	for _, s := range transitions[p.State] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition returns a copy of p moved to state at now with the reason, or a 409 Klarna error
// when the state machine does not allow it. p itself is left unchanged.
func (p *PaymentRequest) Transition(to, reason string, now time.Time) (*PaymentRequest, error) {
	if !p.CanTransition(to) {
		why := ""
		if p.State == StateCompleted && p.Finalized() {
			why = " (it was finalized by a final authorize)"
		}
		return nil, Conflict(fmt.Sprintf("Payment request %s is %s%s and cannot become %s.", p.PaymentRequestID, p.State, why, to))
	}
	c := p.Clone()
	c.PreviousState = p.State
	c.State = to
	c.StateReason = reason
	c.UpdatedAt = now
	switch to {
	case StateCanceled:
		c.CanceledAt = &now
	case StateCompleted:
		c.CompletedAt = &now
	}
	return c, nil
}

// Clone returns a copy that can be changed without touching p. Nested values the mock changes
// (the state context) are copied; the packed initial request is shared because nothing changes
// it: SetInitialRequest replaces it.
func (p *PaymentRequest) Clone() *PaymentRequest {
	c := *p
	if p.StateContext != nil {
		sc := *p.StateContext
		if sc.CustomerInteraction != nil {
			ci := *sc.CustomerInteraction
			sc.CustomerInteraction = &ci
		}
		c.StateContext = &sc
	}
	return &c
}

// PaymentRequest returns a Payment Request of the account.
func (s *Service) PaymentRequest(accountID, id string) (*PaymentRequest, error) {
	return lookup(s, "Payment request", id, func(tx Tx) (*PaymentRequest, error) { return tx.PaymentRequest(accountID, id) })
}
