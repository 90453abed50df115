package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// account is the partner account every tenant of these tests calls on.
const account = "krn:partner:global:account:test:APP00001"

// newMock assembles a mock on a manual clock with cfg, as the klarna-mock command does, and closes
// it when the test ends.
func newMock(t *testing.T, cfg app.Config) *app.Mock {
	t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	}
	m, err := app.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = m.Close(ctx)
	})
	return m
}

// tenant calls a mock's handler in process with one API key, which is one tenant.
type tenant struct {
	t   testing.TB
	h   http.Handler
	key string
}

func tenantOf(t testing.TB, m *app.Mock, key string) tenant {
	return tenant{t: t, h: m.Handler, key: "klarna_test_api_" + key}
}

// answer is a decoded response.
type answer struct {
	status int
	raw    []byte
	json   map[string]any
}

// str walks a dotted path of object keys through the JSON body.
func (a answer) str(path string) string {
	var cur any = a.json
	for _, k := range strings.Split(path, ".") {
		m, _ := cur.(map[string]any)
		cur = m[k]
	}
	s, _ := cur.(string)
	return s
}

// do sends a request (body as JSON when not nil); headers are name, value pairs.
func (tn tenant) do(method, path string, body any, headers ...string) answer {
	tn.t.Helper()
	var raw []byte
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		require.NoError(tn.t, err)
	}
	return decode(tn.send(method, path, raw, headers...))
}

// send sends raw as a JSON body (none when nil) and returns the undecoded answer.
func (tn tenant) send(method, path string, raw []byte, headers ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Basic "+tn.key)
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	tn.h.ServeHTTP(rec, req)
	return rec
}

// decode reads an answer, its body as JSON when it is.
func decode(rec *httptest.ResponseRecorder) answer {
	a := answer{status: rec.Code, raw: rec.Body.Bytes()}
	_ = json.Unmarshal(a.raw, &a.json)
	return a
}

// ok is do that requires a 200.
func (tn tenant) ok(method, path string, body any, headers ...string) answer {
	tn.t.Helper()
	a := tn.do(method, path, body, headers...)
	require.Equal(tn.t, http.StatusOK, a.status, string(a.raw))
	return a
}

func (tn tenant) authorize(body any, headers ...string) answer {
	tn.t.Helper()
	return tn.do(http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", body, headers...)
}

// session mints a network session token of an identified customer, with which a one-time
// authorize is approved at once and a token creation too.
func (tn tenant) session() string {
	tn.t.Helper()
	a := tn.do(http.MethodPost, "/v2/accounts/"+account+"/interoperability/test-tokens", map[string]any{"email": "jane@example.com"})
	require.Equal(tn.t, http.StatusCreated, a.status, string(a.raw))
	return a.str("interoperability_token")
}

// subscriber creates, for the consenting customer of session, a customer token for charges
// without the customer and returns it: a purchase without step_up_config charged to it is
// approved at once. Unlike session, which the first transaction made with it spends
// (docs/klarna.md §6), the token can be charged again and again.
func (tn tenant) subscriber(session string) string {
	tn.t.Helper()
	a := tn.authorize(map[string]any{"currency": "USD", "request_customer_token": map[string]any{"scopes": []string{"payment:customer_not_present"}}},
		"Klarna-Network-Session-Token", session)
	require.Equal(tn.t, http.StatusOK, a.status, string(a.raw))
	token := a.str("customer_token_response.customer_token.customer_token")
	require.NotEmpty(tn.t, token)
	return token
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// purchase is a one-time authorize body; with steps it allows a step-up.
func purchase(amount int, steps bool) map[string]any {
	body := map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": amount}}
	if steps {
		body["step_up_config"] = map[string]any{"customer_interaction_config": map[string]any{"method": "SDK"}}
	}
	return body
}

// requireQuotaExceeded checks a's the Klarna-shaped 429 naming the quota's flag.
func requireQuotaExceeded(t testing.TB, a answer) {
	t.Helper()
	require.Equal(t, http.StatusTooManyRequests, a.status, string(a.raw))
	require.Equal(t, "QUOTA_EXCEEDED", a.str("error_code"))
	require.Equal(t, "RESOURCE_ERROR", a.str("error_type"))
	require.NotEmpty(t, a.str("error_id"))
	require.Contains(t, a.str("error_message"), "--max-objects")
}

// TestATenantsFloodLeavesOthersAlone sends 25,000 authorize calls from tenant A to a mock that
// keeps 200 objects of each kind per tenant. A gets 200s until its quota is full and the
// Klarna-shaped 429 afterwards, never a 5xx; tenant B's payment request, customer token,
// transaction, idempotent answer, journal, webhook and delivery are all still there.
func TestATenantsFloodLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{MaxObjectsPerTenant: 200})
	b := tenantOf(t, m, "b")
	var delivered atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { delivered.Add(1) }))
	t.Cleanup(receiver.Close)
	webhookOn(b, receiver.URL) // before the step-up below, whose submitted event it is sent
	hooks, _ := b.ok(http.MethodGet, "/v2/notification/webhooks", nil).json["webhooks"].([]any)
	require.Len(t, hooks, 1)
	bWebhook, _ := hooks[0].(map[string]any)["webhook_id"].(string)
	require.NotEmpty(t, bWebhook)

	bSession := b.session()
	// The token first: the purchase spends the session token.
	bCustomerToken := b.subscriber(bSession)
	const replayKey = "b-purchase-1"
	bPurchase := b.authorize(purchase(1000, false), "Klarna-Network-Session-Token", bSession, "Klarna-Idempotency-Key", replayKey)
	require.Equal(t, http.StatusOK, bPurchase.status, string(bPurchase.raw))
	bTransaction := bPurchase.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, bTransaction)
	bRequest := b.authorize(purchase(2000, true)).str("payment_request.payment_request_id")
	require.NotEmpty(t, bRequest)

	// A alternates purchases approved at once (a transaction each, charged to a customer token)
	// and step-ups (a payment request each), from a few goroutines as parallel clients would. The bodies are encoded once
	// and answers decoded only when kept, so the time goes to the mock.
	const calls, workers = 25000, 4
	first := tenantOf(t, m, "a")
	aToken := first.subscriber(first.session())
	approved, stepsUp := mustJSON(t, purchase(1000, false)), mustJSON(t, purchase(1000, true))
	const authorizePath = "/v2/accounts/" + account + "/payment/authorize"
	type tally struct {
		statuses map[int]int
		refused  []answer // the first refusal and any answer neither 200 nor 429
	}
	tallies := make([]tally, workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		tl := &tallies[w]
		tl.statuses = map[int]int{}
		wg.Go(func() {
			a := tenantOf(t, m, "a")
			for i := w; i < calls; i += workers {
				var rec *httptest.ResponseRecorder
				if i%2 == 0 {
					rec = a.send(http.MethodPost, authorizePath, approved, "Klarna-Customer-Token", aToken)
				} else {
					rec = a.send(http.MethodPost, authorizePath, stepsUp)
				}
				tl.statuses[rec.Code]++
				if rec.Code != http.StatusOK && (len(tl.refused) == 0 || rec.Code != http.StatusTooManyRequests) {
					tl.refused = append(tl.refused, decode(rec))
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d authorize calls of tenant A in %s", calls, time.Since(start))
	total := map[int]int{}
	for _, tl := range tallies {
		for status, n := range tl.statuses {
			total[status] += n
		}
		for _, got := range tl.refused {
			requireQuotaExceeded(t, got)
		}
	}
	require.Equal(t, map[int]int{http.StatusOK: 400, http.StatusTooManyRequests: calls - 400}, total)

	// B's objects are all there.
	require.Equal(t, "SUBMITTED", b.ok(http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+bRequest, nil).str("state"))
	require.Equal(t, "AUTHORIZED", b.ok(http.MethodGet, "/v2/accounts/"+account+"/payment/transactions/"+bTransaction, nil).str("state"))
	require.Equal(t, "ACTIVE", b.ok(http.MethodGet, "/mock/v1/accounts/"+account+"/customer-tokens/"+bCustomerToken, nil).str("status"))
	replayed := b.authorize(purchase(1000, false), "Klarna-Network-Session-Token", bSession, "Klarna-Idempotency-Key", replayKey)
	require.Equal(t, http.StatusOK, replayed.status)
	require.Equal(t, string(bPurchase.raw), string(replayed.raw))
	journal := b.ok(http.MethodGet, "/mock/v1/accounts/"+account+"/journal?path_contains=authorize", nil)
	entries, _ := journal.json["entries"].([]any)
	require.Len(t, entries, 4) // the purchase, the token, the step-up and the replay
	require.Equal(t, receiver.URL, b.ok(http.MethodGet, "/v2/notification/webhooks/"+bWebhook, nil).str("url"))
	require.Eventually(t, func() bool {
		ds, _ := b.ok(http.MethodGet, "/mock/v1/webhooks/"+bWebhook+"/deliveries", nil).json["deliveries"].([]any)
		return len(ds) == 1 && ds[0].(map[string]any)["state"] == "DELIVERED"
	}, 10*time.Second, 10*time.Millisecond, "B's step-up was delivered to B's webhook")
	require.EqualValues(t, 1, delivered.Load())
}

// stepUp starts a purchase that steps up and returns its payment request id.
func (tn tenant) stepUp() string {
	tn.t.Helper()
	a := tn.authorize(purchase(1000, true))
	require.Equal(tn.t, http.StatusOK, a.status, string(a.raw))
	id := a.str("payment_request.payment_request_id")
	require.NotEmpty(tn.t, id)
	return id
}

func (tn tenant) requestState(id string) string {
	tn.t.Helper()
	return tn.ok(http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+id, nil).str("state")
}

func (tn tenant) advance(duration string) answer {
	tn.t.Helper()
	return tn.do(http.MethodPost, "/mock/v1/clock/advance", map[string]any{"duration": duration})
}

// TestEachTenantsClockMovesAlone checks that the clock endpoints read and move the caller's clock
// only: A's three hours expire A's payment request, not B's, and B's clock has not moved.
func TestEachTenantsClockMovesAlone(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{})
	a, b := tenantOf(t, m, "a"), tenantOf(t, m, "b")
	aRequest, bRequest := a.stepUp(), b.stepUp()

	moved := a.advance("PT3H")
	require.Equal(t, http.StatusOK, moved.status, string(moved.raw))
	require.Equal(t, "3h0m0s", moved.str("offset"))
	require.Equal(t, "EXPIRED", a.requestState(aRequest))
	require.Equal(t, "SUBMITTED", b.requestState(bRequest))
	require.Equal(t, "0s", b.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
	require.Equal(t, "3h0m0s", a.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"))

	anonymous := tenant{t: t, h: m.Handler}
	require.Equal(t, http.StatusUnauthorized, anonymous.do(http.MethodGet, "/mock/v1/clock", nil).status)
	require.Equal(t, http.StatusUnauthorized, anonymous.advance("PT1H").status)
	require.Equal(t, "0s", b.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
}

// TestOverflowingDurationsAreRefused checks that a clock move or an interaction expiry too long
// for the mock, or negative, is a 400 on the field and changes nothing, rather than wrapping
// around to a short duration.
func TestOverflowingDurationsAreRefused(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{})
	tn := tenantOf(t, m, "durations")
	for _, d := range []string{
		"P213504D",   // 585 years: overflows a Duration
		"PT2562048H", // one hour more than a Duration holds
		"2562048h",   // the same in Go syntax
		"P3651D",     // more than 10 years in one move
		"87601h",     // likewise
		"-1h",        // backwards
		"PT99999999999999999999S",
		"P1Y",
	} {
		t.Run("advance "+d, func(t *testing.T) {
			t.Parallel()
			tn := tn
			tn.t = t
			got := tn.advance(d)
			require.Equal(t, http.StatusBadRequest, got.status, string(got.raw))
			require.Equal(t, "VALIDATION_ERROR", got.str("error_code"))
			fields, _ := got.json["errors"].([]any)
			require.Len(t, fields, 1)
			require.Equal(t, "duration", fields[0].(map[string]any)["parameter"])
		})
	}
	const expiry = "step_up_config.customer_interaction_config.interaction_expiry.duration"
	for _, d := range []string{"P213504D", "P106752D", "PT2562048H", "PT9223372037S", "PT153722868M", "P3D"} {
		t.Run("interaction_expiry "+d, func(t *testing.T) {
			t.Parallel()
			tn := tn
			tn.t = t
			body := purchase(1000, true)
			body["step_up_config"].(map[string]any)["customer_interaction_config"].(map[string]any)["interaction_expiry"] = map[string]any{"duration": d}
			got := tn.authorize(body)
			require.Equal(t, http.StatusBadRequest, got.status, string(got.raw))
			fields, _ := got.json["errors"].([]any)
			require.Len(t, fields, 1)
			require.Equal(t, expiry, fields[0].(map[string]any)["parameter"])
			require.Contains(t, got.str("error_message"), "between 15 minutes and 48 hours")
		})
	}
	t.Cleanup(func() {
		// Run after the parallel subtests: no refused move moved the clock.
		require.Equal(t, "0s", tn.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
	})
}

// TestRepeatedFinalAuthorizeAfterEviction checks that a final authorize repeated after its
// transaction was dropped to make room is refused as any reuse of the spent session token is
// (the Klarna Network Session Token page: the token is invalidated once its transaction is
// created), with a Klarna-shaped 400 naming the header, not a 500.
func TestRepeatedFinalAuthorizeAfterEviction(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{MaxObjectsPerTenant: 2})
	tn := tenantOf(t, m, "evicted")
	request := tn.stepUp()
	approved := tn.ok(http.MethodPost, "/mock/v1/payment-requests/"+request+"/approve", nil)
	token := approved.str("state_context.klarna_network_session_token")
	require.NotEmpty(t, token)
	final := tn.authorize(purchase(1000, false), "Klarna-Network-Session-Token", token)
	require.Equal(t, http.StatusOK, final.status, string(final.raw))
	first := final.str("payment_transaction_response.payment_transaction.payment_transaction_id")

	// Past the transaction's expiry and the week it stays readable it is finished, so two new
	// transactions in a table of two drop it.
	require.Equal(t, http.StatusOK, tn.advance("P35DT1H").status)
	subscriber := tn.subscriber(tn.session())
	for range 2 {
		require.Equal(t, http.StatusOK, tn.authorize(purchase(1000, false), "Klarna-Customer-Token", subscriber).status)
	}
	gone := tn.do(http.MethodGet, "/v2/accounts/"+account+"/payment/transactions/"+first, nil)
	require.Equal(t, http.StatusNotFound, gone.status, string(gone.raw))

	again := tn.authorize(purchase(1000, false), "Klarna-Network-Session-Token", token)
	require.Equal(t, http.StatusBadRequest, again.status, string(again.raw))
	require.Equal(t, "VALIDATION_ERROR", again.str("error_code"))
	require.Contains(t, again.str("error_message"), "spent")
	require.Contains(t, again.str("error_message"), first)
}

// TestPruneLoopAppliesRetention checks that the prune loop removes a finished payment request
// once the retention has passed on its tenant's clock, and keeps a live one.
func TestPruneLoopAppliesRetention(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{Retention: time.Hour, PruneInterval: 10 * time.Millisecond})
	tn := tenantOf(t, m, "pruned")
	canceled, open := tn.stepUp(), tn.stepUp()
	require.Equal(t, "CANCELED", tn.ok(http.MethodDelete, "/v2/accounts/"+account+"/payment/requests/"+canceled, nil).str("state"))

	require.Equal(t, http.StatusOK, tn.advance("PT1H").status)
	require.Eventually(t, func() bool {
		return tn.do(http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+canceled, nil).status == http.StatusNotFound
	}, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, "SUBMITTED", tn.requestState(open))
}

// TestIdleTenantsAreForgotten checks the bound on tenants: past MaxTenants a new tenant gets the
// 429 naming --max-tenants, and the prune loop's sweep forgets a tenant that holds nothing and
// has not called for the retention, making room, while an idle tenant with live data (a customer
// token) keeps its objects and its clock.
func TestIdleTenantsAreForgotten(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{MaxTenants: 2, Retention: time.Hour})
	idle, kept, late := tenantOf(t, m, "idle"), tenantOf(t, m, "kept"), tenantOf(t, m, "late")
	require.Equal(t, http.StatusOK, idle.advance("PT2H").status)
	require.Equal(t, http.StatusOK, kept.advance("PT30M").status)
	token := kept.authorize(map[string]any{"currency": "USD", "request_customer_token": map[string]any{"scopes": []string{"payment:customer_not_present"}}},
		"Klarna-Network-Session-Token", kept.session()).str("customer_token_response.customer_token.customer_token")
	require.NotEmpty(t, token)

	refused := late.do(http.MethodGet, "/mock/v1/clock", nil)
	require.Equal(t, http.StatusTooManyRequests, refused.status, string(refused.raw))
	require.Equal(t, "QUOTA_EXCEEDED", refused.str("error_code"))
	require.Contains(t, refused.str("error_message"), "--max-tenants")

	m.Clock.Advance(2 * time.Hour)
	require.NoError(t, m.Prune())
	// A tenant's offset is the base's two hours plus its own moves.
	require.Equal(t, "2h0m0s", late.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
	require.Equal(t, "ACTIVE", kept.ok(http.MethodGet, "/mock/v1/accounts/"+account+"/customer-tokens/"+token, nil).str("status"))
	require.Equal(t, "2h30m0s", kept.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset"))
	// The idle tenant's place went to the late one, and its clock is gone.
	require.Equal(t, http.StatusTooManyRequests, idle.do(http.MethodGet, "/mock/v1/clock", nil).status)
	require.Equal(t, 2, m.Clock.Tenants())
}

// TestIdempotencyQuotaRefusesBeforeTheWork checks that a call whose idempotency record the tenant's
// full quota could not keep is refused before it creates anything: a retry of a call answered
// 429 must never find that a resource was made after all.
func TestIdempotencyQuotaRefusesBeforeTheWork(t *testing.T) {
	t.Parallel()
	m := newMock(t, app.Config{MaxObjectsPerTenant: 3})
	a := tenantOf(t, m, "idempotency_quota")
	session := a.session()
	for i := range 2 {
		minted := a.do(http.MethodPost, "/v2/accounts/"+account+"/interoperability/test-tokens",
			map[string]any{"email": "jane@example.com"}, "Klarna-Idempotency-Key", "mint-"+string(rune('a'+i)))
		require.Equal(t, http.StatusCreated, minted.status, string(minted.raw))
	}
	subscriber := a.subscriber(session)
	first := a.authorize(purchase(1000, false), "Klarna-Customer-Token", subscriber, "Klarna-Idempotency-Key", "pay-1")
	require.Equal(t, http.StatusOK, first.status, string(first.raw))

	// Three live idempotency records: a fourth key cannot be kept, so the call is refused.
	refused := a.authorize(purchase(1000, false), "Klarna-Customer-Token", subscriber, "Klarna-Idempotency-Key", "pay-2")
	requireQuotaExceeded(t, refused)

	// The refused call made no transaction: two more fit in the quota of three, a third does not.
	for range 2 {
		ok := a.authorize(purchase(1000, false), "Klarna-Customer-Token", subscriber)
		require.Equal(t, http.StatusOK, ok.status, string(ok.raw))
	}
	requireQuotaExceeded(t, a.authorize(purchase(1000, false), "Klarna-Customer-Token", subscriber))

	// The first key still replays its answer.
	replayed := a.authorize(purchase(1000, false), "Klarna-Customer-Token", subscriber, "Klarna-Idempotency-Key", "pay-1")
	require.Equal(t, http.StatusOK, replayed.status)
	require.JSONEq(t, string(first.raw), string(replayed.raw))
}
