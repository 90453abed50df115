package http_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

const resetPath = "/mock/v1/reset"

// failingReceiver is a webhook endpoint that answers 503 to everything, so every delivery to it
// waits for a retry; it counts what it got.
type failingReceiver struct {
	url  string
	hits atomic.Int64
}

func newFailingReceiver(t *testing.T) *failingReceiver {
	t.Helper()
	rc := &failingReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rc.hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

// tenantState is what a tenant leaves behind in a test: one of each kind of object, live ones
// included, a delivery waiting for its retry, and a clock moved an hour ahead.
type tenantState struct {
	prID, idempotentPR, token, keyID, hookID, deliveryID string
}

// fill gives h's tenant one object of each kind and returns their ids.
func (h *harness) fill(rcv *failingReceiver) tenantState {
	h.t.Helper()
	var s tenantState
	s.prID = h.stepUp(oneTime(1000))
	first := h.authorize(oneTime(500), "Klarna-Idempotency-Key", "reset-1")
	require.Equal(h.t, http.StatusOK, first.status, first.body)
	s.idempotentPR = first.str("payment_request.payment_request_id")
	s.token = h.customerToken("payment:customer_not_present", "jane@example.com")
	key := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil)
	require.Equal(h.t, http.StatusCreated, key.status, key.body)
	s.keyID = key.str("signing_key_id")
	hook := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": rcv.url, "event_types": []string{"*"}, "signing_key_id": s.keyID})
	require.Equal(h.t, http.StatusCreated, hook.status, hook.body)
	s.hookID = hook.str("webhook_id")
	sim := h.do(http.MethodPost, notificationAPI+"/webhooks/"+s.hookID+"/simulate", map[string]any{"event_type": mockserver.EventRequestSubmitted, "event_version": "v2"})
	require.Equal(h.t, http.StatusAccepted, sim.status, sim.body)
	s.deliveryID = sim.str("delivery_id")
	// The first attempt fails, and the delivery waits for its retry on the tenant's clock.
	require.Eventually(h.t, func() bool {
		attempts, _ := h.do(http.MethodGet, "/mock/v1/deliveries/"+s.deliveryID, nil).get("attempts").([]any)
		return len(attempts) > 0
	}, 10*time.Second, time.Millisecond)
	h.advanceBy("PT1H")
	return s
}

// advanceBy moves the harness's tenant clock forward.
func (h *harness) advanceBy(d string) response {
	h.t.Helper()
	r := h.do(http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": d})
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r
}

// TestResetWipesTheCallersTenantOnly: a reset removes every kind of object of the caller's tenant,
// live ones too, with its journal, clock, webhooks and pending retries, and forgets the tenant;
// another tenant on the same mock keeps all of its own.
func TestResetWipesTheCallersTenantOnly(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.withKey(newKey())
	rcvA, rcvB := newFailingReceiver(t), newFailingReceiver(t)
	stateA, stateB := a.fill(rcvA), b.fill(rcvB)
	srv := a.server()
	require.Equal(t, 2, srv.Tenants())

	r := a.do(http.MethodPost, resetPath, nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, true, r.get("reset"))
	// At least two Payment Requests, an idempotency record, the customer token and the session
	// it was created with, the signing key, the webhook and its delivery.
	require.GreaterOrEqual(t, r.get("objects_removed"), float64(8), r.body)
	require.Equal(t, 1, srv.Tenants(), "the reset tenant no longer counts against --max-tenants")

	// A's next calls find a new, empty tenant.
	require.Empty(t, a.journal(""))
	clk := a.do(http.MethodGet, "/mock/v1/clock", nil)
	require.Equal(t, "0s", clk.str("offset"), "the clock's moves are gone")
	require.Equal(t, testStart.Format(time.RFC3339), clk.str("now"))
	accountPath := "/mock/v1/accounts/" + a.account
	for _, path := range []string{
		a.path("/payment/requests/" + stateA.prID),
		a.path("/payment/requests/" + stateA.idempotentPR),
		accountPath + "/customer-tokens/" + stateA.token,
		notificationAPI + "/signing-keys/" + stateA.keyID,
		notificationAPI + "/webhooks/" + stateA.hookID,
		"/mock/v1/deliveries/" + stateA.deliveryID,
	} {
		requireError(t, a.do(http.MethodGet, path, nil), http.StatusNotFound, "NOT_FOUND", "")
	}
	require.Empty(t, a.do(http.MethodGet, notificationAPI+"/webhooks", nil).get("webhooks"))
	require.Empty(t, a.do(http.MethodGet, notificationAPI+"/signing-keys", nil).get("signing_keys"))
	again := a.authorize(oneTime(500), "Klarna-Idempotency-Key", "reset-1")
	require.Equal(t, http.StatusOK, again.status, again.body)
	require.NotEqual(t, stateA.idempotentPR, again.str("payment_request.payment_request_id"), "the idempotency record is gone: the call runs anew")
	replayed := b.authorize(oneTime(500), "Klarna-Idempotency-Key", "reset-1")
	require.Equal(t, stateB.idempotentPR, replayed.str("payment_request.payment_request_id"), "B's idempotency record still answers")

	// Past every retry of the reset delivery, nothing of A is due and its receiver hears nothing
	// more, while B's retry still comes.
	hitsA := rcvA.hits.Load()
	a.advanceBy("PT30H")
	b.advanceBy("PT30H")
	require.Eventually(t, func() bool { return rcvB.hits.Load() > 1 }, 10*time.Second, time.Millisecond, "B's delivery is retried")
	due := a.do(http.MethodGet, "/mock/v1/deliveries/due", nil)
	require.Equal(t, float64(0), due.get("count"), due.body)
	require.Equal(t, float64(0), due.get("events_pending"), due.body)
	require.Equal(t, hitsA, rcvA.hits.Load(), "A's delivery is not retried")

	// B has everything it had.
	require.Equal(t, "EXPIRED", b.state(stateB.prID), "B's request is there, and expired on B's clock")
	require.Equal(t, "ACTIVE", b.do(http.MethodGet, "/mock/v1/accounts/"+b.account+"/customer-tokens/"+stateB.token, nil).str("status"))
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, notificationAPI+"/signing-keys/"+stateB.keyID, nil).status)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, notificationAPI+"/webhooks/"+stateB.hookID, nil).status)
	require.Equal(t, http.StatusOK, b.do(http.MethodGet, "/mock/v1/deliveries/"+stateB.deliveryID, nil).status)
	require.Equal(t, "31h0m0s", b.do(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
	require.NotEmpty(t, b.journal(""))
}

// TestResetTwiceAndOfANewTenant: a reset of a tenant that holds nothing removes nothing, and a
// second reset finds the first one's tenant gone.
func TestResetTwiceAndOfANewTenant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for range 2 {
		r := h.do(http.MethodPost, resetPath, nil)
		require.Equal(t, http.StatusOK, r.status, r.body)
		require.Equal(t, float64(0), r.get("objects_removed"))
		require.Zero(t, h.server().Tenants())
	}
}

// TestResetDuringConcurrentCallsAnswersNo5xx resets a tenant over and over while it keeps
// calling: creating, reading and acting on Payment Requests, idempotently, minting tokens,
// registering webhooks and simulating events whose deliveries are in flight, moving its clock.
// Every answer is a success or a Klarna-shaped 4xx, never a 5xx; the other tenant is untouched.
func TestResetDuringConcurrentCallsAnswersNo5xx(t *testing.T) {
	t.Parallel()
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(2 * time.Millisecond) // attempts are in flight when the resets come
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(slow.Close)
	a := newHarness(t)
	b := a.withKey(newKey())
	bPR := b.stepUp(oneTime(1000))
	bToken := b.customerToken("payment:customer_not_present", "jane@example.com")

	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		bad      []string
	)
	record := func(what string, status int, body string) {
		mu.Lock()
		defer mu.Unlock()
		statuses[status]++
		if status >= 500 || status == 0 {
			bad = append(bad, fmt.Sprintf("%s: %d %s", what, status, body))
		}
	}
	calls := []func(i int){
		func(int) {
			st, body := a.send(http.MethodPost, a.path("/payment/authorize"), oneTime(1000))
			record("authorize", st, body)
			var out struct {
				PaymentRequest struct {
					ID string `json:"payment_request_id"`
				} `json:"payment_request"`
			}
			if json.Unmarshal([]byte(body), &out) == nil && out.PaymentRequest.ID != "" {
				st, body = a.send(http.MethodPost, "/mock/v1/payment-requests/"+out.PaymentRequest.ID+"/approve", nil)
				record("approve", st, body)
				st, body = a.send(http.MethodGet, a.path("/payment/requests/"+out.PaymentRequest.ID), nil)
				record("read", st, body)
			}
		},
		func(i int) {
			st, body := a.send(http.MethodPost, a.path("/payment/authorize"), oneTime(500), "Klarna-Idempotency-Key", fmt.Sprint("storm-", i%3))
			record("idempotent authorize", st, body)
		},
		func(int) {
			st, body := a.send(http.MethodPost, a.path("/interoperability/test-tokens"), map[string]any{"email": "jane@example.com"})
			record("test token", st, body)
		},
		func(int) {
			st, body := a.send(http.MethodPost, notificationAPI+"/signing-keys", nil)
			record("signing key", st, body)
			var key struct {
				ID string `json:"signing_key_id"`
			}
			if json.Unmarshal([]byte(body), &key) != nil || key.ID == "" {
				return
			}
			st, body = a.send(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": slow.URL, "event_types": []string{"*"}, "signing_key_id": key.ID})
			record("webhook", st, body)
			var hook struct {
				ID string `json:"webhook_id"`
			}
			if json.Unmarshal([]byte(body), &hook) != nil || hook.ID == "" {
				return
			}
			st, body = a.send(http.MethodPost, notificationAPI+"/webhooks/"+hook.ID+"/simulate", map[string]any{"event_type": mockserver.EventRequestSubmitted, "event_version": "v2"})
			record("simulate", st, body)
		},
		func(int) {
			st, body := a.send(http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": "PT10S"})
			record("advance", st, body)
			st, body = a.send(http.MethodGet, "/mock/v1/deliveries/due", nil)
			record("due", st, body)
			st, body = a.send(http.MethodGet, "/mock/v1/accounts/"+a.account+"/journal", nil)
			record("journal", st, body)
		},
	}

	stop := make(chan struct{})
	var callers sync.WaitGroup
	for _, call := range calls {
		callers.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
					call(i)
				}
			}
		})
	}
	for range 30 {
		st, body := a.send(http.MethodPost, resetPath, nil)
		record("reset", st, body)
		time.Sleep(time.Millisecond)
	}
	close(stop)
	callers.Wait()
	require.Empty(t, bad, "answers by status: %v", statuses)
	require.Greater(t, statuses[http.StatusOK], 100, "the tenant was served between the resets: %v", statuses)

	// Once its calls have stopped, a last reset leaves nothing of A.
	r := a.do(http.MethodPost, resetPath, nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Equal(t, 1, a.server().Tenants(), "only B is left")
	require.Empty(t, a.journal(""))

	require.Equal(t, "SUBMITTED", b.state(bPR))
	require.Equal(t, "ACTIVE", b.do(http.MethodGet, "/mock/v1/accounts/"+b.account+"/customer-tokens/"+bToken, nil).str("status"))
	require.Equal(t, "0s", b.do(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
}

// send is do for calls made off the test's goroutine: it reports the status and body instead of
// failing the test, and checks no contract (the answers race the resets; do checks them in
// the other tests).
func (h *harness) send(method, path string, body any, headers ...string) (int, string) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, err.Error()
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Basic "+h.key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.mock.Handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}
