package mockserver

import (
	"crypto/rand"
	"errors"
	"time"
)

// TestTokenLifetime is how long an interoperability token minted by the test-tokens endpoint is
// valid, the same window as a completed Payment Request's network session token.
const TestTokenLifetime = NetworkSessionWindow

// SDKTokenLifetime is how long an Identity API SDK token is valid: Klarna answers an expires_at
// without saying how far ahead it is, so the mock gives the network session token's window.
const SDKTokenLifetime = NetworkSessionWindow

// HeaderIdentityCustomerToken carries the customer token on the Identity API's token calls
// (docs/klarna.md §7), which name it differently from the payment calls' Klarna-Customer-Token.
const HeaderIdentityCustomerToken = "X-Klarna-Customer-Token"

// The customer journeys a test interoperability token stands for, as Klarna's test environment
// names them (docs/klarna.md §11). Each is a customer Klarna has identified; the mock treats them
// alike.
const (
	CustomerJourneyExpressCheckout  = "KLARNA_EXPRESS_CHECKOUT"
	CustomerJourneySignIn           = "SIGN_IN_WITH_KLARNA"
	CustomerJourneyPreQualification = "KLARNA_PRE_QUALIFICATION"
	CustomerJourneyAccountLinking   = "KLARNA_ACCOUNT_LINKING"
)

// TestTokenRequest is the body of Klarna's test-tokens endpoint, customer_journey, with the
// mock's own optional extras: the customer's email (which takes part in the magic values),
// whether the customer consents, and the customer token scopes the customer already holds.
type TestTokenRequest struct {
	CustomerJourney string   `json:"customer_journey,omitempty"`
	Email           string   `json:"email,omitempty"`
	Consent         *bool    `json:"consent,omitempty"`
	Scopes          []string `json:"scopes,omitempty"`
}

// TestTokenCall is one call of the test-tokens endpoint.
type TestTokenCall struct {
	AccountID string
	Request   TestTokenRequest
	// CustomerToken is the Klarna-Customer-Token sent, if any: the token's customer is the one
	// the minted token stands for.
	CustomerToken string
}

// TestToken is the answer to a TestTokenCall: Klarna's interoperability_token, which the mock
// takes wherever Klarna takes a network session token, and when it expires (the mock's extra).
type TestToken struct {
	InteroperabilityToken string    `json:"interoperability_token"`
	ExpiresAt             time.Time `json:"expires_at"`
}

// MintTestToken mints an interoperability token for a customer Klarna has identified,
// consenting unless the request says otherwise. With a customer token, that token's customer is
// the one identified: its email and scopes, unless the request gives its own.
func (s *Service) MintTestToken(call TestTokenCall) (*TestToken, error) {
	in := call.Request
	customer, err := s.chargedToken(call.AccountID, call.CustomerToken)
	if err != nil {
		return nil, err
	}
	email, scopes := in.Email, in.Scopes
	if customer != nil {
		if email == "" {
			email = customer.Email
		}
		if scopes == nil {
			scopes = customer.Scopes
		}
	}
	ns := &NetworkSession{
		Token:     NewID(PrefixNetworkSession),
		AccountID: call.AccountID,
		Email:     email,
		Consent:   in.Consent == nil || *in.Consent,
		Scopes:    scopes,
		ExpiresAt: s.ClockOf(call.AccountID).Now().Add(TestTokenLifetime),
	}
	if err := s.store.Update(func(tx Tx) error { return tx.PutNetworkSession(ns) }); err != nil {
		return nil, err
	}
	return &TestToken{InteroperabilityToken: ns.Token, ExpiresAt: ns.ExpiresAt}, nil
}

// checkTestToken refuses a test token that expired, or that an earlier authorize spent by
// creating a transaction with it, on an initial authorize or an SDK token call.
func checkTestToken(header string, ns *NetworkSession, now time.Time) error {
	if ns.SpentBy != "" {
		return Invalid(header, "the network session token was spent by the authorize that created payment transaction "+ns.SpentBy+
			"; only a repeat with that call's Klarna-Idempotency-Key gets its answer again")
	}
	if !now.Before(ns.ExpiresAt) {
		return Invalid(header, "the network session token expired at "+ns.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// spendTestToken spends the test token ns with the transaction tr an approved authorize is
// creating, in the same store transaction: "The token is invalidated once the Payment Transaction
// is created" ("Klarna Network Session Token", docs/klarna.md §6). It reads the token again
// there, so of two authorizes racing with one token only the first creates a transaction.
func spendTestToken(tx Tx, header string, ns *NetworkSession, tr *PaymentTransaction, now time.Time) error {
	cur, err := networkSession(tx, ns.AccountID, ns.Token, header)
	if err != nil {
		return err
	}
	if err := checkTestToken(header, cur, now); err != nil {
		return err
	}
	spent := *cur
	spent.SpentBy, spent.SpentAt = tr.PaymentTransactionID, now
	tr.NetworkSessionToken = cur.Token
	return tx.PutNetworkSession(&spent)
}

// SDKToken is what the sdk-tokens endpoints answer: an opaque token the Klarna Web or Mobile SDK
// is started with. Only the Identity API's carries expires_at.
type SDKToken struct {
	SDKToken  string    `json:"sdk_token"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// newSDKToken returns a fresh opaque SDK token. Nothing in the mock reads one back: the SDK it
// starts runs in the customer's browser, which the mock does not serve.
func newSDKToken() string { return rand.Text() + rand.Text() }

// InteroperabilitySDKToken answers the Interoperability API's sdk-tokens call: an SDK token for
// the session of an interoperability token the account knows and that has not expired, sent in
// Klarna-Interoperability-Token; any other is a 400 naming that header.
func (s *Service) InteroperabilitySDKToken(accountID, interoperabilityToken string) (*SDKToken, error) {
	ns, err := view(s, func(tx Tx) (*NetworkSession, error) {
		return networkSession(tx, accountID, interoperabilityToken, HeaderInteroperabilityToken)
	})
	if err != nil {
		return nil, err
	}
	if err := checkTestToken(HeaderInteroperabilityToken, ns, s.ClockOf(accountID).Now()); err != nil {
		return nil, err
	}
	return &SDKToken{SDKToken: newSDKToken()}, nil
}

// IdentitySDKToken answers the Identity API's sdk-tokens call, for the customer of an active
// customer token when one is sent in Klarna-Customer-Token (an unknown or revoked one is a 400
// naming that header), else for a customer yet to sign in.
func (s *Service) IdentitySDKToken(accountID, customerToken string) (*SDKToken, error) {
	if _, err := s.chargedToken(accountID, customerToken); err != nil {
		return nil, err
	}
	return &SDKToken{SDKToken: newSDKToken(), ExpiresAt: s.ClockOf(accountID).Now().Add(SDKTokenLifetime)}, nil
}

// TokenIntrospection is what the Identity API tells about an active customer token.
type TokenIntrospection struct {
	Status string   `json:"status"`
	Scopes []string `json:"scopes"`
	// IssuedAt is when the token was created, in milliseconds since the Unix epoch, as Klarna's
	// example gives it.
	IssuedAt               int64  `json:"issued_at"`
	CustomerTokenReference string `json:"customer_token_reference,omitempty"`
}

// IntrospectCustomerToken answers the Identity API's read of a customer token of the account. An
// unknown token is a 404; a revoked one is refused with a 409 that says so, as Klarna answers a
// revoked token with an error of its own rather than with its status.
func (s *Service) IntrospectCustomerToken(accountID, token string) (*TokenIntrospection, error) {
	ct, err := s.CustomerToken(accountID, token)
	if err != nil {
		return nil, err
	}
	if ct.Status != TokenActive {
		return nil, Conflict("Customer token " + token + " has been revoked.")
	}
	return &TokenIntrospection{
		Status:                 ct.Status,
		Scopes:                 ct.Scopes,
		IssuedAt:               ct.CreatedAt.UnixMilli(),
		CustomerTokenReference: ct.CustomerTokenReference,
	}, nil
}

// RevokeCustomerToken revokes a customer token: later charges with it are refused, and
// identity.customer-token.state-change.revoked is sent. Klarna's Identity API and the mock's
// control API both revoke through it.
func (s *Service) RevokeCustomerToken(accountID, token string) (*CustomerToken, error) {
	now := s.ClockOf(accountID).Now()
	var out *CustomerToken
	err := s.store.Update(func(tx Tx) error {
		ct, err := tx.CustomerToken(accountID, token)
		if err != nil {
			return notFound(err, "Customer token", token)
		}
		if ct.Status == TokenRevoked {
			return Conflict("Customer token " + token + " is already revoked.")
		}
		c := *ct
		c.Status = TokenRevoked
		c.RevokedAt = now
		out = &c
		if err := tx.PutCustomerToken(out); err != nil {
			return err
		}
		return s.emit(tx, tokenEvent(EventCustomerTokenRevoked, out, now))
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

// newCustomerToken builds an active token for a token request.
func newCustomerToken(accountID string, rct *CustomerTokenRequest, email string, now time.Time) *CustomerToken {
	return &CustomerToken{
		AccountID:              accountID,
		Token:                  NewID(PrefixCustomerToken),
		CustomerTokenReference: rct.CustomerTokenReference,
		Scopes:                 append([]string(nil), rct.Scopes...),
		Status:                 TokenActive,
		CreatedAt:              now,
		Email:                  email,
	}
}

// networkSession reads a network session token sent in header; one the account does not have is
// a 400 naming the header.
func networkSession(tx Tx, accountID, token, header string) (*NetworkSession, error) {
	ns, err := tx.NetworkSession(accountID, token)
	if errors.Is(err, ErrNotFound) {
		return nil, Invalid(header, "the network session token is unknown to this account")
	}
	return ns, err
}

// customerEmail is the email the mock remembers for a customer token, so later charges with it
// can be steered by the same magic values.
func customerEmail(req *AuthorizeRequest, session *NetworkSession) string {
	if spd := req.SupplementaryPurchaseData; spd != nil && spd.Customer != nil && spd.Customer.Email != "" {
		return spd.Customer.Email
	}
	if session != nil {
		return session.Email
	}
	return ""
}
