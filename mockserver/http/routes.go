package http

import "net/http"

// Contract documents, by file name in contracts/.
const (
	contractPayments = "klarna-payments.yaml"
	contractControl  = "mock-control.yaml"
	contractNotify   = "klarna-notifications.yaml"
)

// routes mounts every endpoint of the mock. This is the one place to see the whole surface.
func (s *Server) routes() error {
	const account = "/v2/accounts/{partner_account_id}"
	const control = "/mock/v1"
	for _, rt := range []route{
		// Klarna's Payment API (klarna-payments.yaml).
		{method: http.MethodPost, path: account + "/payment/authorize", contract: contractPayments, journaled: true, idempotent: true, handle: s.authorize},
		{method: http.MethodGet, path: account + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, handle: s.readPaymentRequest},
		{method: http.MethodDelete, path: account + "/payment/requests/{payment_request_id}", contract: contractPayments, journaled: true, handle: s.cancelPaymentRequest},
		{method: http.MethodGet, path: account + "/payment/transactions/{payment_transaction_id}", contract: contractPayments, journaled: true, handle: s.readPaymentTransaction},
		{method: http.MethodGet, path: account + "/payment/presentation", contract: contractPayments, journaled: true, handle: s.presentation},
		{method: http.MethodPost, path: account + "/interoperability/test-tokens", contract: contractPayments, journaled: true, idempotent: true, handle: s.mintTestToken},

		// The Purchase Journey the customer sees: HTML, so no contract check (documented in
		// mock-control.yaml). The id is the capability, as with Klarna's payment_request_url;
		// the path is mockserver.JourneyPath, which payment_request_url is built on.
		{method: http.MethodGet, path: "/journey/{payment_request_id}", public: true, raw: true, handle: s.journeyPage},
		{method: http.MethodPost, path: "/journey/{payment_request_id}", public: true, raw: true, handle: s.journeySubmit},

		// The mock's own control API (mock-control.yaml).
		{method: http.MethodPost, path: control + "/payment-requests/{payment_request_id}/{action}", contract: contractControl, public: true, handle: s.journeyAction},
		{method: http.MethodGet, path: control + "/clock", contract: contractControl, public: true, handle: s.readClock},
		{method: http.MethodPost, path: control + "/clock/advance", contract: contractControl, public: true, handle: s.advanceClock},
		{method: http.MethodGet, path: control + "/accounts/{partner_account_id}/customer-tokens/{customer_token}", contract: contractControl, handle: s.readCustomerToken},
		{method: http.MethodPost, path: control + "/accounts/{partner_account_id}/customer-tokens/{customer_token}/revoke", contract: contractControl, handle: s.revokeCustomerToken},
		{method: http.MethodGet, path: control + "/accounts/{partner_account_id}/journal", contract: contractControl, handle: s.readJournal},

		// The contracts themselves.
		{method: http.MethodGet, path: "/openapi.yaml", public: true, handle: s.serveContract(contractPayments)},
		{method: http.MethodGet, path: "/contracts/{file}", public: true, handle: s.serveNamedContract},
	} {
		if err := s.add(rt); err != nil {
			return err
		}
	}
	return nil
}

// notificationRoutes are Klarna's Notifications API (klarna-notifications.yaml), mounted by
// EnableNotifications when the mock sends webhooks. The two delivery routes are mock-only.
func (s *Server) notificationRoutes(api notifications) []route {
	const base = "/v2/notification"
	return []route{
		{method: http.MethodPost, path: base + "/signing-keys", contract: contractNotify, idempotent: true, handle: api.createSigningKey},
		{method: http.MethodGet, path: base + "/signing-keys", contract: contractNotify, handle: api.listSigningKeys},
		{method: http.MethodGet, path: base + "/signing-keys/{signing_key_id}", contract: contractNotify, handle: api.readSigningKey},
		{method: http.MethodDelete, path: base + "/signing-keys/{signing_key_id}", contract: contractNotify, handle: api.deleteSigningKey},
		{method: http.MethodPost, path: base + "/webhooks", contract: contractNotify, idempotent: true, handle: api.createWebhook},
		{method: http.MethodGet, path: base + "/webhooks", contract: contractNotify, handle: api.listWebhooks},
		{method: http.MethodGet, path: base + "/webhooks/{webhook_id}", contract: contractNotify, handle: api.readWebhook},
		{method: http.MethodPatch, path: base + "/webhooks/{webhook_id}", contract: contractNotify, idempotent: true, handle: api.updateWebhook},
		{method: http.MethodDelete, path: base + "/webhooks/{webhook_id}", contract: contractNotify, handle: api.deleteWebhook},
		{method: http.MethodPost, path: base + "/webhooks/{webhook_id}/simulate", contract: contractNotify, idempotent: true, handle: api.simulateWebhook},
		// Mock-only: what the mock delivered.
		{method: http.MethodGet, path: base + "/webhooks/{webhook_id}/deliveries", contract: contractNotify, handle: api.listDeliveries},
		{method: http.MethodGet, path: base + "/deliveries/{delivery_id}", contract: contractNotify, handle: api.readDelivery},
	}
}
