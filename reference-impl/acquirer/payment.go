package acquirer

import (
	"slices"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// Kind tells a session from a charge.
type Kind string

// The kinds of payment.
const (
	// KindSession is a payment session: the customer is at the checkout, and the session
	// creates a customer token, makes a purchase, or both.
	KindSession Kind = "session"
	// KindCharge charges a customer token the AP issued earlier.
	KindCharge Kind = "charge"
)

// Status is where a session or charge stands.
type Status string

// The statuses of a payment. PROCESSING and REQUIRES_ACTION are open; the rest are final.
const (
	// StatusProcessing: the AP has not yet got Klarna's answer to the initial authorize.
	StatusProcessing Status = "PROCESSING"
	// StatusRequiresAction: the customer must complete Klarna's Purchase Journey.
	StatusRequiresAction Status = "REQUIRES_ACTION"
	StatusCompleted      Status = "COMPLETED"
	StatusDeclined       Status = "DECLINED"
	StatusExpired        Status = "EXPIRED"
	StatusCanceled       Status = "CANCELED"
	// StatusFailed: the payment could not be finalized although the customer completed the
	// Purchase Journey, for instance because the final authorize was refused.
	StatusFailed Status = "FAILED"
)

// Final reports whether the status can no longer change.
func (s Status) Final() bool {
	return s != StatusProcessing && s != StatusRequiresAction
}

// Mode is how the customer is handed to Klarna's Purchase Journey when Klarna asks for it.
type Mode string

// The hand-over modes (docs/flows.md, diagrams 1 and 2).
const (
	// ModeRedirect returns Klarna's payment_request_url for the Partner to redirect to.
	ModeRedirect Mode = "REDIRECT"
	// ModeSDK returns Klarna's payment_request_id for the Partner to start Klarna's SDK with.
	ModeSDK Mode = "SDK"
)

// method returns Klarna's customer interaction method for the mode.
func (m Mode) method() string {
	if m == ModeSDK {
		return klarna.MethodSDK
	}
	return klarna.MethodHandover
}

// Usage is what a customer token is for, which decides the scope Klarna issues it with.
type Usage string

// The token usages.
const (
	// UsageOnDemand is for one-click and on-demand charges with the customer present.
	UsageOnDemand Usage = "ON_DEMAND"
	// UsageSubscription is for recurring charges without the customer.
	UsageSubscription Usage = "SUBSCRIPTION"
)

// Scope returns the Klarna scope a token of this usage needs.
func (u Usage) Scope() string {
	if u == UsageSubscription {
		return klarna.ScopeCustomerNotPresent
	}
	return klarna.ScopeCustomerPresent
}

// usageOf infers the usage of a token Klarna issued with scopes.
func usageOf(scopes []string) Usage {
	if slices.Contains(scopes, klarna.ScopeCustomerNotPresent) && !slices.Contains(scopes, klarna.ScopeCustomerPresent) {
		return UsageSubscription
	}
	return UsageOnDemand
}

// Token is a customer token the AP issued for a Klarna customer token. Partners only ever charge
// with the AP's token, so the AP can check ownership and scope before Klarna is called. Stored
// tokens never change.
type Token struct {
	// ID is the AP's token, "aptok_...".
	ID        string
	PartnerID string
	// KlarnaToken is Klarna's customer token, "krn:customer-token:...".
	KlarnaToken string
	Usage       Usage
	Scopes      []string
	Reference   string
	// SessionID is the session that created the token.
	SessionID string
	CreatedAt time.Time
}

// HasScope reports whether the Klarna token carries scope.
func (t *Token) HasScope(scope string) bool { return slices.Contains(t.Scopes, scope) }

// TokenRequest asks a session to create a customer token.
type TokenRequest struct {
	Usage     Usage
	Reference string
}

// Network holds the Partner's Klarna Network fields, which the AP forwards to Klarna unaltered.
type Network struct {
	// SessionToken is the klarna_network_session_token (formerly interoperability_token).
	SessionToken string
	// Data is the klarna_network_data (formerly interoperability_data): serialized JSON.
	Data string
}

// Payment is a session or a charge: one purchase attempt of a Partner's customer, as the AP
// tracks it through Klarna. Stored payments are never changed: transitions return a copy.
type Payment struct {
	ID        string
	Kind      Kind
	PartnerID string
	// IdempotencyKey is the Partner's Idempotency-Key, and RequestDigest the fingerprint of the
	// request it came with, to tell a retry from a reused key.
	IdempotencyKey string
	RequestDigest  string

	Status Status
	// DeclineReason says why a payment ended without completing: Klarna's result_reason or
	// state_reason, or the AP's own.
	DeclineReason string

	Reference       string
	Currency        string
	Amount          int64 // 0: no purchase (a session that only creates a token)
	Capture         string
	Mode            Mode // empty for charges without the customer
	CustomerPresent bool
	// TokenRequest is the token a session asked for; nil for charges and plain purchases.
	TokenRequest *TokenRequest
	// ChargedToken is the AP token a charge charges.
	ChargedToken string

	// Authorize is the initial authorize, fixed when the payment is created, so that an
	// operation driven again (a Partner's retry after a 503) sends Klarna exactly the same call
	// under the same idempotency key.
	Authorize klarna.AuthorizeParams

	PaymentRequestID     string
	PaymentRequestURL    string
	ActionExpiresAt      time.Time
	PaymentTransactionID string
	// Token is the token a session created, once Klarna issued it.
	Token *Token
	// Captures and Refunds are what was captured and refunded of the payment's transaction,
	// oldest first (transactions.go); ReleasedAt is when the rest of its authorization was
	// released, zero while it is not, and ReleaseKey the Klarna idempotency key of the release.
	Captures   []Capture
	Refunds    []Refund
	ReleasedAt time.Time
	ReleaseKey string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// clone returns a copy to change. Nested values are shared: they are never changed once set.
func (p *Payment) clone(now time.Time) *Payment {
	c := *p
	c.UpdatedAt = now
	return &c
}

// withInitialResult returns the payment after Klarna's answer to the initial authorize, and the
// Klarna customer token the answer issued, if any.
func (p *Payment) withInitialResult(resp *klarna.AuthorizeResponse, now time.Time) (*Payment, *klarna.CustomerToken) {
	next := p.clone(now)
	result, reason := resp.Result()
	if result == klarna.ResultStepUpRequired {
		next.Status = StatusRequiresAction
		if pr := resp.PaymentRequest; pr != nil {
			next.withPaymentRequest(pr)
		}
		return next, nil
	}
	return next.settled(result, reason, resp, nil)
}

// withFinalResult returns the payment after Klarna's answer to the final authorize of the
// completed Payment Request pr, and the Klarna customer token issued, if any. The token comes
// with the final answer, or else with the completed Payment Request itself.
func (p *Payment) withFinalResult(resp *klarna.AuthorizeResponse, pr *klarna.PaymentRequest, now time.Time) (*Payment, *klarna.CustomerToken) {
	next := p.clone(now)
	next.withPaymentRequest(pr)
	result, reason := resp.Result()
	var handedOver *klarna.CustomerToken
	if p.TokenRequest != nil {
		handedOver = pr.StateContext.IssuedToken([]string{p.TokenRequest.Usage.Scope()})
	}
	return next.settled(result, reason, resp, handedOver)
}

// withHandedOverToken returns the session completed by the Payment Request pr, which handed over
// the customer token kt a session without a purchase asked for; no final authorize follows
// (docs/klarna.md §7).
func (p *Payment) withHandedOverToken(pr *klarna.PaymentRequest, kt *klarna.CustomerToken, now time.Time) (*Payment, *klarna.CustomerToken) {
	next := p.clone(now)
	next.withPaymentRequest(pr)
	next.Status = StatusCompleted
	return next, kt
}

// settled records an authorize's result other than a step-up on p, which must be a fresh copy,
// and returns the Klarna customer token the payment obtained if it asked for one: the answer's,
// else handedOver.
func (p *Payment) settled(result, reason string, resp *klarna.AuthorizeResponse, handedOver *klarna.CustomerToken) (*Payment, *klarna.CustomerToken) {
	switch result {
	case klarna.ResultApproved:
		p.Status = StatusCompleted
		if tr := resp.Transaction(); tr != nil {
			p.PaymentTransactionID = tr.PaymentTransactionID
			// With capture NOW the authorize captured the amount too (docs/klarna.md §10).
			for _, c := range tr.PaymentCaptures {
				p.Captures = append(p.Captures, captureOf(&c))
			}
		}
		if p.TokenRequest == nil {
			return p, nil
		}
		if ct := resp.CustomerToken(); ct != nil {
			return p, ct
		}
		return p, handedOver
	case klarna.ResultDeclined:
		p.Status, p.DeclineReason = StatusDeclined, orDefault(reason, "DECLINED")
	default:
		p.Status, p.DeclineReason = StatusFailed, "UNEXPECTED_KLARNA_RESULT"
	}
	return p, nil
}

// withPaymentRequest records Klarna's Payment Request on a fresh copy.
func (p *Payment) withPaymentRequest(pr *klarna.PaymentRequest) {
	p.PaymentRequestID = pr.PaymentRequestID
	if ci := pr.Interaction(); ci != nil && ci.PaymentRequestURL != "" {
		p.PaymentRequestURL = ci.PaymentRequestURL
	}
	if !pr.ExpiresAt.IsZero() {
		p.ActionExpiresAt = pr.ExpiresAt
	}
}

// ended returns the payment ended with a final status and its reason, as Klarna's Payment
// Request pr last showed it.
func (p *Payment) ended(status Status, reason string, pr *klarna.PaymentRequest, now time.Time) *Payment {
	next := p.clone(now)
	next.Status, next.DeclineReason = status, reason
	next.withPaymentRequest(pr)
	return next
}

// transaction returns the payment transaction an authorize of the payment requests: its amount,
// with the Partner's reference and capture mode; nil when there is no purchase.
func (p *Payment) transaction() *klarna.PaymentTransactionRequest {
	if p.Amount <= 0 {
		return nil
	}
	return &klarna.PaymentTransactionRequest{Amount: p.Amount, PaymentTransactionReference: p.Reference, Capture: p.Capture}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
