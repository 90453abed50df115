package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
)

// surface is every operation the mock serves, from its contracts (the acquirer's is the reference
// Acquiring Partner's), but those that register or change a webhook: a fuzzed one would send the
// mock's deliveries to whatever host it names.
func surface() []contracts.Operation {
	var ops []contracts.Operation
	for _, doc := range contracts.Documents() {
		if doc == "acquirer.yaml" {
			continue
		}
		for _, op := range contracts.Operations(doc) {
			if strings.Contains(op.Path, "/webhooks") && op.Method != http.MethodGet && op.Method != http.MethodDelete {
				continue
			}
			ops = append(ops, op)
		}
	}
	return ops
}

// pathParameter is a parameter of a path template.
var pathParameter = regexp.MustCompile(`\{[^}]*\}`)

// FuzzSurface sends an operation of the mock's contracts, as one tenant, a path whose parameters
// are all param, a raw query and a body, and requires what the mock promises bad input: an
// answer below 500 (a panic is answered 500), and an error answer in Klarna's shape, an
// error_code and an error_message. The seeds, which `go test` runs, send every operation an
// empty object, a malformed body and a valid approved authorize; `go test -run '^$' -fuzz
// FuzzSurface ./mockserver/app/` searches further.
func FuzzSurface(f *testing.F) {
	ops := surface()
	if len(ops) == 0 {
		f.Fatal("the contracts list no operations")
	}
	for i := range ops {
		f.Add(uint8(i), "id-1", "", []byte(`{}`))
		f.Add(uint8(i), "krn:payment:eu1:request:0b1d9815-165e-42e2-8867-35bc03789e00", "currency=USD&amount=100&limit=x", []byte(`{"amount":`))
		f.Add(uint8(i), account, "", []byte(benchCharge))
	}
	m, err := app.New(app.Config{WebhookRefusePrivate: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _, _ = m.Close(f.Context()) })
	f.Fuzz(func(t *testing.T, pick uint8, param, query string, body []byte) {
		op := ops[int(pick)%len(ops)]
		path := pathParameter.ReplaceAllLiteralString(op.Path, url.PathEscape(param))
		target := &url.URL{Path: path, RawPath: path, RawQuery: query}
		req, err := http.NewRequest(op.Method, "http://mock.test"+target.String(), bytes.NewReader(body))
		if err != nil {
			t.Skip("not a request a client could send:", err)
		}
		req.Header.Set("Authorization", "Basic klarna_test_api_fuzz")
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		m.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s %q: %d %s", op.Method, path, query, body, rec.Code, rec.Body)
		}
		if rec.Code < 400 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return
		}
		var e struct {
			Code    string `json:"error_code"`
			Message string `json:"error_message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("%s %s?%s %q: %d, not a Klarna error: %s", op.Method, path, query, body, rec.Code, rec.Body)
		}
	})
}
