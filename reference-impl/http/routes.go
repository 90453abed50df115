package http

import (
	"net/http"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
)

// KlarnaWebhookPath is where the acquirer takes Klarna's webhooks.
const KlarnaWebhookPath = "/klarna/webhooks"

// routes mounts every endpoint of the acquirer. This is the one place to see the whole surface;
// contracts/acquirer.yaml describes each of them.
func (s *Server) routes() error {
	for _, rt := range []route{
		// The Partner API.
		{method: http.MethodPost, path: "/v1/payment-methods", auth: authPartner, handle: s.listPaymentMethods},
		{method: http.MethodPost, path: "/v1/sessions", auth: authPartner, handle: s.createSession},
		{method: http.MethodGet, path: "/v1/sessions/{session_id}", auth: authPartner, handle: s.readPayment(s.svc.Session, "session_id")},
		{method: http.MethodPost, path: "/v1/charges", auth: authPartner, handle: s.createCharge},
		{method: http.MethodGet, path: "/v1/charges/{charge_id}", auth: authPartner, handle: s.readPayment(s.svc.Charge, "charge_id")},

		// The purchase's life after authorization, for sessions and charges alike.
		{method: http.MethodPost, path: "/v1/sessions/{session_id}/captures", auth: authPartner, handle: s.capture(acquirer.KindSession, "session_id")},
		{method: http.MethodPost, path: "/v1/sessions/{session_id}/refunds", auth: authPartner, handle: s.refund(acquirer.KindSession, "session_id")},
		{method: http.MethodPost, path: "/v1/sessions/{session_id}/release", auth: authPartner, handle: s.release(acquirer.KindSession, "session_id")},
		{method: http.MethodPost, path: "/v1/charges/{charge_id}/captures", auth: authPartner, handle: s.capture(acquirer.KindCharge, "charge_id")},
		{method: http.MethodPost, path: "/v1/charges/{charge_id}/refunds", auth: authPartner, handle: s.refund(acquirer.KindCharge, "charge_id")},
		{method: http.MethodPost, path: "/v1/charges/{charge_id}/release", auth: authPartner, handle: s.release(acquirer.KindCharge, "charge_id")},

		// Klarna's webhooks to the acquirer.
		{method: http.MethodPost, path: KlarnaWebhookPath, auth: authKlarnaSignature, handle: s.receiveKlarnaWebhook},
	} {
		if err := s.add(rt); err != nil {
			return err
		}
	}
	return nil
}
