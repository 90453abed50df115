package http_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// presentation asks the mock for the payment presentation with query and headers (name, value
// pairs) and requires a 200.
func (h *harness) presentation(query url.Values, headers ...string) response {
	h.t.Helper()
	r := h.do(http.MethodGet, h.path("/payment/presentation?"+query.Encode()), nil, headers...)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r
}

func usd(amount string, intents ...string) url.Values {
	q := url.Values{"currency": {"USD"}, "locale": {"en-US"}, "intents[]": intents}
	if amount != "" {
		q.Set("amount", amount)
	}
	return q
}

// TestPresentationPersonalisesAnyKnownCustomer follows "Payment Presentation Overview"
// (docs.klarna.com/klarna-network-distribution/payment-presentation/overview/: personalised
// for returning customers through their customer tokens, with a saved payment method) and
// "Build Payment Presentation with the Payment Presentation API"
// (docs.klarna.com/acquirer/klarna-direct/payment-presentation/integrate-payment-presentation/payment-presentation-api/:
// `instruction`, `payment_option` and, optionally, `saved_payment_option`). Any active token
// personalises, including one whose creation carried no email and one of another scope.
func TestPresentationPersonalisesAnyKnownCustomer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	anonymous := h.presentation(usd("11836", "PAY"))
	require.Equal(t, "SHOW_KLARNA", anonymous.str("instruction"), anonymous.body)
	require.Equal(t, "klarna", anonymous.str("payment_option.payment_option_id"))
	require.Nil(t, anonymous.get("saved_payment_option"), "no saved option for a customer Klarna does not know")

	known := map[string][]string{
		"customer token created without an email":         {"Klarna-Customer-Token", h.customerToken("payment:customer_present", "")},
		"customer token with an email":                    {"Klarna-Customer-Token", h.customerToken("payment:customer_present", "jane@example.com")},
		"customer token for charges without the customer": {"Klarna-Customer-Token", h.customerToken("payment:customer_not_present", "")},
		"network session token":                           {"Klarna-Network-Session-Token", h.testToken("")},
	}
	for name, header := range known {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := h.within(t).presentation(usd("11836", "PAY"), header...)
			require.Equal(t, "PRESELECT_KLARNA", p.str("instruction"), p.body)
			require.Equal(t, "klarna", p.str("payment_option.payment_option_id"), p.body)
			require.Equal(t, "klarna-saved", p.str("saved_payment_option.payment_option_id"), p.body)
			require.NotEmpty(t, p.str("saved_payment_option.badge.text"), p.body)
			require.NotEmpty(t, p.str("saved_payment_option.header.text"), p.body)
			require.NotEmpty(t, p.str("saved_payment_option.payment_button.text"), p.body)
		})
	}

	revoked := h.customerToken("payment:customer_present", "")
	rev := h.do(http.MethodPost, "/mock/v1/accounts/"+h.account+"/customer-tokens/"+revoked+"/revoke", nil)
	require.Equal(t, http.StatusOK, rev.status, rev.body)
	requireError(t, h.do(http.MethodGet, h.path("/payment/presentation?currency=USD"), nil, "Klarna-Customer-Token", revoked),
		http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Customer-Token")
}

// TestPresentationMessageParts follows the Klarna Web SDK's "PaymentPresentationMessagePart"
// (docs.klarna.com/websdk/v2/interfaces/payment.PaymentPresentationMessagePart.html): a message
// is a list of parts, each `{type: TEXT | LINK, text, url}`, a LINK with its `url` and
// `context`; no plain `message.text`. Without an amount there is no message.
func TestPresentationMessageParts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.presentation(usd("11836", "PAY"))
	require.Nil(t, p.get("payment_option.message.text"), p.body)
	require.Equal(t, "TEXT", p.str("payment_option.message.parts.0.type"), p.body)
	require.Contains(t, p.str("payment_option.message.parts.0.text"), "29.59 USD")
	require.Nil(t, p.get("payment_option.message.parts.0.url"), "a TEXT part has no url")
	require.Equal(t, "LINK", p.str("payment_option.message.parts.1.type"), p.body)
	require.NotEmpty(t, p.str("payment_option.message.parts.1.text"))
	require.Equal(t, "https://www.klarna.com/", p.str("payment_option.message.parts.1.url"))
	require.Equal(t, "INFO", p.str("payment_option.message.parts.1.context"))

	wallet := h.presentation(usd("", "ADD_TO_WALLET"))
	require.Nil(t, wallet.get("payment_option.message"), wallet.body)
}

// TestPresentationIconAndButtonFields follows the Klarna Web SDK v2/r6 "PaymentPresentation"
// (docs.klarna.com/websdk/v2-r6/interfaces/payment.PaymentPresentation.html: the icon's alt,
// badge, rectangle and square image URLs) and the payment button of "Build Payment
// Presentation with the Payment Presentation API"
// (docs.klarna.com/acquirer/klarna-direct/payment-presentation/integrate-payment-presentation/payment-presentation-api/:
// its text and `image_url`). The mock's former `icon.logo_url` and `payment_button.theme` are
// no Klarna fields and are gone; the contract forbids them.
func TestPresentationIconAndButtonFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.presentation(usd("11836", "PAY"), "Klarna-Customer-Token", h.customerToken("payment:customer_present", ""))
	for _, option := range []string{"payment_option", "saved_payment_option"} {
		for _, field := range []string{"icon.alt", "icon.badge_image_url", "icon.rectangle_image_url", "icon.square_image_url",
			"payment_button.text", "payment_button.image_url", "header.text", "subheader.text"} {
			require.NotEmpty(t, p.str(option+"."+field), "%s.%s: %s", option, field, p.body)
		}
		require.Nil(t, p.get(option+".icon.logo_url"), p.body)
		require.Nil(t, p.get(option+".payment_button.theme"), p.body)
	}
}

// TestPresentationIntents follows the Klarna Web SDK v2/r8 "Intent" enumeration
// (docs.klarna.com/websdk/v2-r8/enums/constants.Intent.html: PAY, SUBSCRIBE, DONATE, SIGNUP,
// SIGNIN), "Payment Presentation Overview"
// (docs.klarna.com/klarna-network-distribution/payment-presentation/overview/: ADD_TO_WALLET)
// and the Web SDK's "ButtonLabel" (docs.klarna.com/websdk/v2/enums/constants.ButtonLabel.html)
// for the button each intent gets. The first intent decides; amount may be left out, as a
// client does for ADD_TO_WALLET, SIGNUP and SIGNIN alone.
func TestPresentationIntents(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	buttons := map[string]string{
		"PAY":           "Pay with Klarna",
		"SUBSCRIBE":     "Subscribe with Klarna",
		"DONATE":        "Donate with Klarna",
		"SIGNUP":        "Sign up with Klarna",
		"SIGNIN":        "Sign in with Klarna",
		"ADD_TO_WALLET": "Continue with Klarna",
	}
	for intent, label := range buttons {
		p := h.presentation(usd("", intent))
		require.Equal(t, "SHOW_KLARNA", p.str("instruction"), p.body)
		require.Equal(t, label, p.str("payment_option.payment_button.text"), intent)
	}
	both := h.presentation(usd("11836", "SIGNIN", "PAY"))
	require.Equal(t, "Sign in with Klarna", both.str("payment_option.payment_button.text"), both.body)
	require.Equal(t, "Pay with Klarna", h.presentation(usd("11836")).str("payment_option.payment_button.text"), "PAY without intents")

	requireError(t, h.do(http.MethodGet, h.path("/payment/presentation?currency=USD&intents[]=BORROW"), nil),
		http.StatusBadRequest, "VALIDATION_ERROR", "intents[]")
	requireError(t, h.do(http.MethodGet, h.path("/payment/presentation?currency=USD&intents=BORROW"), nil),
		http.StatusBadRequest, "VALIDATION_ERROR", "intents[]")
}

// TestPresentationSubscriptionBilling follows the Klarna Web SDK's "BillingPlan"
// (docs.klarna.com/websdk/v2/interfaces/common.BillingPlan.html: an interval of DAY, WEEK,
// MONTH or YEAR and its frequency), taken on the presentation as
// `subscription_billing_interval` and `subscription_billing_interval_frequency`.
func TestPresentationSubscriptionBilling(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	q := usd("1500", "SUBSCRIBE")
	q.Set("subscription_billing_interval", "MONTH")
	monthly := h.presentation(q)
	require.Equal(t, "Pay 15.00 USD every month with Klarna. ", monthly.str("payment_option.message.parts.0.text"), monthly.body)

	q.Set("subscription_billing_interval", "WEEK")
	q.Set("subscription_billing_interval_frequency", "2")
	fortnightly := h.presentation(q)
	require.Equal(t, "Pay 15.00 USD every 2 weeks with Klarna. ", fortnightly.str("payment_option.message.parts.0.text"), fortnightly.body)

	for _, bad := range []struct{ param, value string }{
		{"subscription_billing_interval", "FORTNIGHT"},
		{"subscription_billing_interval_frequency", "0"},
		{"subscription_billing_interval_frequency", "often"},
	} {
		q := usd("1500", "SUBSCRIBE")
		q.Set(bad.param, bad.value)
		requireError(t, h.do(http.MethodGet, h.path("/payment/presentation?"+q.Encode()), nil),
			http.StatusBadRequest, "VALIDATION_ERROR", bad.param)
	}
}

// TestPresentationHidesKlarnaWhereNotOffered checks HIDE_KLARNA, without any payment option,
// for a currency Klarna does not take (docs/klarna.md §9).
func TestPresentationHidesKlarnaWhereNotOffered(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	hidden := h.presentation(url.Values{"currency": {"JPY"}})
	require.Equal(t, "HIDE_KLARNA", hidden.str("instruction"), hidden.body)
	require.Nil(t, hidden.get("payment_option"), hidden.body)
	require.Nil(t, hidden.get("saved_payment_option"), hidden.body)
}
