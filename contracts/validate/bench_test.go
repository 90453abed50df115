package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/jsonschema/v6/kind"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/parameters"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi/datamodel"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/internal/cputime"
)

// This file holds the competitor of validate.go: the same checks done with
// pb33f/libopenapi-validator, used at its cheapest (per-operation validators, schemas compiled
// once at start, the body decoded once with decodeJSON). BenchmarkAuthorizeValidation compares
// the two; TestLibrariesAgree shows they report the same parameters.

const authorizeTemplate = "/v2/accounts/{partner_account_id}/payment/authorize"

// authorizeBody is a realistic initial authorize: a purchase that also creates a customer token,
// with step-up configuration, line items, a customer, shipping and a subscription.
const authorizeBody = `{
  "currency": "EUR",
  "request_payment_transaction": {
    "amount": 11800,
    "payment_transaction_reference": "order-1001",
    "payment_option_id": "pay-over-time",
    "capture": "LATER"
  },
  "request_customer_token": {
    "scopes": ["payment:customer_not_present"],
    "customer_token_reference": "customer-42"
  },
  "step_up_config": {
    "payment_request_reference": "session-1001",
    "customer_interaction_config": {
      "method": "HANDOVER",
      "return_url": "https://partner.example/klarna/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}",
      "interaction_expiry": {"duration": "PT30M"}
    }
  },
  "supplementary_purchase_data": {
    "purchase_reference": "order-1001",
    "line_items": [
      {"name": "Running shoes", "quantity": 1, "unit_price": 9000, "total_amount": 9000, "total_tax_amount": 1800,
       "line_item_reference": "SKU-1", "product_url": "https://shop.example/p/1", "image_url": "https://shop.example/i/1.png"},
      {"name": "Socks", "quantity": 2, "unit_price": 500, "total_amount": 1000, "line_item_reference": "SKU-2"},
      {"name": "Coffee club", "quantity": 1, "total_amount": 999, "subscription_reference": "sub-1"},
      {"name": "Shipping", "quantity": 1, "total_amount": 801, "shipping_reference": "ship-1"}
    ],
    "customer": {"email": "jane.doe@example.com", "given_name": "Jane", "family_name": "Doe", "phone": "+46701234567"},
    "shipping": [
      {"shipping_reference": "ship-1",
       "recipient": {"given_name": "Jane", "family_name": "Doe", "email": "jane.doe@example.com"},
       "address": {"street_address": "Sveavägen 46", "postal_code": "11134", "city": "Stockholm", "country": "SE"}}
    ],
    "subscriptions": [
      {"subscription_reference": "sub-1", "name": "Coffee club", "free_trial": "INACTIVE",
       "billing_plans": [{"billing_amount": 999, "currency": "EUR", "interval": "MONTH", "interval_frequency": 1}]}
    ]
  }
}`

const testAccount = "krn:partner:global:account:test:ABCD1234"

func authorizeParams() map[string]string {
	return map[string]string{"partner_account_id": testAccount}
}

// newAuthorizeRequest builds an authorize request with the usual headers. Its r.Body is a
// reader that fails the test when read: Check must not read it.
func newAuthorizeRequest(tb testing.TB, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/v2/accounts/"+testAccount+"/payment/authorize", nil)
	r.Body = failingBody{tb}
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Basic a2xhcm5hX3Rlc3RfYXBpX3h5ejo=")
	r.Header.Set("Klarna-Idempotency-Key", "0f6a2b0c-ef8b-4a5e-b1a4-3c2d1e0f9a8b")
	r.Header.Set("Partner-Correlation-Id", "corr123ABC")
	r.Header.Set("Klarna-Interoperability-Token", "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl")
	r.Header.Set("Klarna-Integration-Metadata", `{"integrator":{"name":"acme-psp","module_name":"klarna","module_version":"1.0.0"},"originators":[]}`)
	return r
}

type failingBody struct{ tb testing.TB }

func (f failingBody) Read([]byte) (int, error) {
	f.tb.Errorf("r.Body was read")
	return 0, io.EOF
}

func (failingBody) Close() error { return nil }

// checker is what both implementations offer.
type checker interface {
	Check(r *http.Request, pathParams map[string]string, body []byte) []Violation
}

func BenchmarkAuthorizeValidation(b *testing.B) {
	body := []byte(authorizeBody)
	run := func(b *testing.B, op checker) {
		r := newAuthorizeRequest(b, authorizeBody)
		params := authorizeParams()
		if vs := op.Check(r, params, body); vs != nil {
			b.Fatal(vs)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := cputime.Process()
		for b.Loop() {
			if vs := op.Check(r, params, body); vs != nil {
				b.Fatal(vs)
			}
		}
		// CPU time of the whole process (garbage collection included) per operation: on a
		// busy machine ns/op also counts the time spent waiting for a CPU.
		if cpu > 0 {
			b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
		}
	}
	b.Run("libopenapi", func(b *testing.B) {
		run(b, mustLibOperation(b, http.MethodPost, authorizeTemplate))
	})
	b.Run("kin", func(b *testing.B) {
		run(b, mustOperation(b, http.MethodPost, authorizeTemplate))
	})
	// The straightforward use of each library, for comparison: openapi3filter.ValidateRequest
	// on a shallow copy of the request, and libopenapi-validator's per-path-item validators.
	b.Run("kin-ValidateRequest", func(b *testing.B) {
		run(b, mustKinFilterOperation(b, http.MethodPost, authorizeTemplate))
	})
	b.Run("libopenapi-PathItemValidators", func(b *testing.B) {
		op := mustLibOperation(b, http.MethodPost, authorizeTemplate)
		op.plain = true
		run(b, op)
	})
}

func mustOperation(tb testing.TB, method, tmpl string) *Operation {
	tb.Helper()
	v, err := New(contracts.KlarnaPayments)
	require.NoError(tb, err)
	op, err := v.Operation(method, tmpl)
	require.NoError(tb, err)
	return op
}

// ---- pb33f/libopenapi-validator ----

type libValidator struct {
	model   *v3.Document
	version float32
	options *config.ValidationOptions
	params  parameters.ParameterValidator
	full    validator.Validator
	names   map[string]any
}

type libOperation struct {
	v            *libValidator
	method       string
	template     string
	pathItem     *v3.PathItem
	hasBody      bool
	bodyRequired bool
	mediaTypes   []string
	body         *jsonschema.Schema
	plain        bool // use the library's request body validator rather than the compiled schema
}

func newLibValidator(spec []byte) (*libValidator, error) {
	doc, err := libopenapi.NewDocumentWithConfiguration(spec, &datamodel.DocumentConfiguration{
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, err
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, err
	}
	full := validator.NewValidatorFromV3Model(&m.Model,
		config.WithFormatAssertions(),
		config.WithoutSecurityValidation(),
		config.WithRegexCache(&sync.Map{}),
	)
	kv, err := New(spec) // only for the same interned names, so that decoding costs the same
	if err != nil {
		return nil, err
	}
	return &libValidator{
		model:   &m.Model,
		version: helpers.VersionToFloat(m.Model.Version),
		options: config.NewValidationOptions(config.WithFormatAssertions()),
		params:  full.GetParameterValidator(),
		full:    full,
		names:   kv.names,
	}, nil
}

func (v *libValidator) operation(method, pathTemplate string) (*libOperation, error) {
	item, ok := v.model.Paths.PathItems.Get(pathTemplate)
	if !ok || item == nil {
		return nil, fmt.Errorf("no path %q", pathTemplate)
	}
	op, ok := item.GetOperations().Get(strings.ToLower(method))
	if !ok || op == nil {
		return nil, fmt.Errorf("no operation %s %s", method, pathTemplate)
	}
	o := &libOperation{v: v, method: strings.ToUpper(method), template: pathTemplate, pathItem: item}
	if rb := op.RequestBody; rb != nil {
		o.hasBody = true
		o.bodyRequired = rb.Required != nil && *rb.Required
		for mt := rb.Content.First(); mt != nil; mt = mt.Next() {
			o.mediaTypes = append(o.mediaTypes, mt.Key())
			if isJSON(mt.Key()) && mt.Value().Schema != nil {
				c, err := schema_validation.CompileSchemaForValidation(mt.Value().Schema.Schema(),
					schema_validation.SchemaValidationPurposeRequestBody, v.options, v.version)
				if err != nil {
					return nil, err
				}
				o.body = c.CompiledSchema
			}
		}
	}
	return o, nil
}

func mustLibOperation(tb testing.TB, method, tmpl string) *libOperation {
	tb.Helper()
	v, err := newLibValidator(contracts.KlarnaPayments)
	require.NoError(tb, err)
	op, err := v.operation(method, tmpl)
	require.NoError(tb, err)
	return op
}

func (o *libOperation) Check(r *http.Request, pathParams map[string]string, body []byte) (vs []Violation) {
	defer func() {
		if p := recover(); p != nil {
			vs = append(vs, Violation{Parameter: BodyParameter, Message: fmt.Sprint(p)})
		}
	}()
	// The path parameter validator reads the values from the URL: rebuild it from pathParams.
	rc := new(http.Request)
	*rc = *r
	rc.Method = o.method
	u := *r.URL
	u.Path = expandTemplate(o.template, pathParams)
	u.RawPath = ""
	rc.URL = &u
	rc.Body = http.NoBody
	if ok, errs := o.v.params.ValidatePathParamsWithPathItem(rc, o.pathItem, o.template); !ok {
		vs = appendLibErrors(vs, errs)
	}
	if ok, errs := o.v.params.ValidateQueryParamsWithPathItem(rc, o.pathItem, o.template); !ok {
		vs = appendLibErrors(vs, errs)
	}
	if ok, errs := o.v.params.ValidateHeaderParamsWithPathItem(rc, o.pathItem, o.template); !ok {
		vs = appendLibErrors(vs, errs)
	}
	if !o.hasBody {
		return vs
	}
	if len(body) == 0 {
		if o.bodyRequired {
			vs = append(vs, Violation{Parameter: BodyParameter, Message: "a request body is required"})
		}
		return vs
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" || !mediaTypeDeclared(ct, o.mediaTypes) {
		return append(vs, Violation{Parameter: ContentTypeParameter, Message: "unsupported"})
	}
	if o.plain {
		rc.Body = io.NopCloser(bytes.NewReader(body))
		rc.ContentLength = int64(len(body))
		if ok, errs := o.v.full.GetRequestBodyValidator().ValidateRequestBodyWithPathItem(rc, o.pathItem, o.template); !ok {
			vs = appendLibErrors(vs, errs)
		}
		return vs
	}
	value, err := decodeJSON(body, o.v.names)
	if err != nil {
		return append(vs, Violation{Parameter: BodyParameter, Message: "is not valid JSON"})
	}
	if err := o.body.Validate(value); err != nil {
		var ve *jsonschema.ValidationError
		if !asValidationError(err, &ve) {
			return append(vs, Violation{Parameter: BodyParameter, Message: err.Error()})
		}
		vs = appendJSONSchemaErrors(vs, ve)
	}
	return vs
}

func asValidationError(err error, target **jsonschema.ValidationError) bool {
	ve, ok := err.(*jsonschema.ValidationError)
	if ok {
		*target = ve
	}
	return ok
}

// expandTemplate fills a path template with the path parameters.
func expandTemplate(tmpl string, params map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(tmpl, '{')
		j := strings.IndexByte(tmpl, '}')
		if i < 0 || j < i {
			b.WriteString(tmpl)
			return b.String()
		}
		b.WriteString(tmpl[:i])
		b.WriteString(params[tmpl[i+1:j]])
		tmpl = tmpl[j+1:]
	}
}

func appendLibErrors(vs []Violation, errs []*liberrors.ValidationError) []Violation {
	for _, e := range errs {
		switch {
		case e == nil:
		case e.ParameterName != "":
			vs = append(vs, Violation{Parameter: e.ParameterName, Message: e.Reason})
		default:
			var last *jsonschema.ValidationError
			for _, f := range e.SchemaValidationErrors {
				if f.OriginalJsonSchemaError != nil && f.OriginalJsonSchemaError != last {
					last = f.OriginalJsonSchemaError
					vs = appendJSONSchemaErrors(vs, last)
				}
			}
			if last == nil {
				vs = append(vs, Violation{Parameter: BodyParameter, Message: e.Message})
			}
		}
	}
	return vs
}

var printer = message.NewPrinter(language.English)

// appendJSONSchemaErrors turns the leaves of a JSON Schema error tree into violations.
func appendJSONSchemaErrors(vs []Violation, e *jsonschema.ValidationError) []Violation {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			vs = appendJSONSchemaErrors(vs, c)
		}
		return vs
	}
	path := pointerPath(e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			vs = append(vs, Violation{Parameter: joinPath(path, m), Message: "is required"})
		}
		return vs
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			vs = append(vs, Violation{Parameter: joinPath(path, p), Message: "is not allowed"})
		}
		return vs
	}
	if path == "" {
		path = BodyParameter
	}
	return append(vs, Violation{Parameter: path, Message: e.ErrorKind.LocalizedString(printer)})
}

// pointerPath renders instance location segments as a dotted path with indexes; a segment of
// digits only is an index (the documents name no property by digits).
func pointerPath(segs []string) string {
	var b strings.Builder
	for _, s := range segs {
		if s != "" && strings.Trim(s, "0123456789") == "" {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// ---- kin-openapi, used the straightforward way ----

// kinFilterOperation validates with openapi3filter.ValidateRequest, giving it the body on a
// shallow copy of the request. It is kept for the benchmark and as a third opinion in the tests.
type kinFilterOperation struct {
	op   *Operation
	opts *openapi3filter.Options
}

func mustKinFilterOperation(tb testing.TB, method, tmpl string) *kinFilterOperation {
	op := mustOperation(tb, method, tmpl)
	route := *op.route
	noSecurity := *route.Operation
	noSecurity.Security = &openapi3.SecurityRequirements{} // authentication is not validation
	route.Operation = &noSecurity
	op.route = &route
	opts := *op.v.fullParamOpts
	return &kinFilterOperation{op: op, opts: &opts}
}

func (k *kinFilterOperation) Check(r *http.Request, pathParams map[string]string, body []byte) []Violation {
	rc := new(http.Request)
	*rc = *r
	rc.Body = io.NopCloser(bytes.NewReader(body))
	rc.ContentLength = int64(len(body))
	rc.GetBody = nil
	err := openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
		Request:    rc,
		PathParams: pathParams,
		Route:      k.op.route,
		Options:    k.opts,
	})
	if err == nil {
		return nil
	}
	var vs []Violation
	value, _ := decodeJSON(body, nil)
	var me openapi3.MultiError
	if !errors.As(err, &me) {
		me = openapi3.MultiError{err}
	}
	for _, e := range me {
		var re *openapi3filter.RequestError
		switch {
		case errors.As(e, &re) && re.Parameter != nil:
			vs = appendParamViolations(vs, re.Parameter.Name, re)
		case errors.As(e, &re) && re.RequestBody != nil && strings.Contains(re.Error(), "Content-Type"):
			vs = append(vs, Violation{Parameter: ContentTypeParameter, Message: re.Error()})
		case errors.As(e, &re) && re.RequestBody != nil:
			vs = appendSchemaViolations(vs, re.Err, value)
		default:
			vs = append(vs, Violation{Parameter: BodyParameter, Message: e.Error()})
		}
	}
	return vs
}

// BenchmarkCompile times compiling each contract document the way the mock does at its first
// use (NewTrusted): whole, and cut down to what checking a request needs, which is what the mock
// compiles (contracts.RequestDocument).
func BenchmarkCompile(b *testing.B) {
	for _, name := range contracts.Documents() {
		whole, err := contracts.Files.ReadFile(name)
		require.NoError(b, err)
		cut, err := contracts.RequestDocument(name)
		require.NoError(b, err)
		for _, doc := range []struct {
			form string
			spec []byte
		}{{"whole", whole}, {"requests", cut}} {
			b.Run(name+"/"+doc.form, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := NewTrusted(doc.spec); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
