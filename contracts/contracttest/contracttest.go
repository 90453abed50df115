// Package contracttest checks recorded HTTP responses against the OpenAPI documents in
// contracts/, for tests. It uses pb33f/libopenapi-validator, the other library than the one the
// mock validates requests with at run time (kin-openapi, in mockserver/validate), so every
// contract is checked by two independent implementations.
package contracttest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/klarna-mock/klarna-mock/contracts"
)

// compiled is one document built once per test binary: building the model of a large document
// takes tens of milliseconds, far more than checking a response.
type compiled struct {
	model     *v3.Document
	validator validator.Validator
	// mu serializes checks: the validator keeps caches whose concurrency guarantees are not
	// documented, and tests run in parallel.
	mu sync.Mutex
}

var (
	cacheMu sync.Mutex
	cache   = map[string]func() (*compiled, error){}
)

// load returns the compiled document, building it on first use.
func load(name string) (*compiled, error) {
	cacheMu.Lock()
	get, ok := cache[name]
	if !ok {
		get = sync.OnceValues(func() (*compiled, error) { return build(name) })
		cache[name] = get
	}
	cacheMu.Unlock()
	return get()
}

func build(name string) (*compiled, error) {
	spec, err := contracts.Files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocument(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	model, err := doc.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	v := validator.NewValidatorFromV3Model(&model.Model, config.WithFormatAssertions(), config.WithContentAssertions())
	return &compiled{model: &model.Model, validator: v}, nil
}

// Checker validates responses against one document.
type Checker struct {
	name string
	doc  *compiled
}

// New loads the named document from contracts.Files (e.g. "klarna-payments.yaml").
func New(tb testing.TB, document string) *Checker {
	tb.Helper()
	doc, err := load(document)
	if err != nil {
		tb.Fatalf("contracttest: %v", err)
	}
	return &Checker{name: document, doc: doc}
}

// Check fails tb if the response (status, header, body) does not match what the document says
// req's operation answers with that status. An unknown route or an undocumented status is a
// failure too.
func (c *Checker) Check(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	if err := c.Validate(req, status, header, body); err != nil {
		tb.Errorf("contracttest: %s %s -> %d does not match %s: %v\nbody: %s", req.Method, req.URL.Path, status, c.name, err, body)
	}
}

// Validate is Check returning the mismatch instead of failing a test.
func (c *Checker) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	c.doc.mu.Lock()
	defer c.doc.mu.Unlock()
	item, errs, _ := paths.FindPath(req, c.doc.model, nil)
	if item == nil || len(errs) > 0 {
		return fmt.Errorf("no operation for %s %s: %v", req.Method, req.URL.Path, joinErrors(errs))
	}
	op := item.GetOperations().GetOrZero(strings.ToLower(req.Method))
	if op == nil {
		return fmt.Errorf("no %s operation on this path", req.Method)
	}
	if op.Responses == nil || (op.Responses.Codes.GetOrZero(strconv.Itoa(status)) == nil && op.Responses.Default == nil) {
		return fmt.Errorf("status %d is not documented", status)
	}
	resp := &http.Response{
		StatusCode: status,
		Header:     header,
		Body:       io.NopCloser(bytes.NewReader(body)),
		Request:    req,
	}
	if ok, errs := c.doc.validator.ValidateHttpResponse(req, resp); !ok {
		return fmt.Errorf("%s", joinErrors(errs))
	}
	return nil
}

func joinErrors[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for i, e := range errs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Client returns an HTTP client whose transport checks every response it receives against the
// document, failing tb on a mismatch. base nil means http.DefaultTransport.
func (c *Checker) Client(tb testing.TB, base http.RoundTripper) *http.Client {
	if base == nil {
		base = http.DefaultTransport
	}
	return &http.Client{Transport: &checkingTransport{tb: tb, c: c, base: base}}
}

type checkingTransport struct {
	tb   testing.TB
	c    *Checker
	base http.RoundTripper
}

// RoundTrip sends the request, checks the response and hands it on with its body intact.
func (t *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	t.c.Check(t.tb, req, resp.StatusCode, resp.Header, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}
