package mockserver

import "time"

// Authorize results, in payment_transaction_response.result and customer_token_response.result.
const (
	ResultApproved       = "APPROVED"
	ResultDeclined       = "DECLINED"
	ResultStepUpRequired = "STEP_UP_REQUIRED"
)

// ReasonCustomerNotPresent is the result_reason of a call that would have stepped up but could
// not, because it carried no step_up_config (the customer is not there to go through the journey).
const ReasonCustomerNotPresent = "CUSTOMER_NOT_PRESENT"

// AuthorizeResponse is the body of every authorize answer; all three outcomes are HTTP 200.
type AuthorizeResponse struct {
	PaymentTransactionResponse *PaymentTransactionResponse `json:"payment_transaction_response,omitempty"`
	PaymentRequest             *PaymentRequest             `json:"payment_request,omitempty"`
	CustomerTokenResponse      *CustomerTokenResponse      `json:"customer_token_response,omitempty"`
	// Rule names the outcome rule that decided the call, for the Klarna-Mock-Rule header and
	// the journal; Klarna's answer has no such field.
	Rule string `json:"-"`
}

// PaymentTransactionResponse carries the outcome for the requested payment transaction.
type PaymentTransactionResponse struct {
	Result             string              `json:"result"`
	ResultReason       string              `json:"result_reason,omitempty"`
	PaymentTransaction *PaymentTransaction `json:"payment_transaction,omitempty"`
}

// CustomerTokenResponse carries the outcome for the requested customer token.
type CustomerTokenResponse struct {
	Result        string         `json:"result"`
	ResultReason  string         `json:"result_reason,omitempty"`
	CustomerToken *CustomerToken `json:"customer_token,omitempty"`
}

// Payment transaction states (docs/klarna.md §10): AUTHORIZED while an authorized amount remains
// to capture; COMPLETED once none remains (fully captured, or voided or expired after a partial
// capture); EXPIRED when the authorization lapsed uncaptured; CLOSED when nothing more can be
// done, refunds included.
const (
	TransactionAuthorized = "AUTHORIZED"
	TransactionCompleted  = "COMPLETED"
	TransactionExpired    = "EXPIRED"
	TransactionClosed     = "CLOSED"
)

// TransactionExpiry is how long an authorized, uncaptured transaction stays capturable. Klarna
// does not publish one for this API; 28 days matches its other products.
const TransactionExpiry = 28 * 24 * time.Hour

// PaymentTransaction is an authorized payment and what was done with it since: its captures and
// refunds (transaction.go). Stored values are never mutated: the store keeps immutable snapshots,
// and every change stores a copy (Clone).
type PaymentTransaction struct {
	AccountID                   string           `json:"-"`
	PaymentTransactionID        string           `json:"payment_transaction_id"`
	PaymentTransactionReference string           `json:"payment_transaction_reference,omitempty"`
	Amount                      int64            `json:"amount"`
	Currency                    string           `json:"currency"`
	State                       string           `json:"state"`
	PaymentFunding              PaymentFunding   `json:"payment_funding"`
	CreatedAt                   time.Time        `json:"created_at"`
	ExpiresAt                   time.Time        `json:"expires_at"`
	PaymentCaptures             []PaymentCapture `json:"payment_captures,omitempty"`
	PaymentRefunds              []PaymentRefund  `json:"payment_refunds,omitempty"`
	// SupplementaryPurchaseData is what the authorize said of the purchase (its reference, line
	// items, customer and shipping), kept and returned with the transaction (docs/klarna.md §10).
	SupplementaryPurchaseData *SupplementaryPurchaseData `json:"supplementary_purchase_data,omitempty"`
	// UpdatedAt is when the transaction last changed; a CLOSED transaction is done from then on.
	UpdatedAt time.Time `json:"-"`
	// ReleasedAmount is the authorization given up without a capture, by a void or when a partly
	// captured transaction completes after its expiry; Operations counts the captures, refunds,
	// updates and voids done, for Klarna's limits (transaction.go).
	ReleasedAmount int64 `json:"-"`
	Operations     int   `json:"-"`
	// NetworkSessionToken is the network session token the transaction was created with, if
	// any: a completed Payment Request's or a test token; creating the transaction spent it.
	NetworkSessionToken string `json:"-"`
	CustomerToken       string `json:"-"`
}

// PaymentFunding says how the transaction is funded.
type PaymentFunding struct {
	Type  string `json:"type"`
	State string `json:"state"`
}

// Customer token statuses. Klarna does not publish revocation; the mock keeps a status so tests
// can revoke a token and see charges rejected.
const (
	TokenActive  = "ACTIVE"
	TokenRevoked = "REVOKED"
)

// CustomerToken is a Klarna customer token: the stored permission to charge a customer later.
type CustomerToken struct {
	AccountID              string    `json:"-"`
	Token                  string    `json:"customer_token"`
	CustomerTokenReference string    `json:"customer_token_reference,omitempty"`
	Scopes                 []string  `json:"scopes"`
	Status                 string    `json:"-"`
	CreatedAt              time.Time `json:"-"`
	// Email is the simulated customer's email, used by the outcome rules of later charges.
	Email string `json:"-"`
	// RevokedAt is when a REVOKED token was revoked; the store keeps it for a while after.
	RevokedAt time.Time `json:"-"`
}

// HasScope reports whether the token carries scope.
func (t *CustomerToken) HasScope(scope string) bool {
	for _, s := range t.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}

// NetworkSession is a Klarna network session token known to the mock: either minted by the
// test-tokens endpoint (a customer already identified and consenting, as in a Klarna Express
// Checkout session) or issued when a Payment Request is completed, for the final authorize.
type NetworkSession struct {
	Token            string
	AccountID        string
	PaymentRequestID string // empty for test tokens
	Email            string
	Consent          bool
	Scopes           []string
	ExpiresAt        time.Time
	// SpentBy is the payment transaction an approved authorize with a test token created,
	// which spent the token (docs/klarna.md §6, tokens.go), and SpentAt when.
	SpentBy string
	SpentAt time.Time
}

// PaymentTransaction returns a payment transaction of the account as it is on its tenant's
// clock: a transition already due shows even if its timer has not run yet (transaction.go).
func (s *Service) PaymentTransaction(accountID, id string) (*PaymentTransaction, error) {
	tr, err := lookup(s, "Payment transaction", id, func(tx Tx) (*PaymentTransaction, error) { return tx.PaymentTransaction(accountID, id) })
	if err != nil {
		return nil, err
	}
	tr, _ = due(tr, s.ClockOf(accountID).Now())
	return tr, nil
}
