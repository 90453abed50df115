package http

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// oddStrings are strings encoding/json escapes in every way it has.
var oddStrings = []string{"", "plain", `"quoted" \back\slash/`, "<b>&amp;</b>", "\x00\x01\b\f\n\r\t\x1f\x7f", "Åsa Köp №1 — 🛒",
	"\u2028\u2029", "\xff\xfe broken \xc3", "\xef\xbf\xbd", "a\xe2\x80", "\xed\xa0\x80 surrogate"}

// approvedAnswer is an approved authorize's answer with s in every string and n in every
// number the transaction keeps, at at.
func approvedAnswer(s string, n int64, at time.Time, spd bool) *mockserver.AuthorizeResponse {
	tr := &mockserver.PaymentTransaction{
		AccountID: s, PaymentTransactionID: mockserver.PrefixPaymentTransaction + s, PaymentTransactionReference: s,
		Amount: n, Currency: s, State: s, PaymentFunding: mockserver.PaymentFunding{Type: s, State: s},
		CreatedAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour), UpdatedAt: at, NetworkSessionToken: s, CustomerToken: s,
	}
	if spd {
		tr.SupplementaryPurchaseData = &mockserver.SupplementaryPurchaseData{
			PurchaseReference: s,
			LineItems: []mockserver.LineItem{{Name: s, Quantity: n, TotalAmount: n, UnitPrice: n, TotalTaxAmount: n, LineItemReference: s,
				SubscriptionReference: s, ProductURL: s, ImageURL: s, ProductIdentifier: s, ShippingReference: s}, {}},
			Customer: &mockserver.Customer{Email: s, GivenName: s, FamilyName: s, Phone: s},
			Shipping: []mockserver.Shipping{{Recipient: &mockserver.Recipient{GivenName: s, FamilyName: s, Email: s, Phone: s},
				Address: &mockserver.Address{StreetAddress: s, StreetAddress2: s, PostalCode: s, City: s, Region: s, Country: s}},
				{Recipient: &mockserver.Recipient{}}, {Address: &mockserver.Address{}}, {}},
		}
	}
	return &mockserver.AuthorizeResponse{Rule: s, PaymentTransactionResponse: &mockserver.PaymentTransactionResponse{Result: s, ResultReason: s, PaymentTransaction: tr}}
}

// appendBoth encodes resp with appendApproved and json.Marshal and fails unless appendApproved
// wrote json.Marshal's bytes or left the answer; it reports whether it wrote it.
func appendBoth(t testing.TB, resp *mockserver.AuthorizeResponse) bool {
	want, err := json.Marshal(resp)
	got, ok := appendApproved([]byte("kept"), resp)
	if ok {
		require.NoError(t, err)
		require.Equal(t, "kept"+string(want), string(got))
	}
	return ok
}

func TestAppendApprovedAsMarshal(t *testing.T) {
	t.Parallel()
	times := []time.Time{
		time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 13, 0, 0, 123456789, time.UTC),
		time.Date(2026, 12, 1, 13, 0, 0, 120000000, time.FixedZone("", -(3*3600+30*60))), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), {},
		time.Date(9999, 11, 1, 23, 59, 59, 999999999, time.FixedZone("CET", 3600)), time.Date(2026, 3, 29, 2, 30, 0, 0, time.Local),
		time.Date(2026, 1, 1, 0, 0, 0, 1, time.FixedZone("", 23*3600+59*60)),
	}
	for _, s := range oddStrings {
		for _, n := range []int64{0, 1, -1, 11800, 1<<63 - 1, -1 << 63} {
			for _, at := range times {
				for _, spd := range []bool{false, true} {
					require.True(t, appendBoth(t, approvedAnswer(s, n, at, spd)), "%q %d %v %v", s, n, at, spd)
				}
			}
		}
	}
	// A part left out when empty, and one present but empty, are as json.Marshal writes them.
	resp := approvedAnswer("x", 1, times[0], true)
	spd := resp.PaymentTransactionResponse.PaymentTransaction.SupplementaryPurchaseData
	spd.LineItems, spd.Shipping, spd.Customer = []mockserver.LineItem{}, nil, nil
	require.True(t, appendBoth(t, resp))
	resp.PaymentTransactionResponse.PaymentTransaction.SupplementaryPurchaseData = &mockserver.SupplementaryPurchaseData{}
	require.True(t, appendBoth(t, resp))

	// What it leaves to encoding/json.
	for name, change := range map[string]func(*mockserver.AuthorizeResponse){
		"no transaction part": func(r *mockserver.AuthorizeResponse) { r.PaymentTransactionResponse = nil },
		"no transaction":      func(r *mockserver.AuthorizeResponse) { r.PaymentTransactionResponse.PaymentTransaction = nil },
		"a payment request":   func(r *mockserver.AuthorizeResponse) { r.PaymentRequest = &mockserver.PaymentRequest{} },
		"a customer token": func(r *mockserver.AuthorizeResponse) {
			r.CustomerTokenResponse = &mockserver.CustomerTokenResponse{Result: mockserver.ResultApproved}
		},
		"captures": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.PaymentCaptures = []mockserver.PaymentCapture{{CapturedAmount: 1}}
		},
		"refunds": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.PaymentRefunds = []mockserver.PaymentRefund{{}}
		},
		"subscriptions": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.SupplementaryPurchaseData.Subscriptions = []mockserver.Subscription{{}}
		},
		"on-demand service": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.SupplementaryPurchaseData.OndemandService = &mockserver.OndemandService{}
		},
		"a year past 9999": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.ExpiresAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		},
		"a year before 0": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.CreatedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
		},
		"a zone 24 hours off": func(r *mockserver.AuthorizeResponse) {
			r.PaymentTransactionResponse.PaymentTransaction.CreatedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("", 24*3600))
		},
	} {
		resp := approvedAnswer("x", 1, times[0], true)
		change(resp)
		require.False(t, appendBoth(t, resp), name)
	}
}

// FuzzAppendApproved checks appendApproved against json.Marshal for any string, number and time.
func FuzzAppendApproved(f *testing.F) {
	for i, s := range oddStrings {
		f.Add(s, int64(i)*4099, int64(i)*1e17, int32(i)*3600, true)
	}
	f.Fuzz(func(t *testing.T, s string, n, unixNano int64, offset int32, spd bool) {
		at := time.Unix(0, unixNano).In(time.FixedZone("", int(offset%(30*3600))))
		appendBoth(t, approvedAnswer(s, n, at, spd))
	})
}

// BenchmarkApprovedAnswer compares encoding an approved authorize's answer (line items, a
// customer, a shipment) by reflection with appendApproved, both through the pooled buffer.
// Run: go test -run '^$' -bench ApprovedAnswer -benchmem ./mockserver/http/
func BenchmarkApprovedAnswer(b *testing.B) {
	resp := approvedAnswer("order-1", 11800, time.Date(2026, 12, 1, 13, 0, 0, 0, time.UTC), true)
	w := discardWriter{h: http.Header{}}
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = httpserver.WriteJSON(w, http.StatusOK, resp)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = writeJSON(w, http.StatusOK, resp)
		}
	})
}

// discardWriter is a ResponseWriter that keeps nothing but its header.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header       { return d.h }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
