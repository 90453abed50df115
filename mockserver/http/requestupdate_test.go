package http_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUpdatePaymentRequestWhileSubmitted follows Klarna's "Update a Payment Request" page
// (docs.klarna.com/klarna-network-distribution/payment-authorization/update-payment-request/):
// while SUBMITTED the request takes new values, only those sent, with PUT as that page publishes
// it and PATCH as the older "Update a payment request" page does
// (docs.klarna.com/klarna-network-distribution/payments/use-cases/update-a-payment-request); once
// the customer is in the Purchase Journey it can no longer be updated, and the final authorize
// must match the updated amount.
func TestUpdatePaymentRequestWhileSubmitted(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(oneTime(11800))
	path := h.path("/payment/requests/" + id)

	put := h.do(http.MethodPut, path, map[string]any{
		"amount": 12500,
		"supplementary_purchase_data": map[string]any{
			"line_items": []any{map[string]any{"name": "Updated Product Name", "quantity": 2, "total_amount": 12500}},
		},
	})
	require.Equal(t, http.StatusOK, put.status, put.body)
	require.Equal(t, float64(12500), put.get("amount"))
	require.Equal(t, "SUBMITTED", put.str("state"))
	require.Equal(t, "pr-1", put.str("payment_request_reference"), "what the update leaves out stays")

	patch := h.do(http.MethodPatch, path, map[string]any{
		"payment_request_reference":   "updated-payment-request-reference",
		"customer_interaction_config": map[string]any{"return_url": "https://merchant.example/back"},
	})
	require.Equal(t, http.StatusOK, patch.status, patch.body)
	require.Equal(t, "updated-payment-request-reference", patch.str("payment_request_reference"))
	require.Equal(t, "https://merchant.example/back", patch.str("state_context.customer_interaction.return_url"))
	require.Equal(t, float64(12500), patch.get("amount"))

	h.requireRejections([]rejection{
		{name: "line items off the new amount", method: http.MethodPut, path: path, body: map[string]any{"amount": 13000}, status: 400, code: "VALIDATION_ERROR", param: "supplementary_purchase_data.line_items"},
		{name: "nothing to update", method: http.MethodPatch, path: path, body: map[string]any{}, status: 400, code: "VALIDATION_ERROR"},
		{name: "unknown request", method: http.MethodPut, path: h.path("/payment/requests/krn:payment:eu1:request:" + unknownID), body: map[string]any{"amount": 1}, status: 404, code: "NOT_FOUND"},
	})

	require.Equal(t, http.StatusOK, h.open(id).status)
	requireError(t, h.do(http.MethodPut, path, map[string]any{"payment_request_reference": "too-late"}), http.StatusConflict, "INVALID_STATE_TRANSITION", "")

	done := h.act(id, "approve")
	nst := done.str("state_context.klarna_network_session_token")
	requireError(t, h.authorize(finalAuthorize(11800, "USD"), "Klarna-Network-Session-Token", nst), http.StatusBadRequest, "VALIDATION_ERROR", "request_payment_transaction.amount")
	f := h.authorize(finalAuthorize(12500, "USD"), "Klarna-Network-Session-Token", nst)
	require.Equal(t, "APPROVED", f.str("payment_transaction_response.result"), f.body)
	require.Equal(t, float64(12500), f.get("payment_transaction_response.payment_transaction.amount"))
}

// TestUpdateTokenOnlyRequestHasNoAmount: a Payment Request for a customer token alone has no
// amount to update (the "Update a Payment Request" page updates the purchase's amount).
func TestUpdateTokenOnlyRequestHasNoAmount(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(tokenCreation("payment:customer_present", false))
	requireError(t, h.do(http.MethodPut, h.path("/payment/requests/"+id), map[string]any{"amount": 1000}), http.StatusBadRequest, "VALIDATION_ERROR", "amount")
}
