// Package validate checks incoming requests against the OpenAPI documents in contracts/ at run
// time, with kin-openapi.
//
// The document is loaded and compiled once (New) and each operation's parameters and body
// schema are looked up once (Validator.Operation); Operation.Check then only validates, driven
// by the document. A valid body, the common case, is checked as it is read against the body
// schema compiled into a tree of its own (compiled.go), without decoding it; any other is decoded
// once (decodeJSON, a strict JSON decoder that yields the same values as encoding/json about
// three times faster), checked again by the compiled tree and, failing that, by kin-openapi's
// validator, which also describes what is wrong. Plain string headers and path parameters are
// checked against their schemas directly, the same way; any other parameter goes to
// openapi3filter.ValidateParameter.
//
// kin-openapi was measured against pb33f/libopenapi-validator (BenchmarkAuthorizeValidation in
// bench_test.go) and is the faster of the two; the competitor lives in the tests, which show
// that both report the same parameters. Responses are checked with the other library, in
// contracts/contracttest.
package validate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// BodyParameter is the Parameter of a Violation about the body as a whole: missing although
// required, not JSON, or not an object.
const BodyParameter = "body"

// ContentTypeParameter is the Parameter of a Violation about the request's media type (missing
// or not declared by the operation); the HTTP layer may answer it with 415.
const ContentTypeParameter = "Content-Type"

// Violation is one reason a request does not match its contract.
type Violation struct {
	// Parameter names the field the way Klarna does: body fields as a dotted path with
	// indexes (supplementary_purchase_data.line_items[0].quantity), headers and query
	// parameters by their name as written in the document (Partner-Correlation-Id, currency).
	Parameter string
	// Message says what is wrong, without echoing the value.
	Message string
	// Undocumented marks a body property the document does not describe (an object schema with
	// additionalProperties: false), the one violation a caller may choose to accept with a
	// warning rather than refuse: a field the document leaves out may still be one the real API
	// takes.
	Undocumented bool
}

// Validator holds one compiled document. It is safe for concurrent use.
type Validator struct {
	doc *openapi3.T
	// Valid requests are the common case, so every check runs first fail-fast (which costs
	// about 40% less than collecting every error) and only a failed one runs again, in full,
	// to report every violation.
	fastOpts, fullOpts           []openapi3.SchemaValidationOption
	fastParamOpts, fullParamOpts *openapi3filter.Options
	// names interns the property names and enum strings of the document, so that decoding a
	// body does not allocate a string for each known key.
	names map[string]any
	// strFormats are the string formats asserted besides kin-openapi's own, for the compiled
	// body checks.
	strFormats map[string]openapi3.StringFormatValidator
}

// Operation holds the compiled checks of one operation. It is safe for concurrent use.
type Operation struct {
	v      *Validator
	route  *routers.Route
	params []param
	body   *openapi3.Schema // nil when the operation declares no JSON body schema
	// compiled is body compiled for valid bodies (compiled.go), tried before kin-openapi.
	compiled     *node
	hasBody      bool
	bodyRequired bool
	mediaTypes   []string
}

// param is one declared parameter.
type param struct {
	*openapi3.Parameter
	header string // canonical header key, for "in: header"
	// plainString marks a header or path parameter whose schema is a plain string: its value is
	// the text as sent, so it is checked against the schema directly rather than through
	// openapi3filter.ValidateParameter, which costs a few allocations per parameter.
	plainString bool
	// compiled is the schema of a plainString parameter compiled (compiled.go), tried first.
	compiled *node
}

// New compiles the document, after checking that it is a valid OpenAPI document; call once at
// start.
func New(spec []byte) (*Validator, error) { return compile(spec, true) }

// NewTrusted compiles a document known to be valid, such as one embedded in the binary whose
// tests check it with New (TestEveryDocumentCompiles does for contracts/): it skips the check of
// the document, which is about a third of the time compiling takes.
func NewTrusted(spec []byte) (*Validator, error) { return compile(spec, false) }

func compile(spec []byte, check bool) (*Validator, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("validate: load document: %w", err)
	}
	if check {
		if err := doc.Validate(context.Background()); err != nil {
			return nil, fmt.Errorf("validate: invalid document: %w", err)
		}
	}
	strFormats := formatValidators()
	formats := openapi3.WithStringFormatValidators(strFormats)
	fast := []openapi3.SchemaValidationOption{
		openapi3.VisitAsRequest(), openapi3.FailFast(), openapi3.EnableFormatValidation(), formats,
	}
	full := []openapi3.SchemaValidationOption{
		openapi3.VisitAsRequest(), openapi3.MultiErrors(), openapi3.EnableFormatValidation(), formats,
	}
	v := &Validator{
		doc:      doc,
		fastOpts: fast,
		fullOpts: full,
		fastParamOpts: &openapi3filter.Options{
			SkipSettingDefaults:     true, // never write into the caller's request
			SchemaValidationOptions: fast,
		},
		fullParamOpts: &openapi3filter.Options{
			MultiError:              true,
			SkipSettingDefaults:     true,
			SchemaValidationOptions: full,
		},
		names:      make(map[string]any),
		strFormats: strFormats,
	}
	v.internNames()
	return v, nil
}

// formatValidators are the string formats asserted besides kin-openapi's own (date-time,
// date, byte).
func formatValidators() map[string]openapi3.StringFormatValidator {
	uuid := regexp.MustCompile(openapi3.FormatOfStringForUUIDOfRFC9562)
	return map[string]openapi3.StringFormatValidator{
		"email": openapi3.NewCallbackValidator(func(s string) error {
			if !isEmail(s) {
				return errors.New("must be an email address")
			}
			return nil
		}),
		"uuid": openapi3.NewCallbackValidator(func(s string) error {
			if !uuid.MatchString(s) {
				return errors.New("must be a UUID")
			}
			return nil
		}),
		"uri": openapi3.NewCallbackValidator(func(s string) error {
			if u, err := url.Parse(s); err != nil || u.Scheme == "" || u.Opaque == "" && u.Host == "" && u.Path == "" {
				return errors.New("must be an absolute URI")
			}
			return nil
		}),
	}
}

// isEmail reports whether s matches kin-openapi's email format, openapi3.FormatOfStringForEmail
// (^[^@]+@[^@<>",\s]+$), without the regular expression, a microsecond of every authorize with
// a customer: something before one @ and, after it, something without @, <, >, ", comma or the
// regexp's \s (tab, newline, form feed, carriage return, space). Each of those is one byte,
// which no other character's UTF-8 contains, so comparing bytes is comparing characters.
func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return false
	}
	return !strings.ContainsAny(s[at+1:], "@<>\",\t\n\f\r ")
}

// internNames collects every property name and enum string of the document's schemas.
func (v *Validator) internNames() {
	seen := make(map[*openapi3.Schema]bool)
	var walk func(*openapi3.SchemaRef)
	walk = func(ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil || seen[ref.Value] {
			return
		}
		s := ref.Value
		seen[s] = true
		for name, p := range s.Properties {
			v.names[name] = name
			walk(p)
		}
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				v.names[str] = str
			}
		}
		walk(s.Items)
		if s.AdditionalProperties.Schema != nil {
			walk(s.AdditionalProperties.Schema)
		}
		for _, list := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, sub := range list {
				walk(sub)
			}
		}
		walk(s.Not)
	}
	if v.doc.Components != nil {
		for _, s := range v.doc.Components.Schemas {
			walk(s)
		}
	}
	for _, item := range v.doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(mt.Schema)
				}
			}
		}
	}
}

// Operation returns the compiled checks of one operation, to be looked up once (the mock does
// on a route's first call) by method and path template as written in the document, e.g.
// ("POST", "/v2/accounts/{partner_account_id}/payment/authorize"). Error if absent.
func (v *Validator) Operation(method, pathTemplate string) (*Operation, error) {
	item := v.doc.Paths.Value(pathTemplate)
	if item == nil {
		return nil, fmt.Errorf("validate: no path %q in the document", pathTemplate)
	}
	method = strings.ToUpper(method)
	op := item.GetOperation(method)
	if op == nil {
		return nil, fmt.Errorf("validate: no operation %s %s in the document", method, pathTemplate)
	}
	o := &Operation{
		v:     v,
		route: &routers.Route{Spec: v.doc, Path: pathTemplate, PathItem: item, Method: method, Operation: op},
	}
	c := compiler{opts: v.fastOpts, strFormats: v.strFormats, done: map[*openapi3.Schema]*node{}}
	// Operation parameters override path item parameters of the same location and name.
	add := func(p *openapi3.Parameter) {
		pm := param{
			Parameter: p,
			header:    http.CanonicalHeaderKey(p.Name),
			plainString: (p.In == openapi3.ParameterInHeader || p.In == openapi3.ParameterInPath) &&
				p.Content == nil && (p.Style == "" || p.Style == openapi3.SerializationSimple) &&
				p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is(openapi3.TypeString),
		}
		if pm.plainString {
			pm.compiled = c.compile(p.Schema.Value)
		}
		o.params = append(o.params, pm)
	}
	for _, p := range op.Parameters {
		if p.Value != nil {
			add(p.Value)
		}
	}
	for _, p := range item.Parameters {
		if p.Value != nil && op.Parameters.GetByInAndName(p.Value.In, p.Value.Name) == nil {
			add(p.Value)
		}
	}
	if rb := op.RequestBody; rb != nil && rb.Value != nil {
		o.hasBody = true
		o.bodyRequired = rb.Value.Required
		for name, mt := range rb.Value.Content {
			o.mediaTypes = append(o.mediaTypes, name)
			if mt.Schema != nil && mt.Schema.Value != nil && isJSON(name) {
				o.body = mt.Schema.Value
			}
		}
		slices.Sort(o.mediaTypes)
		if o.body != nil {
			o.compiled = c.compile(o.body)
		}
	}
	return o, nil
}

func isJSON(mediaType string) bool {
	mediaType = strings.ToLower(mediaType)
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

// ID is the operation's operationId in the document, empty when it has none.
func (o *Operation) ID() string { return o.route.Operation.OperationID }

// Check validates the request's headers, query, path parameters and its already-read body (nil
// if none). It does not read r.Body and does not modify r. It returns nil when the request is
// valid. It never panics: a failure inside the validator is reported as a violation.
func (o *Operation) Check(r *http.Request, pathParams map[string]string, body []byte) (vs []Violation) {
	defer func() {
		if p := recover(); p != nil {
			vs = append(vs, Violation{Parameter: BodyParameter, Message: fmt.Sprintf("the request could not be validated: %v", p)})
		}
	}()
	if r == nil || r.URL == nil {
		return []Violation{{Parameter: BodyParameter, Message: "no request"}}
	}
	vs = o.checkParams(r, pathParams, vs)
	if o.hasBody {
		vs = o.checkBody(r, body, vs)
	}
	return vs
}

func (o *Operation) checkParams(r *http.Request, pathParams map[string]string, vs []Violation) []Violation {
	var input *openapi3filter.RequestValidationInput
	for i := range o.params {
		p := &o.params[i]
		if p.In == openapi3.ParameterInHeader {
			values := r.Header[p.header]
			if len(values) == 0 {
				if p.Required {
					vs = append(vs, Violation{Parameter: p.Name, Message: "is required"})
				}
				continue
			}
			if p.plainString {
				if values[0] == "" && !p.AllowEmptyValue {
					vs = append(vs, Violation{Parameter: p.Name, Message: "must not be empty"})
				} else {
					vs = o.checkString(vs, p, values[0])
				}
				continue
			}
		}
		if p.In == openapi3.ParameterInPath && p.plainString {
			if value := pathParams[p.Name]; value == "" {
				vs = append(vs, Violation{Parameter: p.Name, Message: "is required"})
			} else {
				vs = o.checkString(vs, p, value)
			}
			continue
		}
		if input == nil {
			input = &openapi3filter.RequestValidationInput{
				Request:    r,
				PathParams: pathParams,
				Route:      o.route,
				Options:    o.v.fastParamOpts,
			}
		}
		if openapi3filter.ValidateParameter(r.Context(), input, p.Parameter) != nil {
			input.Options = o.v.fullParamOpts
			vs = appendParamViolations(vs, p.Name, openapi3filter.ValidateParameter(r.Context(), input, p.Parameter))
			input.Options = o.v.fastParamOpts
		}
	}
	return vs
}

// checkString checks the value of a plain string parameter against its schema.
func (o *Operation) checkString(vs []Violation, p *param, value string) []Violation {
	if p.compiled.validStringValue(value) || p.Schema.Value.VisitJSON(value, o.v.fastOpts...) == nil {
		return vs
	}
	return appendParamViolations(vs, p.Name, p.Schema.Value.VisitJSON(value, o.v.fullOpts...))
}

func (o *Operation) checkBody(r *http.Request, body []byte, vs []Violation) []Violation {
	if len(body) == 0 {
		if o.bodyRequired {
			vs = append(vs, Violation{Parameter: BodyParameter, Message: "a request body is required"})
		}
		return vs
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return append(vs, Violation{Parameter: ContentTypeParameter, Message: "is required with a body"})
	}
	if !mediaTypeDeclared(ct, o.mediaTypes) {
		return append(vs, Violation{Parameter: ContentTypeParameter, Message: "must be one of " + strings.Join(o.mediaTypes, ", ")})
	}
	if o.body == nil || !isJSON(mediaTypeOf(ct)) {
		return vs
	}
	// The compiled check reads a valid body without decoding it; any other body is decoded,
	// checked again and, if that fails too, checked and described by kin-openapi.
	if o.compiled.validBody(body, o.v.names) {
		return vs
	}
	value, err := decodeJSON(body, o.v.names)
	if err != nil {
		return append(vs, Violation{Parameter: BodyParameter, Message: "is not valid JSON"})
	}
	if !o.compiled.valid(value) && o.body.VisitJSON(value, o.v.fastOpts...) != nil {
		vs = appendSchemaViolations(vs, o.body.VisitJSON(value, o.v.fullOpts...), value)
	}
	return vs
}

// mediaTypeOf returns the media type of a Content-Type value, without parameters.
func mediaTypeOf(ct string) string {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// mediaTypeDeclared reports whether the Content-Type value ct is one of mediaTypes.
func mediaTypeDeclared(ct string, mediaTypes []string) bool {
	ct = mediaTypeOf(ct)
	for _, mt := range mediaTypes {
		if strings.EqualFold(ct, mt) {
			return true
		}
	}
	return false
}

// appendParamViolations turns the error of one parameter into violations named after it.
func appendParamViolations(vs []Violation, name string, err error) []Violation {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			return append(vs, Violation{Parameter: name, Message: "is required"})
		case errors.Is(re.Err, openapi3filter.ErrInvalidEmptyValue):
			return append(vs, Violation{Parameter: name, Message: "must not be empty"})
		}
		var pe *openapi3filter.ParseError
		if errors.As(re.Err, &pe) {
			return append(vs, Violation{Parameter: name, Message: "cannot be parsed: " + pe.Reason})
		}
		err = re.Err
	}
	var msgs []string
	eachSchemaError(err, func(se *openapi3.SchemaError) { msgs = append(msgs, schemaMessage(se)) })
	if len(msgs) == 0 {
		return append(vs, Violation{Parameter: name, Message: "is invalid"})
	}
	for _, m := range msgs {
		vs = append(vs, Violation{Parameter: name, Message: m})
	}
	return vs
}

// eachSchemaError calls f for every SchemaError in err, flattening MultiErrors.
func eachSchemaError(err error, f func(*openapi3.SchemaError)) {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			eachSchemaError(e, f)
		}
		return
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		f(se)
	}
}

// appendSchemaViolations turns the errors of a body schema into violations named by their
// dotted path in the body.
func appendSchemaViolations(vs []Violation, err error, root any) []Violation {
	n := len(vs)
	eachSchemaError(err, func(se *openapi3.SchemaError) {
		path := jsonPath(root, se.JSONPointer())
		msg := schemaMessage(se)
		undocumented := false
		switch se.SchemaField {
		case "required":
			msg = "is required"
		case "properties":
			// An unknown property: kin-openapi reports it on its object, with the name in the
			// reason (`property "x" is unsupported`).
			if name, ok := unsupportedProperty(se.Reason); ok {
				path = joinPath(path, name)
				msg, undocumented = "is not allowed", true
			}
		}
		if path == "" {
			path = BodyParameter
		}
		vs = append(vs, Violation{Parameter: path, Message: msg, Undocumented: undocumented})
	})
	if len(vs) == n {
		vs = append(vs, Violation{Parameter: BodyParameter, Message: "is invalid"})
	}
	return vs
}

// schemaMessage is the reason of a schema error, with numbers and formats said plainly.
func schemaMessage(se *openapi3.SchemaError) string {
	s := se.Schema
	if s == nil {
		return se.Reason
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	switch se.SchemaField {
	case "minimum":
		if s.Min != nil {
			if s.ExclusiveMin.IsTrue() {
				return "must be greater than " + num(*s.Min)
			}
			return "must be at least " + num(*s.Min)
		}
	case "maximum":
		if s.Max != nil {
			if s.ExclusiveMax.IsTrue() {
				return "must be less than " + num(*s.Max)
			}
			return "must be at most " + num(*s.Max)
		}
	case "format":
		return "must be a valid " + s.Format
	}
	return se.Reason
}

func unsupportedProperty(reason string) (string, bool) {
	const prefix, suffix = "property ", " is unsupported"
	if !strings.HasPrefix(reason, prefix) || !strings.HasSuffix(reason, suffix) {
		return "", false
	}
	name, err := strconv.Unquote(reason[len(prefix) : len(reason)-len(suffix)])
	return name, err == nil
}

// jsonPath renders a JSON pointer, as segments, the Klarna way: a dotted path with indexes, e.g.
// supplementary_purchase_data.line_items[0].quantity. Whether a segment is an array index is
// decided by walking root (the decoded body) along the pointer.
func jsonPath(root any, segs []string) string {
	var b strings.Builder
	cur := root
	for _, s := range segs {
		if a, ok := cur.([]any); ok {
			b.WriteByte('[')
			b.WriteString(s)
			b.WriteByte(']')
			cur = nil
			if i, err := strconv.Atoi(s); err == nil && i >= 0 && i < len(a) {
				cur = a[i]
			}
			continue
		}
		if m, ok := cur.(map[string]any); ok {
			cur = m[s]
		} else {
			cur = nil
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// joinPath appends a property name to a dotted path.
func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
