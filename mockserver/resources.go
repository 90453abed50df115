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

// Payment transaction states.
const (
	TransactionAuthorized = "AUTHORIZED"
)

// TransactionExpiry is how long an authorized, uncaptured transaction stays capturable. Klarna
// does not publish one for this API; 28 days matches its other products.
const TransactionExpiry = 28 * 24 * time.Hour

// PaymentTransaction is an authorized payment. Stored values are never mutated: the store keeps
// immutable snapshots.
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
	// NetworkSessionToken is the token of the Payment Request this transaction finalized, if any;
	// a repeated final authorize with that token returns this transaction.
	NetworkSessionToken string `json:"-"`
	CustomerToken       string `json:"-"`
}

// PaymentFunding says how the transaction is funded.
type PaymentFunding struct {
	Type  string `json:"type"`
	State string `json:"state"`
}

// PaymentCapture is a capture made with the authorization (capture: NOW).
type PaymentCapture struct {
	PaymentCaptureID string `json:"payment_capture_id"`
	CapturedAmount   int64  `json:"captured_amount"`
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
}

// PaymentTransaction returns a payment transaction of the account.
func (s *Service) PaymentTransaction(accountID, id string) (*PaymentTransaction, error) {
	return lookup(s, "Payment transaction", id, func(tx Tx) (*PaymentTransaction, error) { return tx.PaymentTransaction(accountID, id) })
}
