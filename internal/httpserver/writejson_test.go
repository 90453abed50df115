package httpserver_test

import (
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// answerShapes are values of the shapes the services answer with, and the corners of
// encoding/json's encoding: HTML and line separators escaped, invalid UTF-8, omitempty, times,
// raw messages, nil, scalars.
func answerShapes() []any {
	at := time.Date(2026, 12, 1, 13, 0, 0, 123456789, time.FixedZone("CET", 3600))
	tr := &mockserver.PaymentTransaction{
		AccountID: "tenant/acct", PaymentTransactionID: mockserver.PrefixPaymentTransaction + "1", PaymentTransactionReference: "<order & 1>",
		Amount: 11800, Currency: "USD", State: mockserver.TransactionAuthorized, CreatedAt: at, UpdatedAt: at, ExpiresAt: at.Add(time.Hour),
		SupplementaryPurchaseData: &mockserver.SupplementaryPurchaseData{PurchaseReference: "p\u2028\u2029", LineItems: []mockserver.LineItem{{Name: "Shoes \xff", Quantity: 1, TotalAmount: 11800}}},
	}
	invalid := mockserver.Invalid("supplementary_purchase_data.line_items", "the line items' total_amount add up to 1, not to 2")
	return []any{
		nil, true, 0, -1.5e300, "text", "<script>&</script>", "\u2028\xff\x00\t\"\\", []int{}, []string(nil), map[string]any{"b": 1, "a": []any{nil, "x"}},
		json.RawMessage(`{"raw" : true}`), struct {
			A string `json:"a,omitempty"`
			B int    `json:"b"`
		}{B: 2},
		at, &at, tr,
		&mockserver.AuthorizeResponse{PaymentTransactionResponse: &mockserver.PaymentTransactionResponse{Result: mockserver.ResultApproved, PaymentTransaction: tr}, Rule: "not encoded"},
		&mockserver.AuthorizeResponse{PaymentTransactionResponse: &mockserver.PaymentTransactionResponse{Result: mockserver.ResultDeclined, ResultReason: "CUSTOMER_NOT_PRESENT"}},
		invalid, mockserver.AsError(invalid), mockserver.NewError(mockserver.CodeNotFound, "No route GET /x."),
		map[string]string{"big": strings.Repeat("x<", 80<<10)}, // past the pooled buffers' bound
	}
}

// TestWriteJSONWritesWhatMarshalGives checks WriteJSON's bytes against json.Marshal's for every
// shape, largest first and again, so that a pooled buffer reused by a smaller answer leaves
// nothing behind.
func TestWriteJSONWritesWhatMarshalGives(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, v any) {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		require.NoError(t, httpserver.WriteJSON(rec, http.StatusAccepted, v))
		require.Equal(t, http.StatusAccepted, rec.Code)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.Equal(t, string(want), rec.Body.String())
	}
	shapes := answerShapes()
	for range 3 {
		for i := len(shapes) - 1; i >= 0; i-- {
			check(t, shapes[i])
		}
	}
	rec := httptest.NewRecorder()
	require.Error(t, httpserver.WriteJSON(rec, http.StatusOK, []float64{math.NaN()}))
	require.Zero(t, rec.Body.Len())
	check(t, "after a failure")
}

// TestWriteJSONAppendedWritesWhatItAppends checks that an answer appendJSON encodes goes out as
// it was appended, however large, and one it leaves as json.Marshal writes it.
func TestWriteJSONAppendedWritesWhatItAppends(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{`{}`, `{"big":"` + strings.Repeat("y", 100<<10) + `"}`, `[1]`} {
		rec := httptest.NewRecorder()
		require.NoError(t, httpserver.WriteJSONAppended(rec, http.StatusCreated, "unused", func(b []byte) ([]byte, bool) {
			return append(b, answer...), true
		}))
		require.Equal(t, http.StatusCreated, rec.Code)
		require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
		require.Equal(t, answer, rec.Body.String())
	}
	rec := httptest.NewRecorder()
	require.NoError(t, httpserver.WriteJSONAppended(rec, http.StatusOK, "<left>", func(b []byte) ([]byte, bool) {
		return append(b, "ignored"...), false
	}))
	require.Equal(t, `"\u003cleft\u003e"`, rec.Body.String())
}
