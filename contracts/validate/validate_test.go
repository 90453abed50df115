package validate

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
)

const (
	requestTemplate      = "/v2/accounts/{partner_account_id}/payment/requests/{payment_request_id}"
	transactionTemplate  = "/v2/accounts/{partner_account_id}/payment/transactions/{payment_transaction_id}"
	presentationTemplate = "/v2/accounts/{partner_account_id}/payment/presentation"
	testTokensTemplate   = "/v2/accounts/{partner_account_id}/interoperability/test-tokens"
	testRequestID        = "krn:payment:eu1:request:9d1c0a8e-2b5f-4f0e-8a7c-6b5d4e3f2a10"
)

// tcase is one request to check.
type tcase struct {
	name     string
	method   string
	template string
	path     string            // request path (and query)
	params   map[string]string // path parameters; nil means the account only
	header   map[string]string // set on top of the defaults; "" deletes
	body     string            // used as is unless edit is set
	edit     func(map[string]any)
	noBody   bool
	want     []string // the violations' parameters, in any order; nil means valid
}

func (c tcase) request(tb testing.TB) (*http.Request, map[string]string, []byte) {
	tb.Helper()
	method, template, path := c.method, c.template, c.path
	if method == "" {
		method, template = http.MethodPost, authorizeTemplate
	}
	if path == "" {
		path = expandTemplate(template, map[string]string{"partner_account_id": testAccount, "payment_request_id": testRequestID})
	}
	var body []byte
	if !c.noBody {
		src := c.body
		if src == "" && method == http.MethodPost && template == authorizeTemplate {
			src = authorizeBody
		}
		if c.edit != nil {
			var m map[string]any
			require.NoError(tb, json.Unmarshal([]byte(src), &m))
			c.edit(m)
			b, err := json.Marshal(m)
			require.NoError(tb, err)
			src = string(b)
		}
		if src != "" {
			body = []byte(src)
		}
	}
	r := newAuthorizeRequest(tb, string(body))
	r.Method = method
	r.URL.Path, r.URL.RawQuery, _ = strings.Cut(path, "?")
	r.RequestURI = path
	for k, v := range c.header {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
	params := c.params
	if params == nil {
		params = map[string]string{"partner_account_id": testAccount}
		if strings.Contains(template, "{payment_request_id}") {
			params["payment_request_id"] = testRequestID
		}
		if strings.Contains(template, "{payment_transaction_id}") {
			params["payment_transaction_id"] = "krn:payment:eu1:transaction:6f0c2f7e-3a43-4a0e-9a7b-1a2b3c4d5e6f"
		}
	}
	return r, params, body
}

func (c tcase) op() (string, string) {
	if c.method == "" {
		return http.MethodPost, authorizeTemplate
	}
	return c.method, c.template
}

// at returns the object at a dotted path in m, creating objects on the way.
func at(m map[string]any, path string) map[string]any {
	for _, k := range strings.Split(path, ".") {
		if k == "" {
			continue
		}
		if strings.HasSuffix(k, "]") {
			name, idx, _ := strings.Cut(strings.TrimSuffix(k, "]"), "[")
			i := 0
			for _, c := range idx {
				i = i*10 + int(c-'0')
			}
			m = m[name].([]any)[i].(map[string]any)
			continue
		}
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m
}

func set(path, key string, v any) func(map[string]any) {
	return func(m map[string]any) { at(m, path)[key] = v }
}

func del(path, key string) func(map[string]any) {
	return func(m map[string]any) { delete(at(m, path), key) }
}

var validCases = []tcase{
	{name: "authorize: purchase with token, step-up, line items, customer"},
	{name: "authorize: final", body: `{"currency":"USD","request_payment_transaction":{"amount":11800,"payment_transaction_reference":"order-1001"}}`,
		header: map[string]string{"Klarna-Network-Session-Token": "krn:payment:eu1:klarna-network-session-token:8e7d6c5b-4a39-4281-9f0e-d1c2b3a49586"}},
	{name: "authorize: token only", body: `{"currency":"sek","request_customer_token":{"scopes":["payment:customer_present"]},"step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`},
	{name: "authorize: amount at the maximum", edit: set("request_payment_transaction", "amount", 2147483647)},
	{name: "authorize: expiry timestamp", edit: set("step_up_config.customer_interaction_config", "interaction_expiry", map[string]any{"timestamp": "2026-01-04T12:00:00+01:00"})},
	// Fields of Klarna's supplementary purchase data the Klarna Web SDK v2/r6 reference names
	// (LineItem, Customer, Shipping, ShippingRecipient).
	{name: "authorize: line item currency", edit: func(m map[string]any) {
		at(m, "supplementary_purchase_data.line_items[0]")["currency"] = "USD"
	}},
	{name: "authorize: customer address", edit: set("supplementary_purchase_data.customer", "address", map[string]any{"street_address": "Sveavägen 46", "city": "Stockholm", "country": "SE"})},
	{name: "authorize: shipping option and recipient attention", edit: func(m map[string]any) {
		at(m, "supplementary_purchase_data")["shipping"] = []any{map[string]any{
			"recipient":       map[string]any{"given_name": "Jane", "family_name": "Doe", "attention": "Reception"},
			"address":         map[string]any{"country": "SE"},
			"shipping_option": map[string]any{"shipping_type": "PICKUP_POINT", "shipping_carrier": "PostNord", "shipping_type_attributes": []any{"TRACKED"}},
		}}
	}},
	{name: "authorize: charset in Content-Type", header: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
	{name: "authorize: minimal headers", header: map[string]string{"Klarna-Idempotency-Key": "", "Partner-Correlation-Id": "", "Klarna-Interoperability-Token": "", "Klarna-Integration-Metadata": ""}},
	{name: "read payment request", method: http.MethodGet, template: requestTemplate, noBody: true},
	{name: "cancel payment request", method: http.MethodDelete, template: requestTemplate, noBody: true},
	{name: "read payment transaction", method: http.MethodGet, template: transactionTemplate, noBody: true},
	{name: "presentation", method: http.MethodGet, template: presentationTemplate, noBody: true,
		path: "/v2/accounts/" + testAccount + "/payment/presentation?currency=USD&locale=en-US&amount=11836&intents[]=PAY&intents[]=SUBSCRIBE"},
	{name: "presentation: currency only", method: http.MethodGet, template: presentationTemplate, noBody: true,
		path: "/v2/accounts/" + testAccount + "/payment/presentation?currency=EUR"},
	{name: "test token: no body", method: http.MethodPost, template: testTokensTemplate, noBody: true},
	{name: "test token: body", method: http.MethodPost, template: testTokensTemplate, body: `{"email":"jane+denied@example.com","consent":false,"scopes":["payment:customer_not_present"]}`},
}

var invalidCases = []tcase{
	{name: "wrong type", edit: set("request_payment_transaction", "amount", "11800"), want: []string{"request_payment_transaction.amount"}},
	{name: "fraction for an integer", edit: set("request_payment_transaction", "amount", 118.5), want: []string{"request_payment_transaction.amount"}},
	{name: "missing currency", edit: del("", "currency"), want: []string{"currency"}},
	{name: "missing amount", edit: del("request_payment_transaction", "amount"), want: []string{"request_payment_transaction.amount"}},
	{name: "missing line item quantity",
		edit: func(m map[string]any) { delete(at(m, "supplementary_purchase_data.line_items[0]"), "quantity") },
		want: []string{"supplementary_purchase_data.line_items[0].quantity"}},
	{name: "line item quantity 0",
		edit: func(m map[string]any) { at(m, "supplementary_purchase_data.line_items[1]")["quantity"] = 0 },
		want: []string{"supplementary_purchase_data.line_items[1].quantity"}},
	{name: "bad enum", edit: set("request_payment_transaction", "capture", "SOON"), want: []string{"request_payment_transaction.capture"}},
	{name: "bad scope", edit: set("request_customer_token", "scopes", []any{"payment:everything"}), want: []string{"request_customer_token.scopes[0]"}},
	{name: "no scopes", edit: set("request_customer_token", "scopes", []any{}), want: []string{"request_customer_token.scopes"}},
	{name: "bad billing interval", edit: func(m map[string]any) {
		at(m, "supplementary_purchase_data.subscriptions[0].billing_plans[0]")["interval"] = "FORTNIGHT"
	}, want: []string{"supplementary_purchase_data.subscriptions[0].billing_plans[0].interval"}},
	{name: "bad currency pattern", edit: set("", "currency", "EU1"), want: []string{"currency"}},
	{name: "bad Partner-Correlation-Id pattern", header: map[string]string{"Partner-Correlation-Id": "abc-123"}, want: []string{"Partner-Correlation-Id"}},
	{name: "too long Partner-Correlation-Id", header: map[string]string{"Partner-Correlation-Id": strings.Repeat("a", 256)}, want: []string{"Partner-Correlation-Id"}},
	{name: "too long idempotency key", header: map[string]string{"Klarna-Idempotency-Key": strings.Repeat("k", 256)}, want: []string{"Klarna-Idempotency-Key"}},
	{name: "too long interoperability token", header: map[string]string{"Klarna-Interoperability-Token": strings.Repeat("t", 8193)}, want: []string{"Klarna-Interoperability-Token"}},
	{name: "additional property", edit: set("request_payment_transaction", "amout", 1), want: []string{"request_payment_transaction.amout"}},
	{name: "additional top-level property", edit: set("", "purchase_currency", "EUR"), want: []string{"purchase_currency"}},
	{name: "additional property in a line item", edit: func(m map[string]any) {
		at(m, "supplementary_purchase_data.line_items[3]")["unit_prize"] = 1
	}, want: []string{"supplementary_purchase_data.line_items[3].unit_prize"}},
	{name: "bad email", edit: set("supplementary_purchase_data.customer", "email", "jane.doe"), want: []string{"supplementary_purchase_data.customer.email"}},
	{name: "customer property Klarna does not document", edit: set("supplementary_purchase_data.customer", "date_of_birth", "1980-01-01"),
		want: []string{"supplementary_purchase_data.customer.date_of_birth"}},
	{name: "bad date-time", edit: set("step_up_config.customer_interaction_config", "interaction_expiry", map[string]any{"timestamp": "tomorrow"}),
		want: []string{"step_up_config.customer_interaction_config.interaction_expiry.timestamp"}},
	{name: "bad duration", edit: set("step_up_config.customer_interaction_config", "interaction_expiry", map[string]any{"duration": "30 minutes"}),
		want: []string{"step_up_config.customer_interaction_config.interaction_expiry.duration"}},
	{name: "duration and timestamp", edit: set("step_up_config.customer_interaction_config", "interaction_expiry", map[string]any{"duration": "PT30M", "timestamp": "2026-01-04T12:00:00Z"}),
		want: []string{"step_up_config.customer_interaction_config.interaction_expiry"}},
	{name: "bad uri", edit: set("step_up_config.customer_interaction_config", "return_url", "partner.example/return"),
		want: []string{"step_up_config.customer_interaction_config.return_url"}},
	{name: "amount 0", edit: set("request_payment_transaction", "amount", 0), want: []string{"request_payment_transaction.amount"}},
	{name: "amount 2147483648", edit: set("request_payment_transaction", "amount", 2147483648), want: []string{"request_payment_transaction.amount"}},
	{name: "two violations", edit: func(m map[string]any) {
		at(m, "request_payment_transaction")["amount"] = -1
		at(m, "step_up_config.customer_interaction_config")["method"] = "POPUP"
	}, want: []string{"request_payment_transaction.amount", "step_up_config.customer_interaction_config.method"}},
	{name: "malformed JSON", body: `{"currency": "USD",`, want: []string{BodyParameter}},
	{name: "not an object", body: `["USD"]`, want: []string{BodyParameter}},
	{name: "missing body", noBody: true, want: []string{BodyParameter}},
	{name: "no Content-Type", header: map[string]string{"Content-Type": ""}, want: []string{ContentTypeParameter}},
	{name: "wrong Content-Type", header: map[string]string{"Content-Type": "text/plain"}, want: []string{ContentTypeParameter}},
	{name: "empty path parameter", params: map[string]string{"partner_account_id": ""}, want: []string{"partner_account_id"}},
	{name: "missing path parameter", params: map[string]string{}, want: []string{"partner_account_id"}},
	{name: "presentation: no currency", method: http.MethodGet, template: presentationTemplate, noBody: true,
		path: "/v2/accounts/" + testAccount + "/payment/presentation?amount=100", want: []string{"currency"}},
	{name: "presentation: amount not a number", method: http.MethodGet, template: presentationTemplate, noBody: true,
		path: "/v2/accounts/" + testAccount + "/payment/presentation?currency=USD&amount=lots", want: []string{"amount"}},
	{name: "presentation: bad intent", method: http.MethodGet, template: presentationTemplate, noBody: true,
		path: "/v2/accounts/" + testAccount + "/payment/presentation?currency=USD&intents[]=STEAL", want: []string{"intents[]"}},
	{name: "presentation: bad locale", method: http.MethodGet, template: presentationTemplate, noBody: true,
		path: "/v2/accounts/" + testAccount + "/payment/presentation?currency=USD&locale=en_US!", want: []string{"locale"}},
	{name: "test token: bad email", method: http.MethodPost, template: testTokensTemplate, body: `{"email":"nobody"}`, want: []string{"email"}},
	{name: "test token: consent not boolean", method: http.MethodPost, template: testTokensTemplate, body: `{"consent":"yes"}`, want: []string{"consent"}},
}

func parametersOf(vs []Violation) []string {
	var ps []string
	for _, v := range vs {
		ps = append(ps, v.Parameter)
	}
	slices.Sort(ps)
	return slices.Compact(ps)
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// operations compiles every operation of the cases once per implementation.
type operations struct {
	mu  sync.Mutex
	ops map[string]checker
	new func(tb testing.TB, method, tmpl string) checker
}

func (o *operations) get(tb testing.TB, c tcase) checker {
	method, tmpl := c.op()
	o.mu.Lock()
	defer o.mu.Unlock()
	if op, ok := o.ops[method+tmpl]; ok {
		return op
	}
	op := o.new(tb, method, tmpl)
	o.ops[method+tmpl] = op
	return op
}

func newOperations(f func(tb testing.TB, method, tmpl string) checker) *operations {
	return &operations{ops: map[string]checker{}, new: f}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	v, err := New(contracts.KlarnaPayments)
	require.NoError(t, err)
	ops := newOperations(func(tb testing.TB, method, tmpl string) checker {
		op, err := v.Operation(method, tmpl)
		require.NoError(tb, err)
		return op
	})
	for _, c := range append(slices.Clone(validCases), invalidCases...) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r, params, body := c.request(t)
			before := r.Header.Clone()
			vs := ops.get(t, c).Check(r, params, body)
			if c.want == nil {
				require.Nil(t, vs)
			} else {
				require.Equal(t, sorted(c.want), parametersOf(vs), "%+v", vs)
				for _, v := range vs {
					require.NotEmpty(t, v.Message, "%+v", v)
				}
			}
			require.Equal(t, before, r.Header, "Check must not modify the request")
		})
	}
}

// TestLibrariesAgree runs every case through the implementation (kin-openapi, used directly),
// the libopenapi-validator competitor and kin-openapi's openapi3filter.ValidateRequest, and
// requires the same parameters from all three.
func TestLibrariesAgree(t *testing.T) {
	t.Parallel()
	impls := map[string]*operations{
		"kin": newOperations(func(tb testing.TB, method, tmpl string) checker { return mustOperation(tb, method, tmpl) }),
		"libopenapi": newOperations(func(tb testing.TB, method, tmpl string) checker {
			return mustLibOperation(tb, method, tmpl)
		}),
		"kin-ValidateRequest": newOperations(func(tb testing.TB, method, tmpl string) checker {
			return mustKinFilterOperation(tb, method, tmpl)
		}),
	}
	for _, c := range append(slices.Clone(validCases), invalidCases...) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := map[string][]string{}
			for name, ops := range impls {
				r, params, body := c.request(t)
				got[name] = parametersOf(ops.get(t, c).Check(r, params, body))
			}
			want := got["kin"]
			for name, ps := range got {
				require.Equal(t, want, ps, "%s disagrees with kin", name)
			}
		})
	}
}

func TestOperation(t *testing.T) {
	t.Parallel()
	v, err := New(contracts.KlarnaPayments)
	require.NoError(t, err)
	for _, tc := range []struct{ method, tmpl string }{
		{"POST", authorizeTemplate},
		{"post", authorizeTemplate},
		{"GET", requestTemplate},
		{"DELETE", requestTemplate},
		{"GET", transactionTemplate},
		{"GET", presentationTemplate},
		{"POST", testTokensTemplate},
		{"POST", "/v2/payment/authorize"},
	} {
		op, err := v.Operation(tc.method, tc.tmpl)
		require.NoError(t, err, "%s %s", tc.method, tc.tmpl)
		require.NotNil(t, op)
	}
	for _, tc := range []struct{ method, tmpl string }{
		{"GET", authorizeTemplate},
		{"POST", "/v2/payment/capture"},
		{"POST", "/v2/accounts/{id}/payment/authorize"},
		{"GET", "/openapi.yaml"},
	} {
		_, err := v.Operation(tc.method, tc.tmpl)
		require.Error(t, err, "%s %s", tc.method, tc.tmpl)
	}
}

func TestNewRejectsBadDocuments(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"empty":    "",
		"not yaml": "{{{",
		"dangling reference": strings.Replace(string(contracts.KlarnaPayments),
			"'#/components/schemas/RequestPaymentTransaction'", "'#/components/schemas/Nope'", 1),
		"no version": strings.Replace(string(contracts.KlarnaPayments), "  version: \"2.0.0-mock\"\n", "", 1),
	} {
		_, err := New([]byte(doc))
		require.Error(t, err, name)
	}
}

// TestCheckNeverPanics throws random and mangled bodies, headers and parameters at every
// operation.
func TestCheckNeverPanics(t *testing.T) {
	t.Parallel()
	v, err := New(contracts.KlarnaPayments)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	templates := []struct{ method, tmpl string }{
		{"POST", authorizeTemplate}, {"GET", requestTemplate}, {"DELETE", requestTemplate},
		{"GET", transactionTemplate}, {"GET", presentationTemplate}, {"POST", testTokensTemplate},
	}
	seeds := []string{authorizeBody, `{"currency":"USD"}`, `{"email":"a@b"}`, `[]`, `null`, `"x"`, `1e999`, ``}
	for i := 0; i < 3000; i++ {
		tt := templates[rng.IntN(len(templates))]
		op, err := v.Operation(tt.method, tt.tmpl)
		require.NoError(t, err)
		var body []byte
		switch rng.IntN(3) {
		case 0: // random bytes
			body = make([]byte, rng.IntN(64))
			for j := range body {
				body[j] = byte(rng.IntN(256))
			}
		case 1: // a seed with a few bytes flipped, cut or doubled
			body = []byte(seeds[rng.IntN(len(seeds))])
			for j := 0; j < 1+rng.IntN(4) && len(body) > 0; j++ {
				k := rng.IntN(len(body))
				switch rng.IntN(3) {
				case 0:
					body[k] = byte(rng.IntN(256))
				case 1:
					body = body[:k]
				default:
					body = append(body[:k:k], append([]byte(`{"a":[[[`), body[k:]...)...)
				}
			}
		default: // deeply nested
			body = []byte(strings.Repeat("[", rng.IntN(20000)))
		}
		r := httptest.NewRequest(tt.method, "/x?currency=%ZZ&amount=1e400&intents[]=&locale="+string(rune(rng.IntN(0x10000))), nil)
		r.Header.Set("Content-Type", []string{"application/json", "", "text/plain", "application/json;;;"}[rng.IntN(4)])
		r.Header.Set("Partner-Correlation-Id", string(body[:min(len(body), 10)]))
		r.Header["Klarna-Idempotency-Key"] = []string{""}
		params := map[string]string{"partner_account_id": string(body[:min(len(body), 3)])}
		if rng.IntN(5) == 0 {
			params = nil
		}
		require.NotPanics(t, func() { op.Check(r, params, body) })
	}
	require.NotPanics(t, func() {
		op, _ := v.Operation("POST", authorizeTemplate)
		op.Check(nil, nil, nil)
		op.Check(&http.Request{}, nil, []byte("{}"))
	})
}

func FuzzCheck(f *testing.F) {
	v, err := New(contracts.KlarnaPayments)
	require.NoError(f, err)
	op, err := v.Operation("POST", authorizeTemplate)
	require.NoError(f, err)
	for _, c := range append(slices.Clone(validCases), invalidCases...) {
		f.Add(c.body)
	}
	f.Add(authorizeBody)
	f.Fuzz(func(t *testing.T, body string) {
		r, params, _ := tcase{}.request(t)
		op.Check(r, params, []byte(body))
	})
}

// FuzzDecodeJSON checks that decodeJSON and encoding/json agree on every input.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		authorizeBody, `{}`, `[]`, `""`, `0`, `-0`, `1.5e3`, `1E+2`, `01`, `1.`, `.5`, `-`, `1e400`, `-1e400`,
		`"\u00e9\ud83d\ude00"`, `"\ud800"`, `"\x"`, "\"\xff\"", "\"a\tb\"", `{"a":1,"a":2}`, `[1,]`, `{"a" 1}`,
		`true`, `tru`, `nul`, `{"a":[1,2,{"b":null}]} `, ` 7 8`, `{"a":"b\"c"}`, `"\/\b\f\n\r\t"`, `255`, `256`, `007`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want any
		wantErr := json.Unmarshal(data, &want)
		got, gotErr := decodeJSON(data, map[string]any{"a": "a", "currency": "currency"})
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json error %v, decodeJSON error %v", data, wantErr, gotErr)
		}
		if wantErr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%q: encoding/json %#v, decodeJSON %#v", data, want, got)
		}
	})
}

// TestConcurrentChecks runs one operation from many goroutines (meaningful with -race).
func TestConcurrentChecks(t *testing.T) {
	t.Parallel()
	op := mustOperation(t, http.MethodPost, authorizeTemplate)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Go(func() {
			for j := 0; j < 20; j++ {
				c := invalidCases[(i+j)%len(invalidCases)]
				if c.method != "" {
					c = validCases[0]
				}
				r, params, body := c.request(t)
				vs := op.Check(r, params, body)
				if c.want == nil {
					require.Nil(t, vs)
				} else {
					require.Equal(t, sorted(c.want), parametersOf(vs))
				}
			}
		})
	}
	wg.Wait()
}

// TestEveryDocumentCompiles compiles every operation of every document in contracts/, after
// checking each is a valid document: what lets the mock compile them with NewTrusted.
func TestEveryDocumentCompiles(t *testing.T) {
	t.Parallel()
	for _, name := range contracts.Documents() {
		spec, err := contracts.Files.ReadFile(name)
		require.NoError(t, err)
		v, err := New(spec)
		require.NoError(t, err, name)
		_, err = NewTrusted(spec)
		require.NoError(t, err, name)
		n := 0
		for path, item := range v.doc.Paths.Map() {
			for method := range item.Operations() {
				_, err := v.Operation(method, path)
				require.NoError(t, err, "%s: %s %s", name, method, path)
				n++
			}
		}
		require.NotZero(t, n, name)
	}
}
