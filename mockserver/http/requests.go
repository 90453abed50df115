package http

import (
	"net/http"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// createPaymentRequest creates a Payment Request server to server (POST .../payment/requests)
// and answers 201 with it, SUBMITTED, as Klarna's Payment API reference does.
func (s *Server) createPaymentRequest(w http.ResponseWriter, r *request) error {
	var in mockserver.PaymentRequestInput
	if err := decodeJSON(r.body, &in); err != nil {
		return err
	}
	pr, err := s.svc.CreatePaymentRequest(mockserver.PaymentRequestCall{
		AccountID:      r.scope,
		Input:          &in,
		JourneyBaseURL: s.baseURL(r.Request),
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, pr)
}
