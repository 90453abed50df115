package dashboard_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/dashboard"
)

const (
	keyA = "klarna_test_api_dashboard_a"
	keyB = "klarna_test_api_dashboard_b"
)

// waitFor bounds the waits for webhook attempts, which run on the notifier's workers: generous,
// for a machine busy with other tests.
const waitFor = 30 * time.Second

// pages are every page of the dashboard without an id.
var pages = []string{"/dashboard", "/dashboard/journal", "/dashboard/payment-requests", "/dashboard/transactions",
	"/dashboard/tokens", "/dashboard/webhooks", "/dashboard/clock", "/dashboard/rules", "/dashboard/faults"}

func TestRootRedirectsToTheDashboard(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	r := m.browser().get("/")
	require.Equal(t, http.StatusFound, r.status)
	require.Equal(t, "/dashboard", r.header.Get("Location"))
}

func TestSignedOutGoesToSignIn(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, "pr-signed-out")
	b := m.browser()
	for _, p := range append(pages, "/dashboard/payment-requests/"+id) {
		r := b.get(p)
		require.Equal(t, http.StatusSeeOther, r.status, p)
		require.Equal(t, "/dashboard/sign-in", r.header.Get("Location"), p)
	}
	r := b.post("/dashboard/payment-requests/"+id+"/approve", nil)
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, "/dashboard/sign-in", r.header.Get("Location"))
	require.Equal(t, http.StatusUnauthorized, b.get("/dashboard/events").status)
	require.Equal(t, "SUBMITTED", m.api(keyA, http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)["state"])
}

func TestSignInKeepsTheKeyInAStrictCookie(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.browser()
	r := b.get("/dashboard/sign-in")
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `<label for="api_key">API key</label>`)

	// A key the API would refuse is refused here too, with the API's reason.
	r = b.post("/dashboard/sign-in", url.Values{"api_key": {"not_a_test_key"}})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Contains(t, r.body, "klarna_test_api_")

	// A form without the sign-in page's token is refused.
	r = b.post("/dashboard/sign-in", url.Values{"api_key": {keyA}, "csrf": {"forged"}})
	require.Equal(t, http.StatusForbidden, r.status)

	b.get("/dashboard/sign-in")
	r = b.post("/dashboard/sign-in", url.Values{"api_key": {keyA}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	var session *http.Cookie
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "klarna_mock_dashboard" && c.Value != "" {
			session = c
		}
	}
	require.NotNil(t, session, "the session cookie is set")
	require.True(t, session.HttpOnly)
	require.Equal(t, http.SameSiteStrictMode, session.SameSite)
	require.Equal(t, "/dashboard", session.Path)
	require.False(t, session.Secure, "plain HTTP: a Secure cookie would never come back")
	require.NotContains(t, session.Value, keyA, "the key is encoded, not kept verbatim")
	require.Contains(t, b.page("/dashboard"), ">Overview</h1>")

	// Signing out needs the session's token, then forgets the cookie.
	require.Equal(t, http.StatusForbidden, b.post("/dashboard/sign-out", url.Values{"csrf": {"forged"}}).status)
	b.page("/dashboard")
	r = b.post("/dashboard/sign-out", nil)
	require.Equal(t, http.StatusSeeOther, r.status)
	require.Equal(t, http.StatusSeeOther, b.get("/dashboard").status, "signed out")
}

func TestSignInOverTLSSetsASecureCookie(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	get := httptest.NewRequest(http.MethodGet, "/dashboard/sign-in", nil)
	get.TLS = &tls.ConnectionState{}
	w := httptest.NewRecorder()
	m.m.Handler.ServeHTTP(w, get)
	pre := w.Result().Cookies()
	require.Len(t, pre, 1)
	require.True(t, pre[0].Secure)

	post := httptest.NewRequest(http.MethodPost, "/dashboard/sign-in", strings.NewReader(url.Values{"api_key": {keyA}, "csrf": {pre[0].Value}}.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.AddCookie(pre[0])
	post.TLS = &tls.ConnectionState{}
	w = httptest.NewRecorder()
	m.m.Handler.ServeHTTP(w, post)
	require.Equal(t, http.StatusSeeOther, w.Code, w.Body.String())
	for _, c := range w.Result().Cookies() {
		require.True(t, c.Secure, c.Name)
	}
}

func TestBasicAuthorizationSignsIn(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, "pr-basic")
	r := m.api(keyA, http.MethodGet, "/dashboard/payment-requests", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, id)
	r = m.api("bogus", http.MethodGet, "/dashboard", nil)
	require.Equal(t, http.StatusUnauthorized, r.status)
}

func TestPagesAreSelfContained(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.signedIn(keyA)
	for _, p := range pages {
		r := b.get(p)
		require.Equal(t, http.StatusOK, r.status, p)
		require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"), p)
		csp := r.header.Get("Content-Security-Policy")
		require.Contains(t, csp, "default-src 'none'", p)
		require.Contains(t, csp, "script-src 'self'", p)
		require.NotContains(t, csp, "unsafe-inline", p)
		require.NotContains(t, r.body, "<script>", "no inline script on %s", p)
		require.NotContains(t, r.body, "style=", "no inline style on %s", p)
		require.NotContains(t, r.body, "http://", "nothing from elsewhere on %s", p)
		require.Contains(t, r.body, `<html lang="en">`, p)
		require.Contains(t, r.body, `name="viewport"`, p)
	}
	for _, f := range []string{"/dashboard/static/app.css", "/dashboard/static/app.js"} {
		r := b.get(f)
		require.Equal(t, http.StatusOK, r.status, f)
	}
	require.Equal(t, http.StatusNotFound, b.get("/dashboard/static/nope.js").status)
	require.Equal(t, http.StatusNotFound, b.get("/dashboard/nope").status)
	require.Equal(t, http.StatusNotFound, b.get("/dashboard/payment-requests/x/approve").status, "actions are forms")
	css := b.get("/dashboard/static/app.css")
	require.Contains(t, css.header.Get("Content-Type"), "text/css")
}

func TestEverythingIsEscaped(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, `<script>alert("x")</script>`)
	b := m.signedIn(keyA)
	for _, p := range []string{"/dashboard/payment-requests", "/dashboard/payment-requests/" + id, "/dashboard"} {
		body := b.page(p)
		require.NotContains(t, body, `<script>alert`, p)
		require.Contains(t, body, `&lt;script&gt;`, p)
	}
}

func TestJournalShowsWhatWasSentAndFilters(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	m.stepUp(keyA, "pr-journal")
	r := m.api(keyA, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{"currency": "USD", "surprise": true,
		"request_payment_transaction": map[string]any{"amount": 100}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	m.api(keyA, http.MethodGet, "/v2/accounts/"+account+"/payment/requests/krn:payment:eu1:request:00000000-0000-4000-8000-000000000000", nil)
	b := m.signedIn(keyA)

	body := b.page("/dashboard/journal")
	require.Contains(t, body, "Showing 3 of 3 calls")
	require.Contains(t, body, "step-up amount 134.00", "the rule that decided")
	require.Contains(t, body, "undocumented field", "the contract check's warning")
	require.Contains(t, body, "&#34;pr-journal&#34;", "the request body")
	require.Contains(t, body, "&#34;STEP_UP_REQUIRED&#34;", "the answer")
	require.Contains(t, body, "&#34;NOT_FOUND&#34;", "the refused call's answer")

	require.Contains(t, b.page("/dashboard/journal?status=4xx"), "Showing 1 of 3")
	require.Contains(t, b.page("/dashboard/journal?method=GET"), "Showing 1 of 3")
	require.Contains(t, b.page("/dashboard/journal?q=pr-journal"), "Showing 1 of 3")
	require.Contains(t, b.page("/dashboard/journal?warnings=1"), "Showing 1 of 3")

	// Another tenant's journal is its own.
	require.Contains(t, m.signedIn(keyB).page("/dashboard/journal"), "Showing 0 of 0")
}

func TestPaymentRequestActions(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.signedIn(keyA)
	for i, tc := range []struct {
		actions []string
		state   string
	}{
		{[]string{"open"}, "IN_PROGRESS"},
		{[]string{"approve"}, "COMPLETED"},
		{[]string{"decline"}, "DECLINED"},
		{[]string{"open", "back-out"}, "SUBMITTED"},
		{[]string{"abandon"}, "IN_PROGRESS"},
		{[]string{"cancel"}, "CANCELED"},
		{[]string{"approve", "cancel"}, "CANCELED"},
	} {
		id := m.stepUp(keyA, "pr-actions-"+strconv.Itoa(i)) // a reference saying "decline" would be declined
		var page string
		for _, a := range tc.actions {
			page = b.act("/dashboard/payment-requests/"+id+"/"+a, nil)
		}
		require.Contains(t, page, `data-state="`+tc.state+`"`, tc.actions)
		require.Contains(t, page, `id="notice"`, tc.actions)
		got := m.api(keyA, http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)
		require.Equal(t, tc.state, got["state"], tc.actions)
	}

	// A move the state machine does not allow is the API's 409, shown on a page.
	id := m.stepUp(keyA, "pr-conflict")
	b.act("/dashboard/payment-requests/"+id+"/decline", nil)
	r := b.post("/dashboard/payment-requests/"+id+"/approve", nil)
	require.Equal(t, http.StatusConflict, r.status)
	require.Contains(t, r.body, `id="error"`)
	require.Equal(t, http.StatusBadRequest, b.post("/dashboard/payment-requests/"+id+"/dance", nil).status)

	// The page shows the timeline and offers only what is possible.
	id = m.stepUp(keyA, "pr-timeline")
	page := b.page("/dashboard/payment-requests/" + id)
	require.Contains(t, page, `id="action-approve"`)
	require.NotContains(t, page, `id="action-back-out"`, "only an open journey backs out")
	require.Contains(t, page, "expires unless completed first")
	page = b.act("/dashboard/payment-requests/"+id+"/approve", nil)
	require.Contains(t, page, "approved by the customer")
	require.Contains(t, page, `id="action-cancel"`, "a completed request can still be canceled")

	require.Contains(t, b.page("/dashboard/payment-requests?state=COMPLETED"), id)
	require.NotContains(t, b.page("/dashboard/payment-requests?state=DECLINED"), id)
}

func TestTransactionsShowCapturesAndRefunds(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.charge(keyA)
	r := m.api(keyA, http.MethodPost, "/v2/accounts/"+account+"/payment/transactions/"+id+"/refunds", map[string]any{"refunded_amount": 1800})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	b := m.signedIn(keyA)
	require.Contains(t, b.page("/dashboard/transactions"), id)
	page := b.page("/dashboard/transactions/" + id)
	require.Contains(t, page, "134.00 USD")
	require.Contains(t, page, "18.00 USD")
	require.Contains(t, page, "krn:payment:eu1:capture:")
	require.Contains(t, page, "krn:payment:eu1:refund:")
}

func TestRevokeCustomerToken(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	pr := m.approve(keyA, m.stepUp(keyA, "pr-token"))
	token := pr["state_context"].(map[string]any)["klarna_customer"].(map[string]any)["customer_token"].(string)
	b := m.signedIn(keyA)
	require.Contains(t, b.page("/dashboard/tokens"), token)
	page := b.act("/dashboard/tokens/"+token+"/revoke", nil)
	require.Contains(t, page, "REVOKED")
	got := m.api(keyA, http.MethodGet, "/mock/v1/accounts/"+account+"/customer-tokens/"+token, nil).json(t)
	require.Equal(t, "REVOKED", got["status"])
	require.Equal(t, http.StatusConflict, b.post("/dashboard/tokens/"+token+"/revoke", nil).status, "already revoked")
}

func TestAdvanceClock(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, "pr-clock")
	b := m.signedIn(keyA)
	page := b.act("/dashboard/clock", url.Values{"duration": {"PT4H"}})
	require.Contains(t, page, `id="clock-offset">4h0m0s<`)
	require.Equal(t, "EXPIRED", m.api(keyA, http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)["state"],
		"moving the clock fires the tenant's expiries")
	require.Equal(t, "4h0m0s", m.api(keyA, http.MethodGet, "/mock/v1/clock", nil).json(t)["offset"])
	require.Equal(t, "0s", m.api(keyB, http.MethodGet, "/mock/v1/clock", nil).json(t)["offset"], "another tenant's clock stays")
	for _, bad := range []string{"-1h", "soon", ""} {
		r := b.post("/dashboard/clock", url.Values{"duration": {bad}})
		require.Equal(t, http.StatusBadRequest, r.status, bad)
		require.Contains(t, r.body, "duration", bad)
	}
}

func TestRulesAreEditedWithTheAPIsChecks(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.signedIn(keyA)
	require.Contains(t, b.page("/dashboard/rules"), "step-up amount 134.00")

	bad := "version: 1\nrules:\n  - name: broken\n    then:\n      result: MAYBE\n"
	r := b.post("/dashboard/rules", url.Values{"document": {bad}, "format": {"yaml"}})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.body, "line 5")
	require.Contains(t, r.body, "result: MAYBE", "the document comes back to fix")
	require.Equal(t, true, m.api(keyA, http.MethodGet, "/mock/v1/rules", nil).json(t)["defaults"], "a bad document changes nothing")

	good := "version: 1\nrules:\n  - name: dashboard decline\n    when:\n      amount: 4200\n    then:\n      result: DECLINED\n"
	page := b.act("/dashboard/rules", url.Values{"document": {good}, "format": {"yaml"}})
	require.Contains(t, page, "dashboard decline")
	rules := m.api(keyA, http.MethodGet, "/mock/v1/rules", nil).json(t)
	require.Equal(t, false, rules["defaults"])
	require.Equal(t, true, m.api(keyB, http.MethodGet, "/mock/v1/rules", nil).json(t)["defaults"], "only the tenant's own")

	page = b.act("/dashboard/rules/delete", nil)
	require.NotContains(t, page, "dashboard decline")
	require.Equal(t, true, m.api(keyA, http.MethodGet, "/mock/v1/rules", nil).json(t)["defaults"])
}

func TestFaultsAreAddedWithTheAPIsChecks(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.signedIn(keyA)
	require.Contains(t, b.page("/dashboard/faults"), "No faults")

	r := b.post("/dashboard/faults", url.Values{"effect": {"error"}})
	require.Equal(t, http.StatusBadRequest, r.status, "no operations")
	require.Contains(t, r.body, "operations")
	r = b.post("/dashboard/faults", url.Values{"operations": {"authorize"}, "effect": {"error"}, "status": {"418"}})
	require.Equal(t, http.StatusBadRequest, r.status, "a status faults do not answer")

	page := b.act("/dashboard/faults", url.Values{"operations": {"authorize"}, "effect": {"error"}, "status": {"503"}, "count": {"2"}, "description": {"flaky"}})
	require.Contains(t, page, "flaky")
	list := m.api(keyA, http.MethodGet, "/mock/v1/faults", nil).json(t)["faults"].([]any)
	require.Len(t, list, 1)
	id := list[0].(map[string]any)["fault_id"].(string)
	require.Empty(t, m.api(keyB, http.MethodGet, "/mock/v1/faults", nil).json(t)["faults"], "only the tenant's own")

	r = m.api(keyA, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 100}})
	require.Equal(t, http.StatusServiceUnavailable, r.status, "the fault fires")
	require.Contains(t, b.page("/dashboard/faults"), `<td class="num">1</td>`, "fired once")
	require.Contains(t, b.page("/dashboard/journal?status=5xx"), id, "the journal names the fault that hit the call")

	b.act("/dashboard/faults/"+id+"/delete", nil)
	require.Empty(t, m.api(keyA, http.MethodGet, "/mock/v1/faults", nil).json(t)["faults"])

	b.act("/dashboard/faults", url.Values{"operations": {"all"}, "effect": {"latency"}, "latency_ms": {"1"}})
	b.act("/dashboard/faults", url.Values{"operations": {"tokens"}, "effect": {"drop"}})
	b.act("/dashboard/faults/delete", nil)
	require.Empty(t, m.api(keyA, http.MethodGet, "/mock/v1/faults", nil).json(t)["faults"])
}

// faultsOf lists the tenant's faults through the API, oldest first.
func (m *mock) faultsOf(key string) []map[string]any {
	m.t.Helper()
	return m.listed(key, "/mock/v1/faults", "faults")
}

func TestFaultIsEditedByReplacingIt(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	r := m.api(keyA, http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"authorize", "tokens"}, "effect": "error",
		"status": 429, "retry_after": 2, "count": 3, "when": map[string]any{"amount": 100}, "description": "before"})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	old := r.json(t)["fault_id"].(string)
	r = m.api(keyA, http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"presentation"}, "effect": "latency", "latency_ms": 1})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	other := r.json(t)["fault_id"].(string)
	r = m.api(keyA, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 100}})
	require.Equal(t, http.StatusTooManyRequests, r.status, "the fault fires once")

	b := m.signedIn(keyA)
	require.Contains(t, b.page("/dashboard/faults"), `href="/dashboard/faults/`+old+`"`, "each fault links to its edit form")
	page := b.page("/dashboard/faults/" + old)
	for _, filled := range []string{`action="/dashboard/faults/` + old + `"`, `value="authorize" checked`, `value="tokens" checked`,
		`<option selected>error</option>`, `<option selected>429</option>`, `name="retry_after" min="0" value="2"`,
		`name="count" min="0" value="3"`, `>{&#34;amount&#34;:100}</textarea>`, `value="before"`, "fired so far: 1; remaining: 2"} {
		require.Contains(t, page, filled, "the form shows the fault's definition")
	}
	require.NotContains(t, page, `value="presentation" checked`)

	// A refused edit changes nothing, and comes back as it was typed.
	r = b.post("/dashboard/faults/"+old, url.Values{"operations": {"authorize"}, "effect": {"error"}, "status": {"418"}, "description": {"typo"}})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.body, "status")
	require.Contains(t, r.body, `value="typo"`)
	list := m.faultsOf(keyA)
	require.Len(t, list, 2)
	require.Equal(t, []any{old, "before", 1.0}, []any{list[0]["fault_id"], list[0]["description"], list[0]["fired"]})

	page = b.act("/dashboard/faults/"+old, url.Values{"operations": {"authorize"}, "effect": {"error"}, "status": {"503"}, "count": {"2"}, "description": {"after"}})
	require.Contains(t, page, "replaced by its edited version")
	list = m.faultsOf(keyA)
	require.Len(t, list, 2)
	require.Equal(t, other, list[0]["fault_id"], "the edited fault is the newest, tried last")
	edited := list[1]
	require.NotEqual(t, old, edited["fault_id"])
	require.Equal(t, []any{"after", 503.0, 2.0, 0.0, 2.0}, []any{edited["description"], edited["status"], edited["count"], edited["fired"], edited["remaining"]})
	require.Nil(t, edited["when"])
	require.Equal(t, http.StatusNotFound, b.get("/dashboard/faults/"+old).status, "the old fault is gone")
	require.Equal(t, http.StatusNotFound, b.post("/dashboard/faults/"+old, url.Values{"operations": {"all"}, "effect": {"drop"}}).status)
	require.Len(t, m.faultsOf(keyA), 2, "editing a fault that is gone adds nothing")

	// A seed the mock picked, any int64, comes back in the form and saves as it was.
	r = m.api(keyA, http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"tokens"}, "effect": "drop", "probability": 0.5})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	seeded := r.json(t)["fault_id"].(string)
	seed := regexp.MustCompile(`name="seed" value="(-?[0-9]+)"`).FindStringSubmatch(b.page("/dashboard/faults/" + seeded))
	require.NotNil(t, seed, "the seed is in the form")
	require.Contains(t, r.body, `"seed":`+seed[1]+",")
	r = b.post("/dashboard/faults/"+seeded, url.Values{"operations": {"tokens"}, "effect": {"drop"}, "probability": {"0.5"}, "seed": {seed[1]}})
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	require.Contains(t, m.api(keyA, http.MethodGet, "/mock/v1/faults", nil).body, `"seed":`+seed[1]+",")
}

func TestWebhooksShowDeliveriesAttemptByAttempt(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	rc := newReceiver(t, http.StatusInternalServerError)
	hook := m.webhook(keyA, rc.url)
	id := m.stepUp(keyA, "pr-webhook")
	b := m.signedIn(keyA)
	require.Eventually(t, func() bool {
		return strings.Contains(b.page("/dashboard/webhooks/"+hook), "1 attempt")
	}, waitFor, 20*time.Millisecond, "the first attempt failed")
	page := b.page("/dashboard/webhooks/" + hook)
	require.Contains(t, page, "payment.request.state-change.submitted")
	require.Contains(t, page, ">500<")
	require.Contains(t, b.page("/dashboard/webhooks"), rc.url)
	require.Contains(t, b.page("/dashboard/payment-requests/"+id), "payment.request.state-change.submitted", "the request's own deliveries")

	// The retry falls due when the tenant's clock moves.
	b.act("/dashboard/clock", url.Values{"duration": {"10s"}})
	require.Eventually(t, func() bool {
		return strings.Contains(b.page("/dashboard/webhooks/"+hook), `data-state="DELIVERED"`)
	}, waitFor, 20*time.Millisecond)
	require.Contains(t, b.page("/dashboard/webhooks/"+hook), "2 attempts")
	require.Contains(t, b.page("/dashboard"), "payment.request.state-change.submitted", "the overview's recent deliveries")
}

// deliveriesOf lists a webhook's deliveries through the API, newest first.
func (m *mock) deliveriesOf(key, hook string) []map[string]any {
	m.t.Helper()
	return m.listed(key, "/mock/v1/webhooks/"+hook+"/deliveries", "deliveries")
}

// listed is the list field of what GET path answers key.
func (m *mock) listed(key, path, field string) []map[string]any {
	m.t.Helper()
	r := m.api(key, http.MethodGet, path, nil)
	require.Equal(m.t, http.StatusOK, r.status, r.body)
	var out []map[string]any
	for _, v := range r.json(m.t)[field].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func TestFailedDeliveryIsRedelivered(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	rc := newReceiver(t, http.StatusServiceUnavailable)
	hook := m.webhook(keyA, rc.url)
	m.stepUp(keyA, "pr-redeliver")
	require.Eventually(t, func() bool {
		ds := m.deliveriesOf(keyA, hook)
		return len(ds) == 1 && len(ds[0]["attempts"].([]any)) == 1
	}, waitFor, 20*time.Millisecond)
	failed := m.deliveriesOf(keyA, hook)[0]["delivery_id"].(string)

	b := m.signedIn(keyA)
	page := b.act("/dashboard/deliveries/"+failed+"/redeliver", nil)
	require.Contains(t, page, "A new delivery of the event is on its way.")
	require.Eventually(t, func() bool {
		ds := m.deliveriesOf(keyA, hook)
		return len(ds) == 2 && ds[0]["state"] == "DELIVERED"
	}, waitFor, 20*time.Millisecond, "the redelivery went out at once")
	require.Equal(t, http.StatusNotFound, b.post("/dashboard/deliveries/krn:partner:global:notification:delivery:00000000-0000-4000-8000-000000000000/redeliver", nil).status)
}

func TestPauseAndResumeDeliveries(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	rc := newReceiver(t)
	hook := m.webhook(keyA, rc.url)
	b := m.signedIn(keyA)
	page := b.act("/dashboard/deliveries/pause", nil)
	require.Contains(t, page, `id="paused">paused<`)
	require.Equal(t, true, m.api(keyA, http.MethodGet, "/mock/v1/deliveries/status", nil).json(t)["paused"])
	require.Equal(t, false, m.api(keyB, http.MethodGet, "/mock/v1/deliveries/status", nil).json(t)["paused"], "only the tenant's own")

	m.stepUp(keyA, "pr-paused")
	require.Eventually(t, func() bool { return len(m.deliveriesOf(keyA, hook)) == 1 }, waitFor, 20*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	require.Empty(t, m.deliveriesOf(keyA, hook)[0]["attempts"], "paused: no attempt")

	page = b.act("/dashboard/deliveries/resume", nil)
	require.Contains(t, page, `id="paused">running<`)
	require.Eventually(t, func() bool { return m.deliveriesOf(keyA, hook)[0]["state"] == "DELIVERED" }, waitFor, 20*time.Millisecond)
}

func TestAnotherTenantsIDsAreNotFound(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	rc := newReceiver(t)
	hook := m.webhook(keyA, rc.url)
	id := m.stepUp(keyA, "pr-mine")
	pr := m.approve(keyA, m.stepUp(keyA, "pr-token-mine"))
	token := pr["state_context"].(map[string]any)["klarna_customer"].(map[string]any)["customer_token"].(string)
	tx := m.charge(keyA)
	r := m.api(keyA, http.MethodPost, "/mock/v1/faults", map[string]any{"operations": []string{"presentation"}, "effect": "error"})
	require.Equal(t, http.StatusCreated, r.status, r.body)
	fault := r.json(t)["fault_id"].(string)
	require.Eventually(t, func() bool { return len(m.deliveriesOf(keyA, hook)) > 0 }, waitFor, 20*time.Millisecond)
	delivery := m.deliveriesOf(keyA, hook)[0]["delivery_id"].(string)

	b := m.signedIn(keyB)
	for _, p := range []string{"/dashboard/payment-requests/" + id, "/dashboard/transactions/" + tx, "/dashboard/webhooks/" + hook, "/dashboard/faults/" + fault} {
		require.Equal(t, http.StatusNotFound, b.get(p).status, p)
	}
	for _, p := range []string{"/dashboard/payment-requests/" + id + "/approve", "/dashboard/payment-requests/" + id + "/cancel",
		"/dashboard/tokens/" + token + "/revoke", "/dashboard/faults/" + fault, "/dashboard/faults/" + fault + "/delete",
		"/dashboard/deliveries/" + delivery + "/redeliver"} {
		b.page("/dashboard")
		require.Equal(t, http.StatusNotFound, b.post(p, nil).status, p)
	}
	for _, p := range pages {
		body := b.page(p)
		for _, mine := range []string{id, tx, token, hook, fault, delivery} {
			require.NotContains(t, body, mine, "%s shows only the tenant's own", p)
		}
	}
	require.Equal(t, "SUBMITTED", m.api(keyA, http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)["state"])
	require.Equal(t, "ACTIVE", m.api(keyA, http.MethodGet, "/mock/v1/accounts/"+account+"/customer-tokens/"+token, nil).json(t)["status"])
	require.Len(t, m.api(keyA, http.MethodGet, "/mock/v1/faults", nil).json(t)["faults"], 1)
}

func TestActionsNeedTheFormsToken(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, "pr-csrf")
	b := m.signedIn(keyA)
	for _, p := range []string{"/dashboard/payment-requests/" + id + "/approve", "/dashboard/clock", "/dashboard/rules",
		"/dashboard/rules/delete", "/dashboard/faults", "/dashboard/faults/x", "/dashboard/faults/delete", "/dashboard/tokens/x/revoke",
		"/dashboard/deliveries/x/redeliver", "/dashboard/deliveries/pause", "/dashboard/deliveries/resume", "/dashboard/sign-out"} {
		require.Equal(t, http.StatusForbidden, b.post(p, url.Values{"csrf": {""}}).status, p)
		require.Equal(t, http.StatusForbidden, b.post(p, url.Values{"csrf": {"0123456789abcdef0123456789abcdef"}}).status, p)
	}
	// Another tenant's token does not do either.
	other := m.signedIn(keyB)
	require.Equal(t, http.StatusForbidden, b.post("/dashboard/payment-requests/"+id+"/approve", url.Values{"csrf": {other.csrf}}).status)

	// A form from another origin is refused even with the token.
	b.page("/dashboard")
	req, err := http.NewRequest(http.MethodPost, m.srv.URL+"/dashboard/payment-requests/"+id+"/approve", strings.NewReader(url.Values{"csrf": {b.csrf}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	require.Equal(t, http.StatusForbidden, do(t, b.c, req).status)

	// A request signed in by its Authorization header needs the token too: a browser sends
	// cached Basic credentials by itself.
	req, err = http.NewRequest(http.MethodPost, m.srv.URL+"/dashboard/payment-requests/"+id+"/approve", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+keyA)
	require.Equal(t, http.StatusForbidden, do(t, http.DefaultClient, req).status)
	require.Equal(t, "SUBMITTED", m.api(keyA, http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)["state"])
}

func TestEventsTellWhatChanged(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.signedIn(keyA)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.srv.URL+"/dashboard/events", nil)
	require.NoError(t, err)
	resp, err := b.c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	lines := bufio.NewScanner(resp.Body)
	require.True(t, lines.Scan())
	require.Equal(t, "retry: 1000", lines.Text())

	m.stepUp(keyB, "pr-someone-else") // another tenant's changes are not told
	id := m.stepUp(keyA, "pr-live")
	var got []string
	for lines.Scan() && len(got) < 2 {
		if data, ok := strings.CutPrefix(lines.Text(), "data: "); ok {
			got = append(got, data)
		}
	}
	require.Equal(t, []string{`{"kind":"payment_request","id":"` + id + `"}`, `{"kind":"journal"}`}, got)
}

func TestJourneyPageLinksToTheDashboard(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	id := m.stepUp(keyA, "pr-link")
	req, err := http.NewRequest(http.MethodGet, m.srv.URL+"/journey/"+id, nil)
	require.NoError(t, err)
	r := do(t, http.DefaultClient, req)
	require.Equal(t, http.StatusOK, r.status)
	require.Contains(t, r.body, `href="/dashboard"`)
}

func TestEventStreamsAreBoundedAndEndOnClose(t *testing.T) {
	t.Parallel()
	m := newMock(t)
	b := m.signedIn(keyA)
	open := func() *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, m.srv.URL+"/dashboard/events", nil)
		require.NoError(t, err)
		resp, err := b.c.Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	var streams []*http.Response
	for range dashboard.MaxWatchersPerTenant {
		resp := open()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		streams = append(streams, resp)
	}
	require.Equal(t, http.StatusTooManyRequests, open().StatusCode, "one stream too many for the tenant")
	require.Equal(t, http.StatusOK, func() int {
		other := m.signedIn(keyB)
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, m.srv.URL+"/dashboard/events", nil)
		require.NoError(t, err)
		resp, err := other.c.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		return resp.StatusCode
	}(), "another tenant has streams of its own")

	m.m.Dashboard.Close() // as a server about to shut down does
	for _, resp := range streams {
		_, err := io.ReadAll(resp.Body) // ends: the stream is closed
		require.NoError(t, err)
	}
}
