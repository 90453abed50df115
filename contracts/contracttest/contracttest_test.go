package contracttest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/contracttest"
)

// recorder is a testing.TB that records failures instead of failing the test.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	panic(r) // stands in for runtime.Goexit
}

func (r *recorder) failures() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

const (
	account  = "krn:partner:global:account:test:ABCD1234"
	request  = "krn:payment:eu1:request:9d1c0a8e-2b5f-4f0e-8a7c-6b5d4e3f2a10"
	approved = `{"payment_transaction_response":{"result":"APPROVED","payment_transaction":{
		"payment_transaction_id":"krn:payment:eu1:transaction:6f0c2f7e-3a43-4a0e-9a7b-1a2b3c4d5e6f",
		"amount":11800,"currency":"USD","state":"AUTHORIZED","created_at":"2026-01-04T12:00:00Z",
		"payment_funding":{"type":"GUARANTEED","state":"FUNDED"}}}}`
	canceled = `{"payment_request_id":"` + request + `","currency":"USD","amount":11800,"state":"CANCELED",
		"previous_state":"SUBMITTED","state_reason":"PARTNER_CANCELED","created_at":"2026-01-04T12:00:00Z",
		"updated_at":"2026-01-04T12:01:00Z","canceled_at":"2026-01-04T12:01:00Z"}`
	notFound = `{"error_id":"4a3b2c1d-0e9f-4a8b-8c7d-6e5f4a3b2c1d","error_type":"RESOURCE_ERROR","error_code":"NOT_FOUND","error_message":"not found",
		"doc_url":"https://docs.klarna.com/klarna-network-distribution/setup-your-integration/integration-resilience/error-handling/"}`
)

// fakeServer answers with whatever the test puts in responses, keyed by method and path.
type fakeServer struct {
	responses map[string]fakeResponse
}

type fakeResponse struct {
	status int
	body   string
	header map[string]string
}

func (f fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, ok := f.responses[r.Method+" "+r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Klarna-Correlation-Id", "3b1f6c0e-5d2a-4e8f-9c7b-0a1b2c3d4e5f")
	for k, v := range resp.header {
		if v == "" {
			w.Header().Del(k)
		} else {
			w.Header().Set(k, v)
		}
	}
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, resp.body)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	authorize := "/v2/accounts/" + account + "/payment/authorize"
	cancel := "/v2/accounts/" + account + "/payment/requests/" + request
	cases := []struct {
		name   string
		method string
		path   string
		resp   fakeResponse
		ok     bool
		expect string // a fragment of the failure
	}{
		{name: "approved", method: "POST", path: authorize, resp: fakeResponse{status: 200, body: approved}, ok: true},
		{name: "canceled", method: "DELETE", path: cancel, resp: fakeResponse{status: 200, body: canceled}, ok: true},
		{name: "not found", method: "GET", path: cancel, resp: fakeResponse{status: 404, body: notFound}, ok: true},
		{name: "wrong enum", method: "POST", path: authorize,
			resp: fakeResponse{status: 200, body: strings.Replace(approved, `"APPROVED"`, `"OK"`, 1)}, expect: "$.payment_transaction_response.result: value must be one of"},
		{name: "typo in a field", method: "DELETE", path: cancel,
			resp: fakeResponse{status: 200, body: strings.Replace(canceled, "canceled_at", "cancelled_at", 1)}, expect: "additional properties 'cancelled_at' not allowed"},
		{name: "missing required field", method: "DELETE", path: cancel,
			resp: fakeResponse{status: 200, body: strings.Replace(canceled, `"currency":"USD",`, "", 1)}, expect: "missing property 'currency'"},
		{name: "bad date-time", method: "DELETE", path: cancel,
			resp: fakeResponse{status: 200, body: strings.Replace(canceled, `"2026-01-04T12:01:00Z"`, `"yesterday"`, 1)}, expect: "$.updated_at: 'yesterday' is not valid date-time"},
		{name: "undocumented status", method: "POST", path: authorize, resp: fakeResponse{status: 500, body: notFound}, expect: "response code '500' does not exist"},
		{name: "unknown route", method: "GET", path: "/v2/nothing/here", resp: fakeResponse{status: 200, body: `{}`}, expect: "Path '/v2/nothing/here' not found"},
		{name: "undocumented method", method: "POST", path: cancel, resp: fakeResponse{status: 200, body: canceled}, expect: "The POST method for that path does not exist"},
		{name: "missing Klarna-Correlation-Id", method: "POST", path: authorize,
			resp: fakeResponse{status: 200, body: approved, header: map[string]string{"Klarna-Correlation-Id": ""}}, expect: "Required header 'Klarna-Correlation-Id' was not found"},
		{name: "wrong content type", method: "POST", path: authorize,
			resp: fakeResponse{status: 200, body: approved, header: map[string]string{"Content-Type": "text/plain"}}, expect: "content type 'text/plain'"},
		{name: "not JSON", method: "POST", path: authorize, resp: fakeResponse{status: 200, body: `{"payment_`}, expect: "cannot be decoded"},
	}
	c := contracttest.New(t, contracts.KlarnaPaymentsFile)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(fakeServer{responses: map[string]fakeResponse{tc.method + " " + tc.path: tc.resp}})
			defer srv.Close()
			rec := &recorder{TB: t}
			req, err := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			require.NoError(t, err)
			resp, err := c.Client(rec, nil).Do(req)
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.NoError(t, resp.Body.Close())
			require.Equal(t, tc.resp.body, string(body), "the client hands on the body unchanged")
			if tc.ok {
				require.Empty(t, rec.failures())
				// The same response, checked directly, passes too.
				c.Check(t, req, resp.StatusCode, resp.Header, body)
				return
			}
			failures := rec.failures()
			require.Len(t, failures, 1)
			// Problems gives the same verdict without a testing.TB, and only the reasons.
			problems := c.Problems(req, resp.StatusCode, resp.Header, body)
			for _, p := range problems {
				require.Contains(t, failures[0], p)
			}
			require.Contains(t, strings.Join(problems, "\n"), tc.expect)
		})
	}
}

func TestHandler(t *testing.T) {
	t.Parallel()
	c := contracttest.New(t, contracts.KlarnaPaymentsFile)
	path := "/v2/accounts/" + account + "/payment/authorize"
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{approved, true},
		{strings.Replace(approved, `"AUTHORIZED"`, `"PENDING"`, 1), false},
	} {
		rec := &recorder{TB: t}
		h := c.Handler(rec, fakeServer{responses: map[string]fakeResponse{"POST " + path: {status: 200, body: tc.body}}})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", path, strings.NewReader(`{"currency":"USD"}`)))
		require.Equal(t, 200, w.Code)
		require.Equal(t, tc.body, w.Body.String())
		require.Equal(t, "application/json", w.Header().Get("Content-Type"))
		require.Equal(t, tc.ok, len(rec.failures()) == 0, "%v", rec.failures())
	}
}

func TestNewFailsOnUnknownDocument(t *testing.T) {
	t.Parallel()
	rec := &recorder{TB: t}
	require.Panics(t, func() { contracttest.New(rec, "no-such-document.yaml") })
	require.True(t, rec.fatal)
	require.Contains(t, rec.failures()[0], "no-such-document.yaml")
}

// TestEveryDocumentLoads makes sure each document in contracts/ can back a Checker.
func TestEveryDocumentLoads(t *testing.T) {
	t.Parallel()
	for _, name := range contracts.Documents() {
		require.NotNil(t, contracttest.New(t, name), name)
	}
}

// TestChecksAreConcurrent shares one Checker between goroutines (meaningful with -race).
func TestChecksAreConcurrent(t *testing.T) {
	t.Parallel()
	c := contracttest.New(t, contracts.KlarnaPaymentsFile)
	req := httptest.NewRequest("POST", "/v2/accounts/"+account+"/payment/authorize", nil)
	header := http.Header{"Content-Type": {"application/json"}, "Klarna-Correlation-Id": {"x"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 10 {
				require.Empty(t, c.Problems(req, 200, header, []byte(approved)))
			}
		})
	}
	wg.Wait()
}
