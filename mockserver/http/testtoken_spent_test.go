package http_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTestTokenIsSpentByItsTransaction follows the "Klarna Network Session Token" page
// (docs.klarna.com/acquirer/klarna-network/payment-authorization/authorization-resources/klarna-network-session-token/:
// "The token is invalidated once the Payment Transaction is created") for a token minted by
// test-tokens, as for a completed Payment Request's: a call that creates no transaction (a token
// creation) leaves it valid; the authorize that creates one spends it; a repeat under that call's
// Klarna-Idempotency-Key replays its answer, and any other use is refused with a 400 naming the
// header and the transaction.
func TestTestTokenIsSpentByItsTransaction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.testToken("jane@example.com")
	created := h.authorize(tokenCreation("payment:customer_present", false), "Klarna-Network-Session-Token", tok)
	require.Equal(t, "APPROVED", created.str("customer_token_response.result"), created.body)

	first := h.authorize(oneTime(2500), "Klarna-Network-Session-Token", tok, "Klarna-Idempotency-Key", "pay-1")
	require.Equal(t, "APPROVED", first.str("payment_transaction_response.result"), first.body)
	tx := first.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	replay := h.authorize(oneTime(2500), "Klarna-Network-Session-Token", tok, "Klarna-Idempotency-Key", "pay-1")
	require.Equal(t, first.body, replay.body, "the same key replays the first answer")

	for _, header := range []string{"Klarna-Network-Session-Token", "Klarna-Interoperability-Token"} {
		again := h.authorize(oneTime(2500), header, tok)
		requireError(t, again, http.StatusBadRequest, "VALIDATION_ERROR", header)
		require.Contains(t, again.str("error_message"), "spent", header)
		require.Contains(t, again.str("error_message"), tx)
	}
	requireError(t, h.authorize(tokenCreation("payment:customer_present", false), "Klarna-Network-Session-Token", tok),
		http.StatusBadRequest, "VALIDATION_ERROR", "Klarna-Network-Session-Token")
}

// TestRacingAuthorizesSpendATestTokenOnce: of authorizes sent at once with one test token, one
// creates a transaction and the others are refused, as the token is spent in the same store
// transaction that creates the payment transaction.
func TestRacingAuthorizesSpendATestTokenOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.testToken("jane@example.com")
	var wg sync.WaitGroup
	statuses := make(chan int, 8)
	for range 8 {
		wg.Go(func() { statuses <- h.authorize(oneTime(2500), "Klarna-Network-Session-Token", tok).status })
	}
	wg.Wait()
	close(statuses)
	approved := 0
	for s := range statuses {
		if s == http.StatusOK {
			approved++
		} else {
			require.Equal(t, http.StatusBadRequest, s)
		}
	}
	require.Equal(t, 1, approved)
}
