package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpclient"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// account is the partner account of the tests' API calls.
const account = "krn:partner:global:account:test:TEST0001"

// mock is a whole klarna-mock served over HTTP, as users run it.
type mock struct {
	t   *testing.T
	m   *app.Mock
	srv *httptest.Server
}

func newMock(t *testing.T) *mock {
	t.Helper()
	m, err := app.New(app.Config{Clock: clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(func() {
		m.Dashboard.Close()
		srv.Close()
		_, _ = m.Close(t.Context())
	})
	return &mock{t: t, m: m, srv: srv}
}

// reply is an answer, its body read.
type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &v), r.body)
	return v
}

// api calls the mock's API with key, and header's headers.
func (m *mock) api(key, method, path string, body any, header ...string) reply {
	m.t.Helper()
	req, err := httpclient.NewJSONRequest(m.t.Context(), method, m.srv.URL+path, body)
	require.NoError(m.t, err)
	req.Header.Set("Authorization", "Basic "+key)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(m.t, http.DefaultClient, req)
}

func do(t *testing.T, c *http.Client, req *http.Request) reply {
	t.Helper()
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// stepUp creates a Payment Request through the API (the magic amount 134.00 steps up) and
// returns its id.
func (m *mock) stepUp(key, reference string) string {
	m.t.Helper()
	r := m.api(key, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": map[string]any{"amount": 13400, "payment_transaction_reference": "tx-" + reference},
		"request_customer_token":      map[string]any{"scopes": []string{"payment:customer_not_present"}, "customer_token_reference": "ctr-" + reference},
		"step_up_config": map[string]any{
			"payment_request_reference":   reference,
			"customer_interaction_config": map[string]any{"method": "HANDOVER", "return_url": "https://shop.example/return"},
		},
	})
	require.Equal(m.t, http.StatusOK, r.status, r.body)
	pr := r.json(m.t)["payment_request"].(map[string]any)
	return pr["payment_request_id"].(string)
}

// approve completes a Payment Request through the control API and returns it.
func (m *mock) approve(key, id string) map[string]any {
	m.t.Helper()
	r := m.api(key, http.MethodPost, "/mock/v1/payment-requests/"+id+"/approve", nil)
	require.Equal(m.t, http.StatusOK, r.status, r.body)
	return r.json(m.t)
}

// charge steps up, approves and finalizes a purchase captured at once, as an Acquiring Partner
// does, and returns its transaction id.
func (m *mock) charge(key string) string {
	m.t.Helper()
	pr := m.approve(key, m.stepUp(key, "charge"))
	nst := pr["state_context"].(map[string]any)["klarna_network_session_token"].(string)
	r := m.api(key, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": map[string]any{"amount": 13400, "payment_transaction_reference": "tx-charge", "capture": "NOW"},
	}, "Klarna-Network-Session-Token", nst)
	require.Equal(m.t, http.StatusOK, r.status, r.body)
	ptr := r.json(m.t)["payment_transaction_response"].(map[string]any)
	require.Equal(m.t, "APPROVED", ptr["result"], r.body)
	return ptr["payment_transaction"].(map[string]any)["payment_transaction_id"].(string)
}

// receiver is a webhook receiver that answers the statuses it is given in turn, then 200.
type receiver struct {
	url      string
	mu       sync.Mutex
	statuses []int
	got      int
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	rc := &receiver{statuses: statuses}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rc.mu.Lock()
		status := http.StatusOK
		if rc.got < len(rc.statuses) {
			status = rc.statuses[rc.got]
		}
		rc.got++
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL + "/hooks"
	return rc
}

// webhook registers a webhook for every Payment Request event at url and returns its id.
func (m *mock) webhook(key, url string) string {
	m.t.Helper()
	r := m.api(key, http.MethodPost, "/v2/notification/signing-keys", map[string]any{})
	require.Equal(m.t, http.StatusCreated, r.status, r.body)
	keyID := r.json(m.t)["signing_key_id"].(string)
	r = m.api(key, http.MethodPost, "/v2/notification/webhooks", map[string]any{
		"url": url, "event_types": []string{"payment.request.state-change.*"}, "signing_key_id": keyID,
	})
	require.Equal(m.t, http.StatusCreated, r.status, r.body)
	return r.json(m.t)["webhook_id"].(string)
}

// browser is a signed-in dashboard user: a cookie jar, redirects not followed.
type browser struct {
	t    *testing.T
	m    *mock
	c    *http.Client
	csrf string
}

func (m *mock) browser() *browser {
	m.t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(m.t, err)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: m.t, m: m, c: c}
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// get fetches a dashboard page and remembers its CSRF token.
func (b *browser) get(path string) reply {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.m.srv.URL+path, nil)
	require.NoError(b.t, err)
	r := do(b.t, b.c, req)
	if m := csrfInput.FindStringSubmatch(r.body); m != nil {
		b.csrf = m[1]
	}
	return r
}

// post submits a form with the last page's CSRF token (unless form sets its own).
func (b *browser) post(path string, form url.Values) reply {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	req, err := http.NewRequest(http.MethodPost, b.m.srv.URL+path, strings.NewReader(form.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(b.t, b.c, req)
}

// signIn signs in with key through the form.
func (b *browser) signIn(key string) *browser {
	b.t.Helper()
	r := b.get("/dashboard/sign-in")
	require.Equal(b.t, http.StatusOK, r.status, r.body)
	r = b.post("/dashboard/sign-in", url.Values{"api_key": {key}})
	require.Equal(b.t, http.StatusSeeOther, r.status, r.body)
	require.Equal(b.t, "/dashboard", r.header.Get("Location"))
	r = b.get("/dashboard")
	require.Equal(b.t, http.StatusOK, r.status, r.body)
	return b
}

// signedIn is a browser signed in with key.
func (m *mock) signedIn(key string) *browser { return m.browser().signIn(key) }

// page fetches a page that must answer 200.
func (b *browser) page(path string) string {
	b.t.Helper()
	r := b.get(path)
	require.Equal(b.t, http.StatusOK, r.status, "%s: %s", path, r.body)
	return r.body
}

// act posts an action that must succeed, and returns the page it redirects to.
func (b *browser) act(path string, form url.Values) string {
	b.t.Helper()
	b.page("/dashboard") // every page carries the session's one CSRF token
	r := b.post(path, form)
	require.Equal(b.t, http.StatusSeeOther, r.status, "%s: %s", path, r.body)
	return b.page(r.header.Get("Location"))
}
