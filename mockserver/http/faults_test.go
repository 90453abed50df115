package http_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
)

// addFault creates a fault for the harness's tenant and returns its id.
func (h *harness) addFault(def map[string]any) string {
	h.t.Helper()
	r := h.do(http.MethodPost, "/mock/v1/faults", def)
	require.Equal(h.t, http.StatusCreated, r.status, r.body)
	return r.str("fault_id")
}

// faults lists the harness's tenant's faults.
func (h *harness) faults() []any {
	h.t.Helper()
	r := h.do(http.MethodGet, "/mock/v1/faults", nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r.get("faults").([]any)
}

// journalFaults is the fault of each of the account's journal entries whose path contains
// pathContains, in the order received ("" for an entry no fault hit).
func (h *harness) journalFaults(pathContains string) []string {
	h.t.Helper()
	r := h.do(http.MethodGet, "/mock/v1/accounts/"+h.account+"/journal?path_contains="+pathContains, nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	var out []string
	for _, e := range r.get("entries").([]any) {
		f, _ := e.(map[string]any)["fault"].(string)
		out = append(out, f)
	}
	return out
}

// rawAnswer is what a client got from a call a fault may have cut short.
type rawAnswer struct {
	resp *http.Response
	body []byte
	// err is the error of the call or of reading its body.
	err error
}

// exchange sends a request the way h.do does, but on a connection of its own, and reports a
// connection closed unanswered or mid-body instead of failing: a client reusing connections
// would silently send a GET again when its connection closes unanswered. timeout 0 waits.
func (h *harness) exchange(method, path string, body any, timeout time.Duration, headers ...string) rawAnswer {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Basic "+h.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	transport := &http.Transport{DisableKeepAlives: true}
	defer transport.CloseIdleConnections()
	resp, err := (&http.Client{Transport: transport, Timeout: timeout}).Do(req)
	if err != nil {
		return rawAnswer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return rawAnswer{resp: resp, body: b, err: err}
}

// faulted sends a call a fault may hit, as exchange does, and decodes its answer, which must
// have come whole. It checks no contract: Klarna's contracts do not list the statuses a fault
// answers with on every operation.
func (h *harness) faulted(method, path string, body any, headers ...string) response {
	h.t.Helper()
	a := h.exchange(method, path, body, 0, headers...)
	require.NoError(h.t, a.err)
	out := response{status: a.resp.StatusCode, header: a.resp.Header, body: string(a.body)}
	if len(a.body) > 0 {
		require.NoError(h.t, json.Unmarshal(a.body, &out.json), out.body)
	}
	return out
}

func TestFaultEndpoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	require.Empty(t, h.faults())
	r := h.do(http.MethodPost, "/mock/v1/faults", map[string]any{
		"operations": []string{"authorize"}, "effect": "error", "status": 429, "retry_after": 2, "count": 2,
		"description": "rate limit the next two authorizes",
	})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	require.Regexp(t, `^krn:mock:fault:`, r.str("fault_id"))
	require.Equal(t, 0.0, r.get("fired"))
	require.Equal(t, 2.0, r.get("remaining"))
	require.Equal(t, testStart.Format(time.RFC3339), r.str("created_at"), "on the tenant's clock")
	first := r.str("fault_id")
	second := h.addFault(map[string]any{"operations": []string{"all"}, "effect": "latency", "latency_ms": 1})
	list := h.faults()
	require.Len(t, list, 2)
	require.Equal(t, first, list[0].(map[string]any)["fault_id"], "oldest first")
	require.Nil(t, list[1].(map[string]any)["remaining"], "no count, no remaining")

	require.Equal(t, http.StatusNoContent, h.do(http.MethodDelete, "/mock/v1/faults/"+first, nil).status)
	requireError(t, h.do(http.MethodDelete, "/mock/v1/faults/"+first, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Len(t, h.faults(), 1)
	require.Equal(t, second, h.faults()[0].(map[string]any)["fault_id"])
	require.Equal(t, http.StatusNoContent, h.do(http.MethodDelete, "/mock/v1/faults", nil).status)
	require.Empty(t, h.faults())

	h.requireRejections([]rejection{
		{name: "unknown operation", method: http.MethodPost, path: "/mock/v1/faults",
			body: map[string]any{"operations": []string{"authorise"}, "effect": "error"}, status: 400, code: "VALIDATION_ERROR"},
		{name: "status not allowed", method: http.MethodPost, path: "/mock/v1/faults",
			body: map[string]any{"operations": []string{"authorize"}, "effect": "error", "status": 404}, status: 400, code: "VALIDATION_ERROR"},
		{name: "count and probability", method: http.MethodPost, path: "/mock/v1/faults",
			body: map[string]any{"operations": []string{"authorize"}, "effect": "error", "count": 1, "probability": 0.5}, status: 400, code: "VALIDATION_ERROR", param: "probability"},
		{name: "retry_after with 500", method: http.MethodPost, path: "/mock/v1/faults",
			body: map[string]any{"operations": []string{"authorize"}, "effect": "error", "status": 500, "retry_after": 1}, status: 400, code: "VALIDATION_ERROR", param: "retry_after"},
		{name: "latency missing", method: http.MethodPost, path: "/mock/v1/faults",
			body: map[string]any{"operations": []string{"authorize"}, "effect": "latency"}, status: 400, code: "VALIDATION_ERROR", param: "latency_ms"},
		{name: "unknown when key", method: http.MethodPost, path: "/mock/v1/faults",
			body: map[string]any{"operations": []string{"authorize"}, "effect": "error", "when": map[string]any{"emial": "a@b.c"}}, status: 400, code: "VALIDATION_ERROR", param: "when"},
		{name: "malformed id", method: http.MethodDelete, path: "/mock/v1/faults/nope", status: 400, code: "VALIDATION_ERROR"},
	})
}

func TestFaultErrorAnswersInsteadOfTheOperation(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tx := h.approved(oneTime(5000))
	id := h.addFault(map[string]any{"operations": []string{"transaction"}, "effect": "error", "status": 503, "retry_after": 3, "count": 2})
	for range 2 {
		r := h.faulted(http.MethodPost, h.transactionPath(tx, "/captures"), nil)
		requireError(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "")
		require.Equal(t, "TECHNICAL_ERROR", r.str("error_type"))
		require.Equal(t, "3", r.header.Get("Retry-After"))
		require.Equal(t, id, r.header.Get(mockhttp.HeaderFault))
	}
	require.Empty(t, h.faults(), "the fault retired after its count")
	require.Equal(t, "AUTHORIZED", h.transaction(tx).str("state"), "an error acts before the operation: nothing was captured")
	r := h.capture(tx, nil, http.StatusCreated)
	require.Empty(t, r.header.Get(mockhttp.HeaderFault))
	require.Equal(t, []string{id, id, ""}, h.journalFaults("/captures"))
}

func TestFaultRateLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.addFault(map[string]any{"operations": []string{"authorize"}, "effect": "error", "status": 429, "retry_after": 1, "count": 1})
	r := h.faulted(http.MethodPost, h.path("/payment/authorize"), oneTime(5000))
	requireError(t, r, http.StatusTooManyRequests, "RATE_LIMITED", "")
	require.Equal(t, "1", r.header.Get("Retry-After"))
	require.Equal(t, id, r.header.Get(mockhttp.HeaderFault))
	require.Equal(t, http.StatusOK, h.authorize(oneTime(5000)).status)
}

func TestFaultLatencyDelaysTheAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.addFault(map[string]any{"operations": []string{"presentation"}, "effect": "latency", "latency_ms": 150, "count": 1})
	path := h.path("/payment/presentation?currency=USD&locale=en-US&amount=5000")
	start := time.Now()
	r := h.do(http.MethodGet, path, nil)
	require.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, id, r.header.Get(mockhttp.HeaderFault))
}

func TestFaultHangClosesWithoutAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.addFault(map[string]any{"operations": []string{"payment_request_read"}, "effect": "hang", "latency_ms": 200, "count": 1})
	start := time.Now()
	a := h.exchange(http.MethodGet, h.path("/payment/requests/krn:payment:eu1:request:"+unknownID), nil, 0)
	require.Error(t, a.err, "the connection closes without an answer")
	require.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond)
	// The connection is closed from inside the handler, so the client can see it before the
	// entry, written once the handler returns, is in the journal.
	require.Eventually(t, func() bool { return len(h.journalFaults("/payment/requests/")) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{id}, h.journalFaults("/payment/requests/"))

	// A client that gives up first ends the hang: the journal entry, written once the handler
	// returns, shows it did not wait out its minute.
	id = h.addFault(map[string]any{"operations": []string{"payment_request_read"}, "effect": "hang", "count": 1})
	a = h.exchange(http.MethodGet, h.path("/payment/requests/krn:payment:eu1:request:"+unknownID), nil, 100*time.Millisecond)
	require.Error(t, a.err)
	require.Eventually(t, func() bool { return len(h.journalFaults("/payment/requests/")) == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, id, h.journalFaults("/payment/requests/")[1])
}

// TestFaultDropLosesTheAnswerNotTheChange is the "answer lost" case: the authorize happened,
// and a retry with the same idempotency key gets the answer the client missed.
func TestFaultDropLosesTheAnswerNotTheChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.addFault(map[string]any{"operations": []string{"authorize"}, "effect": "drop", "count": 1})
	nst := h.testToken("jane@example.com")
	a := h.exchange(http.MethodPost, h.path("/payment/authorize"), oneTime(5000), 0,
		"Klarna-Network-Session-Token", nst, "Klarna-Idempotency-Key", "drop-1")
	require.Error(t, a.err, "no answer")
	// The connection is closed from inside the handler, so the client can see it before the
	// entry, written once the handler returns, is in the journal; waiting for it here, before
	// the retry, also keeps the two entries in the order sent.
	require.Eventually(t, func() bool { return len(h.journalFaults("/payment/authorize")) == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, []string{id}, h.journalFaults("/payment/authorize"))
	// What the tenant holds before the retry: the transaction must already be in it, or the
	// retry, not the dropped call, made it.
	before := h.export()
	retry := h.authorize(oneTime(5000), "Klarna-Network-Session-Token", nst, "Klarna-Idempotency-Key", "drop-1")
	require.Equal(t, http.StatusOK, retry.status, retry.body)
	require.Empty(t, retry.header.Get(mockhttp.HeaderFault))
	tx := retry.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, tx, retry.body)
	require.Contains(t, before, tx, "the dropped call created the transaction")
	require.Equal(t, "AUTHORIZED", h.transaction(tx).str("state"))
	// The retry's entry is kept before its answer is sent (journal.record), so no wait here.
	require.Equal(t, []string{id, ""}, h.journalFaults("/payment/authorize"))
}

func TestFaultTruncateSendsPartOfTheAnswer(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.addFault(map[string]any{"operations": []string{"payment_request_create"}, "effect": "truncate", "count": 1})
	body := paymentRequestBody(5000)
	a := h.exchange(http.MethodPost, h.path("/payment/requests"), body, 0, "Klarna-Idempotency-Key", "truncate-1")
	require.NotNil(t, a.resp)
	require.Equal(t, http.StatusCreated, a.resp.StatusCode)
	require.Equal(t, id, a.resp.Header.Get(mockhttp.HeaderFault))
	require.ErrorIs(t, a.err, io.ErrUnexpectedEOF, "the body ends before its Content-Length")
	full, err := strconv.Atoi(a.resp.Header.Get("Content-Length"))
	require.NoError(t, err)
	require.Less(t, len(a.body), full)
	require.Positive(t, len(a.body))

	retry := h.do(http.MethodPost, h.path("/payment/requests"), body, "Klarna-Idempotency-Key", "truncate-1")
	require.Equal(t, http.StatusCreated, retry.status, retry.body)
	require.Len(t, retry.body, full, "the retry replays the whole answer the first call had")
	require.Equal(t, string(a.body), retry.body[:len(a.body)])
	require.Equal(t, "SUBMITTED", h.state(retry.str("payment_request_id")), "the truncated call created the request")
}

func TestFaultCountIsExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addFault(map[string]any{"operations": []string{"tokens"}, "effect": "error", "status": 500, "count": 5})
	var mu sync.Mutex
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			a := h.exchange(http.MethodPost, h.path("/interoperability/test-tokens"), map[string]any{}, 0)
			mu.Lock()
			defer mu.Unlock()
			if a.resp != nil {
				statuses[a.resp.StatusCode]++
			}
		})
	}
	wg.Wait()
	require.Equal(t, map[int]int{http.StatusInternalServerError: 5, http.StatusCreated: 15}, statuses)
}

func TestFaultWhenMatchesAuthorizeFacts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.addFault(map[string]any{"operations": []string{"authorize", "payment_request_read"}, "effect": "error",
		"when": map[string]any{"email": "chaos@example.com"}})
	r := h.authorize(oneTime(5000))
	require.Equal(t, http.StatusOK, r.status, "jane@example.com does not match")
	chaos := oneTime(5000)
	chaos["supplementary_purchase_data"].(map[string]any)["customer"] = map[string]any{"email": "Chaos@example.com"}
	r = h.faulted(http.MethodPost, h.path("/payment/authorize"), chaos)
	requireError(t, r, http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "")
	require.Equal(t, id, r.header.Get(mockhttp.HeaderFault))
	id2 := h.stepUp(oneTime(5000))
	require.Equal(t, "SUBMITTED", h.state(id2), "a call that is not an authorize never matches a when")
}

func TestFaultSeedReplaysOverHTTP(t *testing.T) {
	t.Parallel()
	run := func() []int {
		h := newHarness(t)
		h.addFault(map[string]any{"operations": []string{"tokens"}, "effect": "error", "probability": 0.5, "seed": 7})
		var out []int
		for range 30 {
			out = append(out, h.faulted(http.MethodPost, h.path("/interoperability/test-tokens"), map[string]any{}).status)
		}
		return out
	}
	first := run()
	require.Equal(t, first, run())
	require.Contains(t, first, http.StatusServiceUnavailable)
	require.Contains(t, first, http.StatusCreated)
}

func TestFaultNeverTouchesAnotherTenant(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.withKey(newKey())
	id := a.addFault(map[string]any{"operations": []string{"all"}, "effect": "error"})
	requireError(t, a.faulted(http.MethodPost, a.path("/payment/authorize"), oneTime(5000)), http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "")
	r := b.authorize(oneTime(5000))
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Empty(t, r.header.Get(mockhttp.HeaderFault))
	require.Empty(t, b.faults())
	requireError(t, b.do(http.MethodDelete, "/mock/v1/faults/"+id, nil), http.StatusNotFound, "NOT_FOUND", "")
	require.Equal(t, http.StatusNoContent, b.do(http.MethodDelete, "/mock/v1/faults", nil).status)
	require.Len(t, a.faults(), 1, "b's clear removed only b's faults")
	require.Equal(t, http.StatusOK, a.do(http.MethodGet, "/mock/v1/clock", nil).status, "the control API is never faulted")
}

func TestFaultsFiredMetric(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.addFault(map[string]any{"operations": []string{"authorize"}, "effect": "error", "count": 2})
	h.addFault(map[string]any{"operations": []string{"all"}, "effect": "latency", "latency_ms": 1, "count": 1})
	for range 3 {
		h.faulted(http.MethodPost, h.path("/payment/authorize"), oneTime(5000))
	}
	m := h.do(http.MethodGet, "/metrics", nil)
	require.Contains(t, m.body, `klarna_mock_faults_fired_total{effect="error",operation="authorize"} 2`)
	require.Contains(t, m.body, `klarna_mock_faults_fired_total{effect="latency",operation="authorize"} 1`)
}

func TestResetRemovesFaults(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	other := h.withKey(newKey())
	h.addFault(map[string]any{"operations": []string{"all"}, "effect": "error"})
	other.addFault(map[string]any{"operations": []string{"all"}, "effect": "error"})
	require.Equal(t, http.StatusOK, h.do(http.MethodPost, "/mock/v1/reset", nil).status)
	require.Empty(t, h.faults())
	require.Equal(t, http.StatusOK, h.authorize(oneTime(5000)).status)
	require.Len(t, other.faults(), 1, "another tenant's faults stay")
}

// TestFaultOnAnIdempotentReplay checks that a fault hits a repeated call too: Klarna being
// unavailable does not depend on whether the call was made before.
func TestFaultOnAnIdempotentReplay(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := map[string]any{}
	first := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), body, "Klarna-Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, first.status)
	h.addFault(map[string]any{"operations": []string{"tokens"}, "effect": "error", "status": 502, "count": 1})
	requireError(t, h.faulted(http.MethodPost, h.path("/interoperability/test-tokens"), body, "Klarna-Idempotency-Key", "k1"),
		http.StatusBadGateway, "BAD_GATEWAY", "")
	again := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), body, "Klarna-Idempotency-Key", "k1")
	require.Equal(t, first.body, again.body)
}
