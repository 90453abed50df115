package mockserver

import (
	"errors"
	"strings"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// PaymentRequestInput is the body of a Payment Request created server to server, POST
// /v2/payment/requests (or under /v2/accounts/{partner_account_id}) in Klarna's Payment API
// reference (docs/klarna.md §2, §6). It holds what an authorize's step-up would: the amount to
// authorize later, how the customer reaches the Purchase Journey, and optionally a customer
// token to request.
type PaymentRequestInput struct {
	Currency                  string                     `json:"currency"`
	Amount                    int64                      `json:"amount,omitempty"`
	PaymentRequestReference   string                     `json:"payment_request_reference,omitempty"`
	PaymentOptionID           string                     `json:"payment_option_id,omitempty"`
	CustomerInteractionConfig CustomerInteractionConfig  `json:"customer_interaction_config"`
	RequestCustomerToken      *CustomerTokenRequest      `json:"request_customer_token,omitempty"`
	SupplementaryPurchaseData *SupplementaryPurchaseData `json:"supplementary_purchase_data,omitempty"`
}

// PaymentRequestCall is one creation of a Payment Request.
type PaymentRequestCall struct {
	// AccountID is the scope of the call (see Scope).
	AccountID string
	Input     *PaymentRequestInput
	// JourneyBaseURL is where the customer reaches the mock's Purchase Journey.
	JourneyBaseURL string
}

// CreatePaymentRequest creates a SUBMITTED Payment Request, as a step-up would have: the customer
// completes it in the Purchase Journey, and the final authorize with its network session token
// creates the transaction (or, without an amount, the request only issues the customer token).
// The outcome rules see it as the initial authorize it stands for; a STEP_UP_REQUIRED rule that
// scripts the simulated customer scripts it here too, any other decision leaves the customer to
// the test.
func (s *Service) CreatePaymentRequest(call PaymentRequestCall) (*PaymentRequest, error) {
	in := call.Input
	if in.Amount == 0 && in.RequestCustomerToken == nil {
		return nil, Invalid("amount", "a payment request needs an amount, a request_customer_token, or both")
	}
	req := &AuthorizeRequest{
		Currency:                  in.Currency,
		RequestCustomerToken:      in.RequestCustomerToken,
		SupplementaryPurchaseData: in.SupplementaryPurchaseData,
		StepUpConfig: &StepUpConfig{
			PaymentRequestReference:   in.PaymentRequestReference,
			CustomerInteractionConfig: in.CustomerInteractionConfig,
		},
	}
	kind := rules.KindTokenCreation
	if in.Amount > 0 {
		req.RequestPaymentTransaction = &PaymentTransactionRequest{Amount: in.Amount, PaymentOptionID: in.PaymentOptionID}
		if in.RequestCustomerToken == nil {
			kind = rules.KindOneTime
		}
	}
	now := s.ClockOf(call.AccountID).Now()
	expiresAt, err := requestExpiry(req.StepUpConfig, now)
	if err != nil {
		// The authorize's checks name its step_up_config; this body holds the same fields a
		// level up.
		return nil, renameParameters(err, "step_up_config.", "")
	}
	if err := checkLineItems(req); err != nil {
		return nil, err
	}
	var room factRoom
	facts := buildFacts(&room, kind, req, nil, nil)
	d := s.decide(call.AccountID, &facts)
	if d.Result != rules.ResultStepUpRequired {
		d = rules.Decision{Rule: d.Rule, Source: d.Source}
	}
	resp, err := s.stepUp(AuthorizeCall{AccountID: call.AccountID, Request: req, JourneyBaseURL: call.JourneyBaseURL}, nil, d, expiresAt, now)
	if err != nil {
		return nil, err
	}
	return resp.PaymentRequest, nil
}

// renameParameters returns err with every parameter it names that starts with from starting
// with to instead; an err that is not a Klarna error is returned as it is.
func renameParameters(err error, from, to string) error {
	var ke *Error
	if !errors.As(err, &ke) {
		return err
	}
	c := *ke
	c.Errors = make([]FieldError, len(ke.Errors))
	for i, f := range ke.Errors {
		if rest, ok := strings.CutPrefix(f.Parameter, from); ok {
			f.Parameter = to + rest
		}
		c.Errors[i] = f
	}
	return &c
}
