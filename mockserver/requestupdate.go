package mockserver

import (
	"fmt"
	"time"
)

// PaymentRequestUpdate is the body of a Payment Request update (docs/klarna.md §6): the fields it
// gives replace the request's, the others stay as they are, within supplementary_purchase_data
// too.
type PaymentRequestUpdate struct {
	Currency                  string                     `json:"currency,omitempty"`
	Amount                    int64                      `json:"amount,omitempty"`
	PaymentRequestReference   string                     `json:"payment_request_reference,omitempty"`
	SupplementaryPurchaseData *SupplementaryPurchaseData `json:"supplementary_purchase_data,omitempty"`
	CustomerInteractionConfig *CustomerInteractionUpdate `json:"customer_interaction_config,omitempty"`
}

// CustomerInteractionUpdate is what an update may change of how the customer comes back: the
// return URLs. The method is fixed once the Partner has handed the request over.
type CustomerInteractionUpdate struct {
	ReturnURL    string `json:"return_url,omitempty"`
	AppReturnURL string `json:"app_return_url,omitempty"`
}

// UpdatePaymentRequest changes a Payment Request while it is SUBMITTED, before the customer
// enters the Purchase Journey (docs/klarna.md §6); in any other state it answers 409. The final
// authorize is then checked against the updated currency and amount. Klarna names no event for
// an update, which is no change of state, so none is sent.
func (s *Service) UpdatePaymentRequest(accountID, paymentRequestID string, u PaymentRequestUpdate) (*PaymentRequest, error) {
	return s.updateRequest(accountID, paymentRequestID, func(_ Tx, pr *PaymentRequest, now time.Time) (*PaymentRequest, []Event, error) {
		if pr.State != StateSubmitted {
			return nil, nil, Conflict(fmt.Sprintf("Payment request %s is %s; only a SUBMITTED payment request can be updated.", pr.PaymentRequestID, pr.State))
		}
		next := pr.Clone()
		next.UpdatedAt = now
		// The initial request is decoded afresh, so what changes is written to this copy only.
		req := pr.InitialRequest()
		if u.Currency != "" {
			next.Currency, req.Currency = u.Currency, u.Currency
		}
		if u.Amount != 0 {
			if req.RequestPaymentTransaction == nil {
				return nil, nil, Invalid("amount", "the payment request is for a customer token only and has no amount")
			}
			req.RequestPaymentTransaction.Amount, next.Amount = u.Amount, u.Amount
		}
		if u.SupplementaryPurchaseData != nil {
			req.SupplementaryPurchaseData = mergePurchaseData(req.SupplementaryPurchaseData, u.SupplementaryPurchaseData)
		}
		if u.PaymentRequestReference != "" {
			next.PaymentRequestReference = u.PaymentRequestReference
		}
		// The app return URL is accepted as Klarna accepts it, but the mock's journey has no app
		// to return to and state_context shows only return_url, so it is not kept.
		if ci := u.CustomerInteractionConfig; ci != nil && ci.ReturnURL != "" {
			if sc := next.StateContext; sc != nil && sc.CustomerInteraction != nil {
				sc.CustomerInteraction.ReturnURL = ci.ReturnURL
			}
		}
		if err := checkLineItems(req); err != nil {
			return nil, nil, err
		}
		next.SetInitialRequest(req)
		return next, nil, nil
	})
}
