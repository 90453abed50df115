package http

import (
	"encoding/json"
	"io/fs"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// plainAuthorizeBodies are bodies decodeAuthorize must take itself, so that authorizes take the
// fast path: every sample, and every field of every type in the shapes clients send.
func plainAuthorizeBodies(t testing.TB) []string {
	bodies := []string{
		`{}`,
		` {"currency":"EUR"} `,
		"{\n\t\"currency\" : \"SEK\" ,\r\n\"request_payment_transaction\":{\"amount\":0}}\n",
		`{"request_payment_transaction":{"amount":-9223372036854775808,"payment_option_id":"o","capture":"NOW","payment_transaction_reference":"r"}}`,
		`{"request_payment_transaction":{"amount":9223372036854775807}}`,
		`{"request_payment_transaction":{"amount":-0}}`,
		`{"request_customer_token":{"scopes":[],"customer_token_reference":""}}`,
		`{"request_customer_token":{"scopes":["payment:customer_present","payment:customer_not_present"]}}`,
		`{"step_up_config":{"payment_request_reference":"p","customer_interaction_config":{"method":"SDK","return_url":"https://x.example/?a=1&b=<2>","app_return_url":"app://r","interaction_expiry":{"duration":"PT15M"}}}}`,
		`{"step_up_config":{"customer_interaction_config":{"method":"HANDOVER","interaction_expiry":{"timestamp":"2026-12-01T10:00:00.123456789+01:00"}}}}`,
		`{"step_up_config":{"customer_interaction_config":{}}}`,
		`{"supplementary_purchase_data":{}}`,
		`{"supplementary_purchase_data":{"line_items":[],"shipping":[],"subscriptions":[]}}`,
		"{\"supplementary_purchase_data\":{\"purchase_reference\":\"Köp №1 — 🛒 \ufffd \u2028 <&>\"," + `"line_items":[{"name":"Åsa","quantity":2,"total_amount":20,"unit_price":10,"total_tax_amount":4,"line_item_reference":"l","subscription_reference":"s","product_url":"https://p","image_url":"https://i","product_identifier":"pi","shipping_reference":"sr"},{}]}}`,
		`{"supplementary_purchase_data":{"customer":{"email":"a@b.c","given_name":"A","family_name":"B","phone":"+46"},"shipping":[{"recipient":{"given_name":"G","family_name":"F","email":"e","phone":"p"},"address":{"street_address":"s","street_address2":"s2","postal_code":"pc","city":"c","region":"r","country":"SE"}},{"recipient":{}},{}]}}`,
		`{"supplementary_purchase_data":{"subscriptions":[{"subscription_reference":"s","name":"n","free_trial":"P1M","billing_plans":[{"billing_amount":1,"currency":"USD","from":"2026-01-01","interval":"MONTH","interval_frequency":3},{}]}],"ondemand_service":{"average_amount":1,"minimum_amount":0,"maximum_amount":5,"purchase_interval":"WEEK","purchase_interval_frequency":2}}}`,
		`{"klarna_network_data":"{}","interoperability_data":""}`,
	}
	err := fs.WalkDir(fixtures.Samples, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fixtures.Samples, path)
		bodies = append(bodies, string(b))
		return err
	})
	require.NoError(t, err)
	return bodies
}

// otherAuthorizeBodies are bodies decodeAuthorize must leave to encoding/json, because their
// meaning there is not plain (a name matched without regard to case, a repeated name merged, an
// escape, a null) or encoding/json refuses them with its own words.
var otherAuthorizeBodies = []string{
	``, ` `, `null`, `[]`, `"x"`, `{`, `{"currency":"EUR"`, `{"currency":"EUR"} x`, `{"currency":"EUR"}{}`, `{,}`, `{"currency":"EUR",}`,
	`{"Currency":"EUR"}`, `{"CURRENCY":"EUR"}`, `{"currenc\u0079":"EUR"}`, `{"unknown":1}`, `{"currency":"EUR","extra":{"a":[1,2]}}`,
	`{"currency":"EUR","currency":"SEK"}`,
	`{"request_payment_transaction":{"amount":1},"request_payment_transaction":{"capture":"NOW"}}`,
	`{"supplementary_purchase_data":{"line_items":[{"name":"a","quantity":1}],"line_items":[{"total_amount":2}]}}`,
	`{"currency":null}`, `{"request_payment_transaction":null}`, `{"supplementary_purchase_data":{"line_items":null}}`,
	`{"currency":"E\"UR"}`, `{"currency":"\u00e5"}`, `{"currency":"\ud800"}`, "{\"currency\":\"\xff\"}", "{\"currency\":\"a\x01\"}",
	`{"currency":1}`, `{"currency":true}`, `{"request_payment_transaction":{"amount":"1"}}`,
	`{"request_payment_transaction":{"amount":1.0}}`, `{"request_payment_transaction":{"amount":1e2}}`, `{"request_payment_transaction":{"amount":1E2}}`,
	`{"request_payment_transaction":{"amount":9223372036854775808}}`, `{"request_payment_transaction":{"amount":-9223372036854775809}}`,
	`{"request_payment_transaction":{"amount":99999999999999999999999}}`, `{"request_payment_transaction":{"amount":01}}`,
	`{"request_payment_transaction":{"amount":-}}`, `{"request_payment_transaction":{"amount":+1}}`, `{"request_payment_transaction":[]}`,
	`{"request_customer_token":{"scopes":[1]}}`, `{"request_customer_token":{"scopes":"a"}}`, `{"request_customer_token":{"scopes":["a",]}}`,
	`{"step_up_config":{"customer_interaction_config":{"interaction_expiry":{"timestamp":"yesterday"}}}}`,
	`{"step_up_config":{"customer_interaction_config":{"interaction_expiry":{"timestamp":"2026-12-01T10:00:00"}}}}`,
	`{"step_up_config":{"customer_interaction_config":{"interaction_expiry":{"timestamp":12}}}}`,
	`{"step_up_config":{"customer_interaction_config":null}}`,
}

// decodeBoth decodes body with decodeAuthorize and with encoding/json and fails unless
// decodeAuthorize took it with encoding/json's value or left it; it reports whether it took it.
func decodeBoth(t testing.TB, body string) bool {
	var fast, slow mockserver.AuthorizeRequest
	took := decodeAuthorize([]byte(body), &fast, new(authorizeRoom))
	err := json.Unmarshal([]byte(body), &slow)
	if took {
		require.NoError(t, err, "decodeAuthorize took a body encoding/json refuses: %s", body)
		require.Equal(t, slow, fast, body)
	}
	return took
}

func TestDecodeAuthorizeAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, body := range plainAuthorizeBodies(t) {
		require.True(t, decodeBoth(t, body), "a plain body left to encoding/json: %s", body)
	}
	for _, body := range otherAuthorizeBodies {
		require.False(t, decodeBoth(t, body), "a body taken that encoding/json should decode: %s", body)
	}
}

// TestDecodeJSONOfAnAuthorizeAsEncodingJSON checks decodeJSON, which tries decodeAuthorize
// first, against encoding/json alone: the same request, or the same Klarna error.
func TestDecodeJSONOfAnAuthorizeAsEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, body := range append(plainAuthorizeBodies(t), otherAuthorizeBodies...) {
		var got, want mockserver.AuthorizeRequest
		err := decodeJSON([]byte(body), &got)
		if body == "" {
			require.NoError(t, err)
			require.Zero(t, got)
			continue
		}
		if jerr := json.Unmarshal([]byte(body), &want); jerr != nil {
			require.Error(t, err, body)
			want := mockserver.AsError(unmarshalJSON([]byte(body), &mockserver.AuthorizeRequest{}))
			got := mockserver.AsError(err)
			want.ErrorID, got.ErrorID = "", "" // random
			require.Equal(t, want, got, body)
			continue
		}
		require.NoError(t, err, body)
		require.Equal(t, want, got, body)
	}
	// A request already holding values is decoded into as encoding/json does, merging.
	got := mockserver.AuthorizeRequest{Currency: "SEK", KlarnaNetworkData: "kept"}
	want := got
	require.NoError(t, decodeJSON([]byte(`{"currency":"EUR"}`), &got))
	require.NoError(t, json.Unmarshal([]byte(`{"currency":"EUR"}`), &want))
	require.Equal(t, want, got)
}

// FuzzDecodeAuthorize checks that whatever decodeAuthorize takes, encoding/json decodes to the
// same request.
func FuzzDecodeAuthorize(f *testing.F) {
	for _, body := range append(plainAuthorizeBodies(f), otherAuthorizeBodies...) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) { decodeBoth(t, body) })
}

// BenchmarkChargeBodyDecoding compares decoding the benchmarks' authorize body (a charge with a
// line item, a customer and a subscription) with encoding/json and with decodeAuthorize.
// Run: go test -run '^$' -bench ChargeBodyDecoding -benchmem ./mockserver/http/
func BenchmarkChargeBodyDecoding(b *testing.B) {
	body := []byte(`{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1","capture":"LATER"},"supplementary_purchase_data":{"purchase_reference":"purchase-1","line_items":[{"name":"Shoes","quantity":1,"total_amount":11800}],"customer":{"email":"jane@example.com"},"subscriptions":[{"subscription_reference":"sub-1","name":"Shoe club","billing_plans":[{"billing_amount":11800,"currency":"USD","interval":"MONTH","interval_frequency":1}]}]}}`)
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r mockserver.AuthorizeRequest
			if err := unmarshalJSON(body, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decodeAuthorize", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var r mockserver.AuthorizeRequest
			if !decodeAuthorize(body, &r, new(authorizeRoom)) {
				b.Fatal("left to encoding/json")
			}
		}
	})
}
