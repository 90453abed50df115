package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// These tests walk every branch of the three sequence diagrams of Klarna's server-side tokenized
// integration (docs/flows.md) through the acquirer, against the mock's default outcome rules
// (fixtures/default.yaml): a network session token of an identified customer spares the
// step-up; "+denied@" emails and references containing "decline" are declined; references
// containing "stepup" step up.

const returnURL = "https://partner.example/checkout/return"

func subscriptions() map[string]any {
	return map[string]any{"subscriptions": []any{map[string]any{
		"subscription_reference": "sub-1", "name": "Coffee club",
		"billing_plans": []any{map[string]any{"billing_amount": 999, "currency": "EUR", "interval": "MONTH", "interval_frequency": 1}},
	}}}
}

// tokenSession is a session body creating a token of usage; with amount > 0 also a purchase.
func tokenSession(reference, usage string, amount int, mode string) map[string]any {
	body := map[string]any{
		"reference": reference, "currency": "EUR", "mode": mode,
		"request_customer_token": map[string]any{"usage": usage, "reference": "customer-42"},
	}
	if mode == "REDIRECT" {
		body["return_url"] = returnURL
	}
	if amount > 0 {
		body["amount"] = amount
	}
	if usage == "SUBSCRIPTION" {
		body["supplementary_purchase_data"] = subscriptions()
	}
	return body
}

// requireBothTokens checks a created token carries the acquirer's and Klarna's token.
func requireBothTokens(t *testing.T, tok *acquirer.TokenResource, usage acquirer.Usage) {
	t.Helper()
	require.NotNil(t, tok)
	require.True(t, strings.HasPrefix(tok.CustomerToken, acquirer.PrefixToken), tok.CustomerToken)
	require.True(t, strings.HasPrefix(tok.KlarnaCustomerToken, "krn:customer-token:"), tok.KlarnaCustomerToken)
	require.Equal(t, usage, tok.Usage)
	require.Equal(t, []string{usage.Scope()}, tok.Scopes)
}

// createToken creates a token of usage the quick way (an identified customer, no step-up) and
// returns the acquirer's token.
func (e *env) createToken(usage string) string {
	e.t.Helper()
	body := tokenSession("signup-"+randomHex(4), usage, 0, "SDK")
	body["klarna_network_session_token"] = e.networkSessionToken("jane.doe@example.com")
	status, raw := e.call(http.MethodPost, "/v1/sessions", body)
	require.Equal(e.t, http.StatusCreated, status, "%s", raw)
	s := decode[session](e.t, raw)
	require.Equal(e.t, acquirer.StatusCompleted, s.Status)
	return s.CustomerToken.CustomerToken
}

// Diagram 1: token creation.

func TestTokenCreationApprovedWithANetworkSessionToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	body := tokenSession("order-1001", "SUBSCRIPTION", 999, "REDIRECT")
	body["klarna_network_session_token"] = e.networkSessionToken("jane.doe@example.com")

	status, raw := e.call(http.MethodPost, "/v1/sessions", body)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	s := decode[session](t, raw)
	require.Equal(t, acquirer.StatusCompleted, s.Status)
	require.True(t, strings.HasPrefix(s.PaymentTransactionID, "krn:payment:eu1:transaction:"))
	require.Empty(t, s.PaymentRequestURL, "no step-up")
	requireBothTokens(t, s.CustomerToken, acquirer.UsageSubscription)
	require.Equal(t, "customer-42", s.CustomerToken.Reference)

	completed := eventData[session](t, e.partner.await(t, "order.completed", s.ID))
	require.Equal(t, s.CustomerToken.CustomerToken, completed.CustomerToken.CustomerToken, "the Partner gets both tokens")
	require.Equal(t, s.CustomerToken.KlarnaCustomerToken, completed.CustomerToken.KlarnaCustomerToken)
	e.partner.await(t, "token.created", s.CustomerToken.CustomerToken)

	status, raw = e.call(http.MethodGet, "/v1/sessions/"+s.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, s, decode[session](t, raw))
}

func TestTokenCreationStepsUpThenCompletesByWebhook(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		mode   string
		amount int
	}{
		{"redirect with a purchase", "REDIRECT", 999},
		{"sdk without a purchase", "SDK", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, mockConfig{static: true})
			status, raw := e.call(http.MethodPost, "/v1/sessions", tokenSession("order-2001", "ON_DEMAND", tc.amount, tc.mode))
			require.Equal(t, http.StatusCreated, status, "%s", raw)
			s := decode[session](t, raw)
			require.Equal(t, acquirer.StatusRequiresAction, s.Status)
			require.True(t, strings.HasPrefix(s.PaymentRequestID, "krn:payment:eu1:request:"))
			require.NotNil(t, s.ActionExpiresAt)
			require.Nil(t, s.CustomerToken)
			if tc.mode == "REDIRECT" {
				require.True(t, strings.HasPrefix(s.PaymentRequestURL, e.mockURL), "Klarna's payment_request_url: %q", s.PaymentRequestURL)
			} else {
				require.Empty(t, s.PaymentRequestURL, "SDK mode hands over the payment_request_id")
			}

			// The customer completes the Purchase Journey; Klarna's webhook makes the acquirer
			// finalize and tell the Partner.
			e.customer("approve", s.PaymentRequestID)
			completed := eventData[session](t, e.partner.await(t, "order.completed", s.ID))
			require.Equal(t, acquirer.StatusCompleted, completed.Status)
			requireBothTokens(t, completed.CustomerToken, acquirer.UsageOnDemand)
			if tc.amount > 0 {
				require.NotEmpty(t, completed.PaymentTransactionID)
			} else {
				require.Empty(t, completed.PaymentTransactionID, "a token-only session has no transaction")
			}
			e.partner.await(t, "token.created", completed.CustomerToken.CustomerToken)

			status, raw = e.call(http.MethodGet, "/v1/sessions/"+s.ID, nil)
			require.Equal(t, http.StatusOK, status)
			got := decode[session](t, raw)
			require.Equal(t, acquirer.StatusCompleted, got.Status)
			require.Nil(t, got.ActionExpiresAt, "nothing left for the customer to do")
			require.Equal(t, completed.CustomerToken, got.CustomerToken)

			// Klarna delivers at least once: the same delivery again changes nothing.
			deliveries := e.klarnaDeliveries(klarna.EventRequestCompleted, s.PaymentRequestID)
			require.NotEmpty(t, deliveries)
			status, raw = e.postKlarnaWebhook(deliveries[0].header, deliveries[0].body)
			require.Equal(t, http.StatusOK, status, "%s", raw)
			require.JSONEq(t, `{"result":"DUPLICATE"}`, string(raw))

			// A body that is not Klarna's is refused.
			forged := deliveries[0].header.Clone()
			forged.Set(klarna.HeaderSignature, signature.Sign("not-the-secret", deliveries[0].body))
			status, raw = e.postKlarnaWebhook(forged, deliveries[0].body)
			require.Equal(t, http.StatusBadRequest, status)
			require.Equal(t, "INVALID_SIGNATURE", decode[apError](t, raw).ErrorCode)

			time.Sleep(100 * time.Millisecond)
			require.Len(t, e.partner.received("order.completed", s.ID), 1, "the Partner is told once")
		})
	}
}

func TestTokenCreationDeclined(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	body := tokenSession("order-3001", "SUBSCRIPTION", 999, "REDIRECT")
	body["supplementary_purchase_data"].(map[string]any)["customer"] = map[string]any{"email": "jane+denied@example.com"}

	status, raw := e.call(http.MethodPost, "/v1/sessions", body)
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	s := decode[session](t, raw)
	require.Equal(t, acquirer.StatusDeclined, s.Status)
	require.Equal(t, "RISK_REJECTED", s.DeclineReason)
	require.Nil(t, s.CustomerToken)
	declined := eventData[session](t, e.partner.await(t, "payment.declined", s.ID))
	require.Equal(t, acquirer.StatusDeclined, declined.Status)
}

func TestTokenCreationDeclinedInThePurchaseJourney(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	status, raw := e.call(http.MethodPost, "/v1/sessions", tokenSession("order-3002", "ON_DEMAND", 999, "REDIRECT"))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	s := decode[session](t, raw)
	require.Equal(t, acquirer.StatusRequiresAction, s.Status)

	e.customer("decline", s.PaymentRequestID)
	declined := eventData[session](t, e.partner.await(t, "payment.declined", s.ID))
	require.Equal(t, acquirer.StatusDeclined, declined.Status)
	require.Equal(t, "CUSTOMER_DECLINED", declined.DeclineReason)
	_, raw = e.call(http.MethodGet, "/v1/sessions/"+s.ID, nil)
	require.Equal(t, acquirer.StatusDeclined, decode[session](t, raw).Status)
}

// Diagram 2: customer-present charges.

func presentCharge(token, reference string) map[string]any {
	return map[string]any{
		"customer_token": token, "customer_present": true, "reference": reference,
		"currency": "EUR", "amount": 4500, "mode": "REDIRECT", "return_url": returnURL,
		"supplementary_purchase_data": map[string]any{
			"line_items":       []any{map[string]any{"name": "Beans", "quantity": 3, "total_amount": 4500}},
			"ondemand_service": map[string]any{"average_amount": 4500, "purchase_interval": "MONTH", "purchase_interval_frequency": 1},
		},
	}
}

func TestCustomerPresentChargeApproved(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	token := e.createToken("ON_DEMAND")

	status, raw := e.call(http.MethodPost, "/v1/charges", presentCharge(token, "order-4001"))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	c := decode[charge](t, raw)
	require.Equal(t, acquirer.StatusCompleted, c.Status)
	require.Equal(t, token, c.CustomerToken)
	require.True(t, c.CustomerPresent)
	require.NotEmpty(t, c.PaymentTransactionID)
	e.partner.await(t, "order.completed", c.ID)

	status, raw = e.call(http.MethodGet, "/v1/charges/"+c.ID, nil)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, c, decode[charge](t, raw))
}

func TestCustomerPresentChargeStepsUpThenCompletes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	token := e.createToken("ON_DEMAND")

	status, raw := e.call(http.MethodPost, "/v1/charges", presentCharge(token, "order-stepup-4002"))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	c := decode[charge](t, raw)
	require.Equal(t, acquirer.StatusRequiresAction, c.Status)
	require.NotEmpty(t, c.PaymentRequestURL)

	e.customer("approve", c.PaymentRequestID)
	completed := eventData[charge](t, e.partner.await(t, "order.completed", c.ID))
	require.Equal(t, acquirer.StatusCompleted, completed.Status)
	require.NotEmpty(t, completed.PaymentTransactionID)
	require.Empty(t, e.partner.received("token.created", c.ID), "a charge creates no token")

	_, raw = e.call(http.MethodGet, "/v1/charges/"+c.ID, nil)
	require.Equal(t, completed.PaymentTransactionID, decode[charge](t, raw).PaymentTransactionID)
}

func TestCustomerPresentChargeDeclined(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	token := e.createToken("ON_DEMAND")

	status, raw := e.call(http.MethodPost, "/v1/charges", presentCharge(token, "order-decline-4003"))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	c := decode[charge](t, raw)
	require.Equal(t, acquirer.StatusDeclined, c.Status)
	require.Equal(t, "RISK_REJECTED", c.DeclineReason)
	e.partner.await(t, "payment.declined", c.ID)
}

// Diagram 3: subscription charges, the customer not present.

func subscriptionCharge(token, reference string, amount int) map[string]any {
	return map[string]any{
		"customer_token": token, "customer_present": false, "reference": reference,
		"currency": "EUR", "amount": amount, "capture": "NOW",
		"supplementary_purchase_data": subscriptions(),
	}
}

func TestSubscriptionCharges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	token := e.createToken("SUBSCRIPTION")

	for _, tc := range []struct {
		name      string
		reference string
		amount    int
		status    acquirer.Status
		reason    string
		event     string
	}{
		{"approved", "sub-1-month-2", 999, acquirer.StatusCompleted, "", "order.completed"},
		{"declined", "sub-1-decline-month-3", 999, acquirer.StatusDeclined, "RISK_REJECTED", "payment.declined"},
		{"a step-up is a decline without the customer", "sub-1-month-4", 13400, acquirer.StatusDeclined, "CUSTOMER_NOT_PRESENT", "payment.declined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := e.call(http.MethodPost, "/v1/charges", subscriptionCharge(token, tc.reference, tc.amount))
			require.Equal(t, http.StatusCreated, status, "%s", raw)
			c := decode[charge](t, raw)
			require.Equal(t, tc.status, c.Status)
			require.Equal(t, tc.reason, c.DeclineReason)
			require.False(t, c.CustomerPresent)
			require.Empty(t, c.PaymentRequestID, "never a step-up")
			e.partner.await(t, tc.event, c.ID)
		})
	}
}

// The acquirer's tokens belong to one Partner and one usage.

func TestChargingTokensThatAreNotTheCallers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	token := e.createToken("SUBSCRIPTION")

	status, raw := e.call(http.MethodPost, "/v1/charges", subscriptionCharge("aptok_"+randomHex(16), "x-1", 999))
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "NOT_FOUND", decode[apError](t, raw).ErrorCode)

	otherPartner := acquirer.TestKeyPrefix + randomHex(8)
	status, raw = e.callAs(otherPartner, http.MethodPost, "/v1/charges", subscriptionCharge(token, "x-2", 999))
	require.Equal(t, http.StatusForbidden, status)
	require.Equal(t, "FORBIDDEN", decode[apError](t, raw).ErrorCode)

	status, raw = e.call(http.MethodPost, "/v1/charges", presentCharge(token, "x-3"))
	require.Equal(t, http.StatusBadRequest, status, "a SUBSCRIPTION token cannot be charged with the customer present")
	require.Equal(t, "customer_token", decode[apError](t, raw).Errors[0].Parameter)

	status, _ = e.callAs(otherPartner, http.MethodGet, "/v1/charges/chg_"+randomHex(12), nil)
	require.Equal(t, http.StatusNotFound, status)
}

// TestAWebhookRegisteredThroughKlarnasNotificationAPI runs a step-up with the acquirer's
// listener registered the way an acquirer does with real Klarna: a signing key and a webhook
// created through the Notifications API, instead of the mock's static webhook.
func TestAWebhookRegisteredThroughKlarnasNotificationAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: false})
	status, raw := e.call(http.MethodPost, "/v1/sessions", tokenSession("order-8001", "SUBSCRIPTION", 999, "REDIRECT"))
	require.Equal(t, http.StatusCreated, status, "%s", raw)
	s := decode[session](t, raw)
	require.Equal(t, acquirer.StatusRequiresAction, s.Status)

	e.customer("approve", s.PaymentRequestID)
	completed := eventData[session](t, e.partner.await(t, "order.completed", s.ID))
	requireBothTokens(t, completed.CustomerToken, acquirer.UsageSubscription)

	deliveries := e.klarnaDeliveries(klarna.EventRequestCompleted, s.PaymentRequestID)
	require.NotEmpty(t, deliveries)
	require.True(t, strings.HasPrefix(deliveries[0].header.Get(klarna.HeaderSigningKeyID), "krn:partner:global:notification:signing-key:"),
		"signed with the registered key, not a static one")
}
