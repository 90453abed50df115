package http

import (
	"net/http"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// The handlers of a payment's life after authorization: capture, refund and release of a
// session's or a charge's transaction. Each answers with the payment as it is afterwards.

// captureBody is the body of POST .../captures (schema CaptureRequest).
type captureBody struct {
	Amount    int64                    `json:"amount"`
	Reference string                   `json:"reference"`
	LineItems []klarna.LineItem        `json:"line_items"`
	Shipping  []klarna.CaptureShipping `json:"shipping"`
}

// refundBody is the body of POST .../refunds (schema RefundRequest).
type refundBody struct {
	Amount    int64             `json:"amount"`
	CaptureID string            `json:"capture_id"`
	Reference string            `json:"reference"`
	LineItems []klarna.LineItem `json:"line_items"`
}

func (s *Server) capture(kind acquirer.Kind, idVar string) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		var in captureBody
		if len(r.body) > 0 {
			if err := decode(r.body, &in); err != nil {
				return err
			}
		}
		p, err := s.svc.Capture(r.Context(), r.partner, kind, r.vars[idVar], acquirer.CaptureRequest{
			IdempotencyKey: r.Header.Get("Idempotency-Key"),
			Amount:         in.Amount, Reference: in.Reference, LineItems: in.LineItems, Shipping: in.Shipping,
		})
		return writePayment(w, http.StatusCreated, p, err)
	}
}

func (s *Server) refund(kind acquirer.Kind, idVar string) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		var in refundBody
		if err := decode(r.body, &in); err != nil {
			return err
		}
		p, err := s.svc.Refund(r.Context(), r.partner, kind, r.vars[idVar], acquirer.RefundRequest{
			IdempotencyKey: r.Header.Get("Idempotency-Key"),
			Amount:         in.Amount, CaptureID: in.CaptureID, Reference: in.Reference, LineItems: in.LineItems,
		})
		return writePayment(w, http.StatusCreated, p, err)
	}
}

func (s *Server) release(kind acquirer.Kind, idVar string) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		p, err := s.svc.Release(r.Context(), r.partner, kind, r.vars[idVar], r.Header.Get("Idempotency-Key"))
		return writePayment(w, http.StatusOK, p, err)
	}
}

// writePayment answers with the payment p, or the error.
func writePayment(w http.ResponseWriter, status int, p *acquirer.Payment, err error) error {
	if err != nil {
		return err
	}
	return httpserver.WriteJSON(w, status, p.Resource())
}
