// Package contracttest checks recorded HTTP responses against the OpenAPI documents in
// contracts/, for the tests of other packages.
//
// It uses pb33f/libopenapi-validator, the other library than the run-time request validator
// (contracts/validate uses kin-openapi), so that every contract is enforced by two independent
// implementations.
//
// Typical use, in a test of the HTTP layer:
//
//	c := contracttest.New(t, "klarna-payments.yaml")
//	client := c.Client(t, nil) // checks every response it receives
//	resp, err := client.Post(srv.URL+"/v2/accounts/"+account+"/payment/authorize", "application/json", body)
//
// or, with a recorded response:
//
//	c.Check(t, req, rec.Code, rec.Header(), rec.Body.Bytes())
package contracttest

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi/datamodel"

	"github.com/klarna-mock/klarna-mock/contracts"
)

// Checker checks responses against one document. It is safe for concurrent use.
type Checker struct {
	document  string
	validator validator.Validator
}

// compiled holds one Checker per document, built on first use: building the document model is
// the expensive part, and many tests share it.
var compiled sync.Map // document name -> *entry

type entry struct {
	once    sync.Once
	checker *Checker
	err     error
}

// New loads the named document from contracts.Files (e.g. "klarna-payments.yaml") once.
// It fails tb at once when the document is missing or invalid.
func New(tb testing.TB, document string) *Checker {
	tb.Helper()
	c, err := Load(document)
	if err != nil {
		tb.Fatalf("contracttest: %v", err)
	}
	return c
}

// Load returns the checker of the named document, compiled once per process, for code that runs
// outside a test (a godog suite's steps, say) and reports with Problems.
func Load(document string) (*Checker, error) {
	e, _ := compiled.LoadOrStore(document, &entry{})
	en := e.(*entry)
	en.once.Do(func() { en.checker, en.err = load(document) })
	return en.checker, en.err
}

func load(document string) (*Checker, error) {
	spec, err := contracts.Files.ReadFile(document)
	if err != nil {
		return nil, fmt.Errorf("document %q: %w", document, err)
	}
	doc, err := libopenapi.NewDocumentWithConfiguration(spec, &datamodel.DocumentConfiguration{
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return nil, fmt.Errorf("document %q: %w", document, err)
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("document %q: %v", document, errs)
	}
	return &Checker{document: document, validator: v}, nil
}

// Check fails tb if resp (with its body bytes) does not match the document's response for req's
// operation and status. Unknown route or undocumented status is a failure too. It reports with
// tb.Errorf, so it may be called from any goroutine.
func (c *Checker) Check(tb testing.TB, req *http.Request, status int, header http.Header, body []byte) {
	tb.Helper()
	if problems := c.Problems(req, status, header, body); len(problems) > 0 {
		method, path := "?", "?"
		if req != nil && req.URL != nil {
			method, path = req.Method, req.URL.Path
		}
		tb.Errorf("contracttest: %s %s -> %d does not match %s:\n  %s\nbody: %s",
			method, path, status, c.document, strings.Join(problems, "\n  "), truncate(body, 2000))
	}
}

// Problems returns why the response does not match the document, or nil when it does.
func (c *Checker) Problems(req *http.Request, status int, header http.Header, body []byte) []string {
	if req == nil || req.URL == nil {
		return []string{"no request"}
	}
	if header == nil {
		header = http.Header{}
	}
	// The validator only reads the request's method and URL: give it a copy without a body.
	r := req.Clone(req.Context())
	r.Body = http.NoBody
	resp := &http.Response{
		StatusCode:    status,
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:        header.Clone(),
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       r,
	}
	ok, errs := c.validator.ValidateHttpResponse(r, resp)
	if ok && len(errs) == 0 {
		return nil
	}
	return describe(errs)
}

func describe(errs []*liberrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		if e == nil {
			continue
		}
		line := e.Message
		if e.Reason != "" {
			line += ": " + e.Reason
		}
		out = append(out, line)
		for _, s := range e.SchemaValidationErrors {
			where := s.FieldPath
			if where == "" {
				where = "$"
			}
			out = append(out, fmt.Sprintf("  %s: %s", where, s.Reason))
		}
	}
	if len(out) == 0 {
		out = append(out, "the response does not match (no details)")
	}
	return out
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

// Client returns an HTTP client whose transport checks every response it receives against the
// document. base is the transport to use (nil means http.DefaultTransport).
func (c *Checker) Client(tb testing.TB, base http.RoundTripper) *http.Client {
	return &http.Client{Transport: c.RoundTripper(tb, base)}
}

// RoundTripper wraps base (nil means http.DefaultTransport) so that every response is checked
// against the document. The response body is read fully and handed on unchanged.
func (c *Checker) RoundTripper(tb testing.TB, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &roundTripper{c: c, tb: tb, base: base}
}

type roundTripper struct {
	c    *Checker
	tb   testing.TB
	base http.RoundTripper
}

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("contracttest: read response body: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.c.Check(t.tb, req, resp.StatusCode, resp.Header, body)
	return resp, nil
}

// Handler wraps h so that every response it writes is checked against the document before it
// is passed on to the client. Responses are buffered (no streaming).
func (c *Checker) Handler(tb testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		c.Check(tb, r, rec.Code, rec.Header(), rec.Body.Bytes())
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}
