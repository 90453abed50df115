package mockserver

import (
	"errors"
	"time"

	"github.com/google/uuid"
)

// TestTokenLifetime is how long a network session token minted by the test-tokens endpoint is
// valid, the same window as a completed Payment Request's token.
const TestTokenLifetime = NetworkSessionWindow

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
	now := s.ClockOf(accountID).Now()
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

// newCustomerToken builds an active token for a token request.
func newCustomerToken(accountID string, rct *CustomerTokenRequest, email string, now time.Time) *CustomerToken {
	return &CustomerToken{
		AccountID:              accountID,
		Token:                  PrefixCustomerToken + uuid.NewString(),
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
