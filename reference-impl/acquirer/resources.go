package acquirer

import (
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// This file holds what Partners see: the JSON resources of the AP API (contracts/acquirer.yaml),
// used both in API answers and in the AP's webhooks, so the two can never disagree.

// PaymentResource is what sessions and charges show alike.
type PaymentResource struct {
	ID                   string     `json:"id"`
	Object               Kind       `json:"object"`
	Status               Status     `json:"status"`
	DeclineReason        string     `json:"decline_reason,omitempty"`
	Reference            string     `json:"reference"`
	Currency             string     `json:"currency"`
	CustomerPresent      bool       `json:"customer_present"`
	PaymentRequestID     string     `json:"payment_request_id,omitempty"`
	PaymentRequestURL    string     `json:"payment_request_url,omitempty"`
	ActionExpiresAt      *time.Time `json:"action_expires_at,omitempty"`
	PaymentTransactionID string     `json:"payment_transaction_id,omitempty"`
	// The transaction's life after authorization (transactions.go), left out before it has one.
	CapturedAmount int64             `json:"captured_amount,omitempty"`
	RefundedAmount int64             `json:"refunded_amount,omitempty"`
	Captures       []CaptureResource `json:"captures,omitempty"`
	Refunds        []RefundResource  `json:"refunds,omitempty"`
	ReleasedAt     *time.Time        `json:"released_at,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

// SessionResource is a session as Partners see it (schema Session).
type SessionResource struct {
	PaymentResource
	// Amount is left out for a session that only creates a token.
	Amount        int64          `json:"amount,omitempty"`
	Mode          Mode           `json:"mode"`
	CustomerToken *TokenResource `json:"customer_token,omitempty"`
}

// ChargeResource is a charge as Partners see it (schema Charge).
type ChargeResource struct {
	PaymentResource
	Amount int64 `json:"amount"`
	// CustomerToken is the AP token charged.
	CustomerToken string `json:"customer_token"`
	// Mode is left out for a charge without the customer, which cannot step up.
	Mode Mode `json:"mode,omitempty"`
}

// TokenResource is a customer token as Partners see it (schema CustomerToken): both the AP's
// token and Klarna's.
type TokenResource struct {
	CustomerToken       string    `json:"customer_token"`
	KlarnaCustomerToken string    `json:"klarna_customer_token"`
	Usage               Usage     `json:"usage"`
	Scopes              []string  `json:"scopes"`
	Reference           string    `json:"reference,omitempty"`
	SessionID           string    `json:"session_id"`
	CreatedAt           time.Time `json:"created_at"`
}

// Resource returns the payment as Partners see it: a *SessionResource or a *ChargeResource.
func (p *Payment) Resource() any {
	r := PaymentResource{
		ID: p.ID, Object: p.Kind, Status: p.Status, DeclineReason: p.DeclineReason,
		Reference: p.Reference, Currency: p.Currency, CustomerPresent: p.CustomerPresent,
		PaymentRequestID: p.PaymentRequestID, PaymentRequestURL: p.PaymentRequestURL,
		PaymentTransactionID: p.PaymentTransactionID, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	p.transactionResource(&r)
	// The hand-over deadline matters only while the customer can still act on it.
	if p.Status == StatusRequiresAction && !p.ActionExpiresAt.IsZero() {
		t := p.ActionExpiresAt
		r.ActionExpiresAt = &t
	}
	if p.Kind == KindCharge {
		return &ChargeResource{PaymentResource: r, Amount: p.Amount, CustomerToken: p.ChargedToken, Mode: p.Mode}
	}
	return &SessionResource{PaymentResource: r, Amount: p.Amount, Mode: p.Mode, CustomerToken: p.Token.Resource()}
}

// Resource returns the token as Partners see it; nil for a nil token.
func (t *Token) Resource() *TokenResource {
	if t == nil {
		return nil
	}
	return &TokenResource{
		CustomerToken: t.ID, KlarnaCustomerToken: t.KlarnaToken, Usage: t.Usage, Scopes: t.Scopes,
		Reference: t.Reference, SessionID: t.SessionID, CreatedAt: t.CreatedAt,
	}
}

// PaymentMethod is Klarna in the Partner's payment selector (schema PaymentMethod). The texts,
// icons and button are Klarna's, passed through, because Klarna decides how it is presented. A
// known customer's saved Klarna payment option is a method of its own, with a badge.
type PaymentMethod struct {
	Type            string               `json:"type"`
	Instruction     string               `json:"instruction"`
	Preselected     bool                 `json:"preselected"`
	PaymentOptionID string               `json:"payment_option_id"`
	Header          klarna.Text          `json:"header"`
	Subheader       *klarna.Text         `json:"subheader,omitempty"`
	Badge           *klarna.Text         `json:"badge,omitempty"`
	Icon            klarna.Icon          `json:"icon"`
	Message         *klarna.Message      `json:"message,omitempty"`
	PaymentButton   klarna.PaymentButton `json:"payment_button"`
}

// EventType is the type of a webhook the AP sends to Partners.
type EventType string

// The Partner webhook types.
const (
	// EventOrderCompleted: a session or charge is COMPLETED; a session's data carries both
	// tokens when it created one.
	EventOrderCompleted EventType = "order.completed"
	// EventPaymentDeclined: a session or charge ended without completing (DECLINED, EXPIRED,
	// CANCELED or FAILED).
	EventPaymentDeclined EventType = "payment.declined"
	// EventTokenCreated: the AP issued a customer token.
	EventTokenCreated EventType = "token.created"
)

// PartnerEvent is the body of a webhook to a Partner (schema PartnerEvent).
type PartnerEvent struct {
	EventID   string    `json:"event_id"`
	EventType EventType `json:"event_type"`
	CreatedAt time.Time `json:"created_at"`
	PartnerID string    `json:"partner_id"`
	// Data is a *SessionResource or *ChargeResource, or a *TokenResource for token.created.
	Data any `json:"data"`
}

// Notifier delivers webhooks to Partners. Notify must not block on delivery: the API call or
// Klarna webhook that caused the event must not wait for the Partner.
type Notifier interface {
	Notify(p Partner, e PartnerEvent)
}
