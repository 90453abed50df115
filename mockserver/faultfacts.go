package mockserver

import "github.com/klarna-mock/klarna-mock/mockserver/rules"

// AuthorizeFacts returns the facts the outcome rules would judge call by, gathered as Authorize
// gathers them but without changing anything, so that a fault's conditions (package faults) are
// judged before the call is carried out. It returns nil for a call Authorize refuses before
// judging it: an unknown or revoked token, a request no flow allows.
func (s *Service) AuthorizeFacts(call AuthorizeCall) *rules.Facts {
	var session *NetworkSession
	if call.SessionToken != "" {
		var err error
		session, err = view(s, func(tx Tx) (*NetworkSession, error) {
			return networkSession(tx, call.AccountID, call.SessionToken, call.SessionHeader)
		})
		if err != nil {
			return nil
		}
		if session.PaymentRequestID != "" {
			return s.finalFacts(call, session)
		}
	}
	token, err := s.chargedToken(call.AccountID, call.CustomerToken)
	if err != nil {
		return nil
	}
	kind, err := classify(call.Request, token)
	if err != nil {
		return nil
	}
	f := buildFacts(new(factRoom), kind, call.Request, session, token)
	return &f
}

// finalFacts are the facts of the final authorize of session's Payment Request, as finalize
// gathers them.
func (s *Service) finalFacts(call AuthorizeCall, session *NetworkSession) *rules.Facts {
	pr, err := view(s, func(tx Tx) (*PaymentRequest, error) {
		return tx.PaymentRequest(call.AccountID, session.PaymentRequestID)
	})
	if err != nil {
		return nil
	}
	var token *CustomerToken
	if pr.ChargedToken != "" {
		// A token revoked or gone since leaves the facts without it, as finalize does.
		token, _ = view(s, func(tx Tx) (*CustomerToken, error) { return tx.CustomerToken(pr.AccountID, pr.ChargedToken) })
	}
	f := buildFacts(new(factRoom), rules.KindFinal, call.Request, session, token)
	return &f
}
