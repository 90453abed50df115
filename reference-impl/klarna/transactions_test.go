package klarna_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// TestTransactionOperationsCallKlarnasPaths checks the Payment Transaction API calls (docs/klarna.md
// §10, after "Capture a payment transaction" and "Refund payment transactions and allocation"):
// each a POST under the transaction, with its body and the idempotency key given; a refund of one
// capture goes under that capture; Klarna's 403 past its limits comes back as an *Error.
func TestTransactionOperationsCallKlarnasPaths(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	type call struct{ method, path, key, body string }
	var calls []call
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls = append(calls, call{r.Method, r.URL.Path, r.Header.Get(klarna.HeaderIdempotencyKey), string(body)})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/captures"):
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"payment_capture_id":"krn:payment:eu1:capture:1","captured_amount":500,"captured_at":"2026-01-04T12:00:00Z"}`)
		case strings.HasSuffix(r.URL.Path, "/refunds"):
			w.WriteHeader(http.StatusForbidden)
			_, _ = io.WriteString(w, `{"error_id":"e","error_type":"ACCESS_ERROR","error_code":"FORBIDDEN","error_message":"at most 200 refunds"}`)
		default:
			_, _ = io.WriteString(w, `{"payment_transaction_id":"krn:payment:eu1:transaction:1","amount":1000,"currency":"EUR","state":"COMPLETED","created_at":"2026-01-04T12:00:00Z"}`)
		}
	}))
	t.Cleanup(srv.Close)
	c, err := klarna.New(klarna.Config{BaseURL: srv.URL, APIKey: "klarna_test_api_tx", AccountID: "krn:partner:global:account:test:TX000001"})
	require.NoError(t, err)
	tp := klarna.TransactionParams{PaymentTransactionID: "krn:payment:eu1:transaction:1", IdempotencyKey: "op-1"}

	captured, err := c.Capture(t.Context(), klarna.CaptureParams{TransactionParams: tp, Request: klarna.CaptureRequest{CapturedAmount: 500, PaymentCaptureReference: "ship-1"}})
	require.NoError(t, err)
	require.Equal(t, "krn:payment:eu1:capture:1", captured.PaymentCaptureID)
	_, err = c.Refund(t.Context(), klarna.RefundParams{TransactionParams: tp, PaymentCaptureID: captured.PaymentCaptureID, Request: klarna.RefundRequest{RefundedAmount: 100}})
	var ke *klarna.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, http.StatusForbidden, ke.StatusCode)
	require.False(t, ke.Temporary(), "a limit is not retried")
	released, err := c.ReleaseRemaining(t.Context(), tp)
	require.NoError(t, err)
	require.Equal(t, "COMPLETED", released.State)

	const base = "/v2/accounts/krn:partner:global:account:test:TX000001/payment/transactions/krn:payment:eu1:transaction:1"
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []call{
		{http.MethodPost, base + "/captures", "op-1", `{"captured_amount":500,"payment_capture_reference":"ship-1"}`},
		{http.MethodPost, base + "/captures/krn:payment:eu1:capture:1/refunds", "op-1", `{"refunded_amount":100}`},
		{http.MethodPost, base + "/void", "op-1", ""},
	}, calls)
}
