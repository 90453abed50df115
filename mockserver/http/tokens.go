package http

import (
	"net/http"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// The handlers of the token endpoints: Klarna's Interoperability API (test tokens, SDK tokens)
// and its Identity API (SDK tokens, and the read and revocation of a customer token).

func (s *Server) mintTestToken(w http.ResponseWriter, r *request) error {
	call := mockserver.TestTokenCall{AccountID: r.scope, CustomerToken: r.Header.Get(mockserver.HeaderCustomerToken)}
	if err := decodeJSON(r.body, &call.Request); err != nil {
		return err
	}
	t, err := s.svc.MintTestToken(call)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) interoperabilitySDKToken(w http.ResponseWriter, r *request) error {
	t, err := s.svc.InteroperabilitySDKToken(r.scope, r.Header.Get(mockserver.HeaderInteroperabilityToken))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) identitySDKToken(w http.ResponseWriter, r *request) error {
	t, err := s.svc.IdentitySDKToken(r.scope, r.Header.Get(mockserver.HeaderCustomerToken))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) introspectCustomerToken(w http.ResponseWriter, r *request) error {
	t, err := s.svc.IntrospectCustomerToken(r.scope, r.Header.Get(mockserver.HeaderIdentityCustomerToken))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

// revokedToken is the Identity API's answer to a revocation: the Partner's reference of the
// token, to match it with its own records.
type revokedToken struct {
	CustomerTokenReference string `json:"customer_token_reference,omitempty"`
}

func (s *Server) revokeIdentityCustomerToken(w http.ResponseWriter, r *request) error {
	ct, err := s.svc.RevokeCustomerToken(r.scope, r.Header.Get(mockserver.HeaderIdentityCustomerToken))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, revokedToken{ct.CustomerTokenReference})
}
