package http_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// server is the harness's mock as the *mockhttp.Server app.New assembles.
func (h *harness) server() *mockhttp.Server {
	h.t.Helper()
	srv, ok := h.mock.Handler.(*mockhttp.Server)
	require.True(h.t, ok, "app.New serves a *mockhttp.Server, got %T", h.mock.Handler)
	return srv
}

// tenantOf is the tenant the mock resolves the harness's key to (without an accounts file).
func (h *harness) tenantOf() string {
	h.t.Helper()
	var none *mockhttp.Accounts
	id, err := none.Resolve("Basic "+h.key, "")
	require.NoError(h.t, err)
	return id
}

// serveRaw sends a request straight to the mock's handler, in process and without the contract
// check of do: for the thousands of calls a load test makes.
func (h *harness) serveRaw(method, path string) int {
	req := httptest.NewRequest(method, path, nil)
	req.Header.Set("Authorization", "Basic "+h.key)
	rec := httptest.NewRecorder()
	h.mock.Handler.ServeHTTP(rec, req)
	return rec.Code
}

// journal reads the harness's journal of its account.
func (h *harness) journal(query string) []any {
	h.t.Helper()
	r := h.do(http.MethodGet, "/mock/v1/accounts/"+h.account+"/journal"+query, nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	entries, _ := r.get("entries").([]any)
	return entries
}

// TestControlAPIRefusesAnonymousCallers walks every /mock/v1 route the mock mounts, so a route
// added later is held to the rule too: without the tenant's API key, the Klarna-shaped 401.
func TestControlAPIRefusesAnonymousCallers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A plausible value for each path variable of a control route; a route with a variable
	// missing here fails the test until one is added.
	samples := map[string]string{
		"payment_request_id": mockserver.PrefixPaymentRequest + unknownID,
		"action":             string(mockserver.JourneyApprove),
		"partner_account_id": h.account,
		"customer_token":     "krn:customer-token:eu1:" + unknownID,
		"webhook_id":         webhook.WebhookIDPrefix + unknownID,
		"delivery_id":        webhook.DeliveryIDPrefix + unknownID,
		"fault_id":           faults.IDPrefix + unknownID,
	}
	variable := regexp.MustCompile(`\{([^}]+)\}`)
	seen := 0
	routes, err := h.server().Routes()
	require.NoError(t, err)
	for _, rt := range routes {
		m, tmpl := rt[0], rt[1]
		if !strings.HasPrefix(tmpl, "/mock/v1/") {
			continue
		}
		path := variable.ReplaceAllStringFunc(tmpl, func(v string) string {
			name := v[1 : len(v)-1]
			require.Contains(t, samples, name, "no sample value for {%s} of %s", name, tmpl)
			return samples[name]
		})
		seen++
		t.Run(m+" "+tmpl, func(t *testing.T) {
			requireError(t, h.within(t).do(m, path, nil, "Authorization", ""), http.StatusUnauthorized, "UNAUTHORIZED", "")
		})
	}
	require.GreaterOrEqual(t, seen, 9, "the walk reached the control routes")
}

// TestControlAPIAnswersNotFoundForAnotherTenantsIDs: every control endpoint that names an object
// answers another tenant's as the 404 of an unknown id, and leaves it as it was.
func TestControlAPIAnswersNotFoundForAnotherTenantsIDs(t *testing.T) {
	t.Parallel()
	rcv := newHookReceiver(t, "")
	h := newHarness(t)
	prID := h.stepUp(oneTime(1000))
	token := h.customerToken("payment:customer_not_present", "jane@example.com")
	key := h.do(http.MethodPost, notificationAPI+"/signing-keys", nil)
	require.Equal(t, http.StatusCreated, key.status, key.body)
	hook := h.do(http.MethodPost, notificationAPI+"/webhooks", map[string]any{"url": rcv.url, "event_types": []string{"*"}, "signing_key_id": key.str("signing_key_id")})
	require.Equal(t, http.StatusCreated, hook.status, hook.body)
	hookID := hook.str("webhook_id")
	sim := h.do(http.MethodPost, notificationAPI+"/webhooks/"+hookID+"/simulate", map[string]any{"event_type": mockserver.EventRequestSubmitted, "event_version": "v2"})
	require.Equal(t, http.StatusAccepted, sim.status, sim.body)
	deliveryID := sim.str("delivery_id")

	other := []string{"Authorization", "Basic " + newKey()}
	tokens := "/mock/v1/accounts/" + h.account + "/customer-tokens/" + token
	var cases []rejection
	for _, a := range mockserver.JourneyActions {
		cases = append(cases, rejection{"journey " + string(a), http.MethodPost, "/mock/v1/payment-requests/" + prID + "/" + string(a), nil, other, http.StatusNotFound, "NOT_FOUND", ""})
	}
	cases = append(cases,
		rejection{"read customer token", http.MethodGet, tokens, nil, other, http.StatusNotFound, "NOT_FOUND", ""},
		rejection{"revoke customer token", http.MethodPost, tokens + "/revoke", nil, other, http.StatusNotFound, "NOT_FOUND", ""},
		rejection{"webhook deliveries", http.MethodGet, "/mock/v1/webhooks/" + hookID + "/deliveries", nil, other, http.StatusNotFound, "NOT_FOUND", ""},
		rejection{"delivery", http.MethodGet, "/mock/v1/deliveries/" + deliveryID, nil, other, http.StatusNotFound, "NOT_FOUND", ""},
	)
	h.requireRejections(cases)

	// The other tenant's message is the one of an id nobody has: nothing tells them apart.
	unknown := h.act(mockserver.PrefixPaymentRequest+unknownID, "approve")
	foreign := h.do(http.MethodPost, "/mock/v1/payment-requests/"+prID+"/approve", nil, other...)
	require.Equal(t, strings.ReplaceAll(unknown.str("error_message"), unknownID, ""),
		strings.ReplaceAll(foreign.str("error_message"), strings.TrimPrefix(prID, mockserver.PrefixPaymentRequest), ""))

	// The other tenant's journal on the same account holds none of this tenant's calls.
	require.NotEmpty(t, h.journal(""))
	require.Empty(t, h.withKey(other[1][len("Basic "):]).journal(""))

	// Nothing changed: the request waits for its own tenant's customer, the token is active.
	require.Equal(t, "SUBMITTED", h.state(prID))
	require.Equal(t, "ACTIVE", h.do(http.MethodGet, tokens, nil).str("status"))
	require.Equal(t, "COMPLETED", h.act(prID, "approve").str("state"), "the owner's key acts")
}

// TestJourneyPageNeedsNoKey: the Purchase Journey page is the customer's, reached by its
// unguessable URL alone, while the same action through the control API takes the key.
func TestJourneyPageNeedsNoKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(oneTime(1000))
	anonymous := []string{"Authorization", ""}
	requireError(t, h.do(http.MethodPost, "/mock/v1/payment-requests/"+id+"/open", nil, anonymous...), http.StatusUnauthorized, "UNAUTHORIZED", "")
	requireJourneyHTML(t, h.do(http.MethodGet, "/journey/"+id, nil, anonymous...), http.StatusOK)
	require.Equal(t, "IN_PROGRESS", h.state(id))
	requireJourneyRedirect(t, h.do(http.MethodPost, "/journey/"+id, journeyForm("approve"), anonymous...))
	require.Equal(t, "COMPLETED", h.state(id))
}

// TestJournalIsPerTenant: one tenant's load pushes only its own oldest entries out; another
// tenant keeps every entry it had.
func TestJournalIsPerTenant(t *testing.T) {
	t.Parallel()
	a := newHarness(t)
	b := a.withKey(newKey())
	for range 3 {
		b.do(http.MethodGet, b.path("/payment/requests/"+mockserver.PrefixPaymentRequest+unknownID), nil)
	}
	const calls = 5000
	path := a.path("/payment/requests/" + mockserver.PrefixPaymentRequest + unknownID)
	for range calls {
		require.Equal(t, http.StatusNotFound, a.serveRaw(http.MethodGet, path))
	}

	kept := b.journal("")
	require.Len(t, kept, 3, "the other tenant's load pushed none of this tenant's entries out")
	for i, e := range kept {
		require.Equal(t, float64(i+1), e.(map[string]any)["seq"], "a tenant's seq counts its own calls")
	}
	own := a.journal("")
	require.Len(t, own, mockhttp.JournalPerTenant)
	require.Equal(t, float64(calls-mockhttp.JournalPerTenant+1), own[0].(map[string]any)["seq"], "the oldest are dropped first")
	require.Equal(t, float64(calls), own[len(own)-1].(map[string]any)["seq"])
}

// TestJournalTruncatesLongBodies: a body over 64 KiB is kept cut, whole characters only, with a
// marker naming what was left out, and the entry says so; a short body is kept whole.
func TestJournalTruncatesLongBodies(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// 23 bytes and then two-byte characters: byte 65536 is the middle of one, which is not kept.
	long := `{"currency":"USD","x":"` + strings.Repeat("é", 40000) + `"}`
	h.authorize(long)
	h.authorize(oneTime(1000))

	entries := h.journal("")
	require.Len(t, entries, 2)
	cut := entries[0].(map[string]any)
	body := cut["body"].(string)
	require.Equal(t, true, cut["body_truncated"])
	kept := mockhttp.JournalMaxBody - 1
	require.Equal(t, long[:kept], body[:kept])
	require.Equal(t, fmt.Sprintf("…[truncated: %d bytes]", len(long)-kept), body[kept:])
	require.True(t, utf8.ValidString(body))

	whole := entries[1].(map[string]any)
	require.NotContains(t, whole, "body_truncated")
	require.Contains(t, whole["body"], `"order-1"`)
}

// TestErrorAnswerListsAtMostAHundredErrors: a body with 40,000 bad line items gets an answer of
// a few kilobytes, naming the first hundred and counting the rest.
func TestErrorAnswerListsAtMostAHundredErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	items := strings.TrimSuffix(strings.Repeat(`{"name":1},`, 40000), ",")
	body := `{"currency":"USD","request_payment_transaction":{"amount":1000},"supplementary_purchase_data":{"line_items":[` + items + `]}}`
	require.Greater(t, len(body), 400_000)

	r := h.authorize(body)
	requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "")
	require.Len(t, r.get("errors"), mockhttp.MaxErrorEntries)
	require.Less(t, len(r.body), 64<<10, "the answer stays small")
	left := regexp.MustCompile(`\. The errors list shows the first 100 of (\d+) problems; (\d+) are left out\.$`).FindStringSubmatch(r.str("error_message"))
	require.NotNil(t, left, r.str("error_message"))
	total, err := strconv.Atoi(left[1])
	require.NoError(t, err)
	require.GreaterOrEqual(t, total, 40000, "every bad item counts")
	require.Equal(t, strconv.Itoa(total-mockhttp.MaxErrorEntries), left[2])
}

// TestTenantLimit: beyond MaxTenants a new tenant gets the 429 naming the flag, while known
// tenants go on; a forgotten tenant makes room, and idle tenants are listed for forgetting.
func TestTenantLimit(t *testing.T) {
	t.Parallel()
	first := newHarness(t, withMaxTenants(2))
	second := first.withKey(newKey())
	third := first.withKey(newKey())
	require.Equal(t, http.StatusOK, first.authorize(oneTime(1000)).status)
	require.Equal(t, http.StatusOK, second.authorize(oneTime(1000)).status)

	refused := third.authorize(oneTime(1000))
	requireError(t, refused, http.StatusTooManyRequests, mockserver.CodeQuotaExceeded, "")
	require.Contains(t, refused.str("error_message"), "--max-tenants")
	requireError(t, third.do(http.MethodGet, "/mock/v1/accounts/"+third.account+"/journal", nil), http.StatusTooManyRequests, mockserver.CodeQuotaExceeded, "")
	require.Equal(t, http.StatusOK, first.authorize(oneTime(1000)).status, "known tenants are still served")

	// Only the tenant that called after the cutoff is not idle.
	srv := first.server()
	first.clock.Advance(time.Hour)
	require.Equal(t, http.StatusOK, second.authorize(oneTime(1000)).status)
	require.Equal(t, []string{first.tenantOf()}, srv.IdleTenants(testStart.Add(time.Minute)))

	srv.ForgetTenant(first.tenantOf())
	require.Equal(t, http.StatusOK, third.authorize(oneTime(1000)).status, "a forgotten tenant makes room")
	requireError(t, first.authorize(oneTime(1000)), http.StatusTooManyRequests, mockserver.CodeQuotaExceeded, "")
	require.Len(t, third.journal(""), 1, "the refused calls were not journaled")
}
