package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// TestPaymentMethodsPassOnTheSavedPaymentOption follows "Build Payment Presentation with the
// Payment Presentation API"
// (docs.klarna.com/acquirer/klarna-direct/payment-presentation/integrate-payment-presentation/payment-presentation-api/):
// for a known customer Klarna answers a `saved_payment_option` besides the `payment_option`;
// the acquirer lists it first, preselected, with its badge, and passes Klarna's message parts
// and button image through.
func TestPaymentMethodsPassOnTheSavedPaymentOption(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	status, raw := e.call(http.MethodPost, "/v1/payment-methods", map[string]any{
		"currency": "USD", "amount": 11800, "intents": []string{"PAY"}, "customer_token": e.createToken("ON_DEMAND"),
	})
	require.Equal(t, http.StatusOK, status, "%s", raw)
	got := decode[struct {
		PaymentMethods []acquirer.PaymentMethod `json:"payment_methods"`
	}](t, raw).PaymentMethods
	require.Len(t, got, 2, "%s", raw)

	saved, plain := got[0], got[1]
	require.Equal(t, klarna.InstructionPreselect, saved.Instruction)
	require.True(t, saved.Preselected, "the saved option is the one preselected")
	require.NotNil(t, saved.Badge, "%s", raw)
	require.False(t, plain.Preselected)
	require.Nil(t, plain.Badge)
	require.NotEqual(t, saved.PaymentOptionID, plain.PaymentOptionID)
	for _, m := range got {
		require.NotEmpty(t, m.PaymentButton.ImageURL, "%s", raw)
		require.NotNil(t, m.Message, "%s", raw)
		require.Equal(t, "TEXT", m.Message.Parts[0].Type)
		require.Equal(t, "LINK", m.Message.Parts[len(m.Message.Parts)-1].Type)
	}
}

// TestPaymentMethodsPassOnEveryIntentAndTheSubscriptionBilling follows the Klarna Web SDK v2/r8
// "Intent" enumeration (docs.klarna.com/websdk/v2-r8/enums/constants.Intent.html) and
// "BillingPlan" (docs.klarna.com/websdk/v2/interfaces/common.BillingPlan.html): the acquirer
// takes every intent Klarna lists and passes the subscription's billing interval and frequency
// on to Klarna's presentation.
func TestPaymentMethodsPassOnEveryIntentAndTheSubscriptionBilling(t *testing.T) {
	t.Parallel()
	e := newEnv(t, mockConfig{static: true})
	status, raw := e.call(http.MethodPost, "/v1/payment-methods", map[string]any{
		"currency": "USD", "amount": 1500, "intents": []string{"SUBSCRIBE", "PAY"},
		"subscription_billing_interval": "MONTH", "subscription_billing_interval_frequency": 3,
	})
	require.Equal(t, http.StatusOK, status, "%s", raw)
	got := decode[struct {
		PaymentMethods []acquirer.PaymentMethod `json:"payment_methods"`
	}](t, raw).PaymentMethods
	require.Len(t, got, 1, "%s", raw)
	require.Equal(t, "Subscribe with Klarna", got[0].PaymentButton.Text)
	require.Contains(t, got[0].Message.Parts[0].Text, "every 3 months", "%s", raw)

	for _, intent := range []string{"DONATE", "SIGNUP", "SIGNIN", "ADD_TO_WALLET"} {
		status, raw := e.call(http.MethodPost, "/v1/payment-methods", map[string]any{"currency": "USD", "intents": []string{intent}})
		require.Equal(t, http.StatusOK, status, "%s: %s", intent, raw)
	}
}
