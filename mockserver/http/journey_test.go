package http_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// journeyReturnURL uses every placeholder Klarna fills in a return_url.
const journeyReturnURL = "https://merchant.example/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}" +
	"&nst={klarna.payment_request.klarna_network_session_token}&ref={klarna.payment_request.payment_request_reference}"

// journeyAccount is the partner account every journey test authorizes on; each test has its own
// API key, so their state is isolated anyway.
const journeyAccount = "krn:partner:global:account:test:JOURNEY1"

// journeyMock is a real mock served over HTTP for the Purchase Journey tests: requests are
// created through the authorize API with a unique test key, and the customer's side is driven
// through the journey page with a client that does not follow redirects.
type journeyMock struct {
	t      *testing.T
	url    string
	clock  *clock.Clock
	key    string
	client *http.Client
}

func newJourneyMock(t *testing.T) *journeyMock {
	t.Helper()
	c := clock.NewManual(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	m, err := app.New(app.Config{Clock: c})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &journeyMock{t: t, url: srv.URL, clock: c, key: "klarna_test_api_journey_" + hex.EncodeToString(b), client: client}
}

// journeyResult is an answer of the mock.
type journeyResult struct {
	status int
	header http.Header
	body   string
}

func (j *journeyMock) do(req *http.Request) journeyResult {
	j.t.Helper()
	resp, err := j.client.Do(req)
	require.NoError(j.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(j.t, err)
	return journeyResult{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// api calls Klarna's API with the test's key and decodes the JSON answer.
func (j *journeyMock) api(method, path string, body any) map[string]any {
	j.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(j.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, j.url+"/v2/accounts/"+journeyAccount+path, rd)
	require.NoError(j.t, err)
	req.Header.Set("Authorization", "Basic "+j.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	r := j.do(req)
	require.Equal(j.t, http.StatusOK, r.status, r.body)
	var out map[string]any
	require.NoError(j.t, json.Unmarshal([]byte(r.body), &out))
	return out
}

// stepUp authorizes body, which must step up, and returns the Payment Request.
func (j *journeyMock) stepUp(body map[string]any) map[string]any {
	j.t.Helper()
	resp := j.api(http.MethodPost, "/payment/authorize", body)
	pr, ok := resp["payment_request"].(map[string]any)
	require.True(j.t, ok, "the authorize must step up: %v", resp)
	return pr
}

// request reads a Payment Request through Klarna's API.
func (j *journeyMock) request(id string) map[string]any {
	j.t.Helper()
	return j.api(http.MethodGet, "/payment/requests/"+id, nil)
}

func (j *journeyMock) state(id string) string {
	j.t.Helper()
	s, _ := j.request(id)["state"].(string)
	return s
}

// open opens the journey page as the customer's browser does.
func (j *journeyMock) open(id string) journeyResult {
	j.t.Helper()
	req, err := http.NewRequest(http.MethodGet, j.url+"/journey/"+id, nil)
	require.NoError(j.t, err)
	return j.do(req)
}

// submit sends the page's form.
func (j *journeyMock) submit(id string, form url.Values) journeyResult {
	j.t.Helper()
	req, err := http.NewRequest(http.MethodPost, j.url+"/journey/"+id, strings.NewReader(form.Encode()))
	require.NoError(j.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return j.do(req)
}

func journeyConsentForm(action string) url.Values {
	return url.Values{"action": {action}, "consent": {"yes"}}
}

func journeyForm(action string) url.Values { return url.Values{"action": {action}} }

// journeyTokenPurchase is a token creation with a purchase: it always steps up, for the customer's
// consent.
func journeyTokenPurchase(reference, method, returnURL string) map[string]any {
	cic := map[string]any{"method": method}
	if returnURL != "" {
		cic["return_url"] = returnURL
	}
	return map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": map[string]any{"amount": 11800, "payment_transaction_reference": "order-42"},
		"request_customer_token":      map[string]any{"scopes": []string{"payment:customer_not_present"}, "customer_token_reference": "ctr-42"},
		"step_up_config": map[string]any{
			"payment_request_reference":   reference,
			"customer_interaction_config": cic,
		},
		"supplementary_purchase_data": map[string]any{
			"purchase_reference": "purchase-42",
			"line_items": []any{
				map[string]any{"name": "Running shoes", "quantity": 2, "total_amount": 10000},
				map[string]any{"name": "Socks", "quantity": 3, "total_amount": 1800},
			},
		},
	}
}

// journeyOneTime is a one-time payment without a network session token: it steps up by default.
func journeyOneTime(returnURL string) map[string]any {
	b := journeyTokenPurchase("pr-one-time", "HANDOVER", returnURL)
	delete(b, "request_customer_token")
	return b
}

func requireJourneyHTML(t *testing.T, r journeyResult, status int) {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	require.Contains(t, r.body, "<!doctype html>")
}

var journeyButtons = []string{`id="approve"`, `id="decline"`, `id="back-out"`, `id="abandon"`}

func requireJourneyButtons(t *testing.T, body string, want bool) {
	t.Helper()
	for _, b := range journeyButtons {
		if want {
			require.Contains(t, body, b)
		} else {
			require.NotContains(t, body, b)
		}
	}
}

// requireJourneyRedirect asserts a 303 and returns the Location's query.
func requireJourneyRedirect(t *testing.T, r journeyResult) url.Values {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "https", loc.Scheme)
	require.Equal(t, "merchant.example", loc.Host)
	require.Equal(t, "/return", loc.Path)
	return loc.Query()
}

func TestJourneyPageShowsThePurchaseAndOpensTheJourney(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	pr := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	id := pr["payment_request_id"].(string)
	ci := pr["state_context"].(map[string]any)["customer_interaction"].(map[string]any)
	require.Equal(t, j.url+"/journey/"+id, ci["payment_request_url"], "the page is the payment_request_url")
	require.Equal(t, "SUBMITTED", j.state(id))

	r := j.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	for _, want := range []string{
		"pr-42", "purchase-42", "118.00 USD",
		"Running shoes", "100.00 USD", "Socks", "18.00 USD",
		`data-state="IN_PROGRESS"`,
		"without you being present", "subscription renewals", "ctr-42",
		`id="consent"`, `name="consent"`, "required",
	} {
		require.Contains(t, r.body, want)
	}
	requireJourneyButtons(t, r.body, true)
	require.Equal(t, "IN_PROGRESS", j.state(id), "opening the page opens the journey")
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))

	again := j.open(id)
	requireJourneyHTML(t, again, http.StatusOK)
	require.Contains(t, again.body, `data-state="IN_PROGRESS"`, "an open journey is shown as it is")
	requireJourneyButtons(t, again.body, true)
}

func TestJourneyOneTimePaymentAsksNoConsent(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyOneTime(journeyReturnURL))["payment_request_id"].(string)
	r := j.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.NotContains(t, r.body, `id="consent"`)
	requireJourneyButtons(t, r.body, true)

	q := requireJourneyRedirect(t, j.submit(id, journeyForm("approve")))
	require.Equal(t, "COMPLETED", q.Get("state"))
	require.Equal(t, "COMPLETED", j.state(id))
}

func TestJourneyApproveWithoutConsentChangesNothing(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)

	for _, form := range []url.Values{journeyForm("approve"), {"action": {"approve"}, "consent": {"no"}}} {
		r := j.submit(id, form)
		requireJourneyHTML(t, r, http.StatusBadRequest)
		require.Contains(t, r.body, `id="error"`)
		require.Contains(t, r.body, "Tick the consent box")
		requireJourneyButtons(t, r.body, true)
		require.Equal(t, "IN_PROGRESS", j.state(id))
	}
	sc, _ := j.request(id)["state_context"].(map[string]any)
	require.NotContains(t, sc, "klarna_network_session_token")
}

func TestJourneyApproveRedirectsToTheFilledReturnURL(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	const reference = "Order #42 & co/ünï"
	id := j.stepUp(journeyTokenPurchase(reference, "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)

	r := j.submit(id, journeyConsentForm("approve"))
	q := requireJourneyRedirect(t, r)
	got := j.request(id)
	require.Equal(t, "COMPLETED", got["state"])
	sc := got["state_context"].(map[string]any)
	nst, _ := sc["klarna_network_session_token"].(string)
	require.True(t, strings.HasPrefix(nst, "krn:payment:eu1:klarna-network-session-token:"), nst)
	require.NotNil(t, sc["customer_token"], "the consented customer token is issued")

	require.Equal(t, id, q.Get("id"))
	require.Equal(t, "COMPLETED", q.Get("state"))
	require.Equal(t, nst, q.Get("nst"))
	require.Equal(t, reference, q.Get("ref"), "placeholders are escaped, so the reference comes back intact")
	loc := r.header.Get("Location")
	require.NotContains(t, loc, "{klarna.")
	require.Contains(t, loc, "id=krn%3Apayment%3Aeu1%3Arequest%3A")
	require.Contains(t, loc, "ref=Order%20%2342%20%26%20co%2F")

	again := j.open(id)
	requireJourneyHTML(t, again, http.StatusOK)
	require.Contains(t, again.body, `data-state="COMPLETED"`)
	requireJourneyButtons(t, again.body, false)
}

func TestJourneyApproveOpensASubmittedRequest(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	q := requireJourneyRedirect(t, j.submit(id, journeyConsentForm("approve")))
	require.Equal(t, "COMPLETED", q.Get("state"))
}

func TestJourneyDeclineRedirects(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)

	q := requireJourneyRedirect(t, j.submit(id, journeyForm("decline")))
	require.Equal(t, id, q.Get("id"))
	require.Equal(t, "DECLINED", q.Get("state"))
	require.Empty(t, q.Get("nst"), "a declined request has no network session token")
	require.Equal(t, "pr-42", q.Get("ref"))
	require.Equal(t, "DECLINED", j.state(id))
}

func TestJourneyBackOutReturnsToTheMerchant(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)

	q := requireJourneyRedirect(t, j.submit(id, journeyForm("back-out")))
	require.Equal(t, "SUBMITTED", q.Get("state"))
	require.Equal(t, "SUBMITTED", j.state(id))

	reopened := j.open(id)
	requireJourneyHTML(t, reopened, http.StatusOK)
	require.Contains(t, reopened.body, `data-state="IN_PROGRESS"`, "the merchant can send the customer back in")
	require.Equal(t, "IN_PROGRESS", j.state(id))
}

func TestJourneyAbandonLeavesTheRequestOpen(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)

	r := j.submit(id, journeyForm("abandon"))
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, "You left the journey")
	require.Contains(t, r.body, "stays IN_PROGRESS until it expires")
	requireJourneyButtons(t, r.body, false)
	require.Equal(t, "IN_PROGRESS", j.state(id))
}

func TestJourneyWithoutReturnURLShowsTheResult(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	for _, tc := range []struct{ action, state, heading string }{
		{"approve", "COMPLETED", "Purchase approved"},
		{"decline", "DECLINED", "Purchase declined"},
		{"back-out", "SUBMITTED", "You went back to the merchant"},
	} {
		id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", ""))["payment_request_id"].(string)
		j.open(id)
		r := j.submit(id, journeyConsentForm(tc.action))
		requireJourneyHTML(t, r, http.StatusOK)
		require.Contains(t, r.body, tc.heading)
		require.Contains(t, r.body, `data-state="`+tc.state+`"`)
		require.Contains(t, r.body, "close this window")
		requireJourneyButtons(t, r.body, false)
		require.Equal(t, tc.state, j.state(id))
	}
}

func TestJourneySDKModeIsOpenedByID(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	// An SDK request with a return_url still ends on the page: the SDK, not a redirect, takes the
	// customer back.
	pr := j.stepUp(journeyTokenPurchase("pr-sdk", "SDK", journeyReturnURL))
	id := pr["payment_request_id"].(string)
	ci := pr["state_context"].(map[string]any)["customer_interaction"].(map[string]any)
	require.Equal(t, "SDK", ci["method"])
	require.Equal(t, id, ci["payment_request_id"])
	require.NotContains(t, ci, "payment_request_url")

	r := j.open(ci["payment_request_id"].(string))
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, "pr-sdk")
	require.Contains(t, r.body, `data-state="IN_PROGRESS"`)
	require.Equal(t, "IN_PROGRESS", j.state(id))

	done := j.submit(id, journeyConsentForm("approve"))
	requireJourneyHTML(t, done, http.StatusOK)
	require.Empty(t, done.header.Get("Location"))
	require.Contains(t, done.body, "close this window")
	require.Contains(t, done.body, `data-state="COMPLETED"`)
	require.Equal(t, "COMPLETED", j.state(id))
}

func TestJourneyTerminalRequestShowsNoButtons(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)
	requireJourneyRedirect(t, j.submit(id, journeyForm("decline")))

	r := j.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, `data-state="DECLINED"`)
	require.Contains(t, r.body, "Purchase declined")
	requireJourneyButtons(t, r.body, false)
	require.NotContains(t, r.body, "<form")

	again := j.submit(id, journeyConsentForm("approve"))
	requireJourneyHTML(t, again, http.StatusConflict)
	require.Contains(t, again.body, `id="error"`)
	require.Equal(t, "DECLINED", j.state(id))
}

func TestJourneyCanceledRequest(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.api(http.MethodDelete, "/payment/requests/"+id, nil)

	r := j.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, `data-state="CANCELED"`)
	requireJourneyButtons(t, r.body, false)
	require.Equal(t, "CANCELED", j.state(id), "opening an ended request changes nothing")
}

func TestJourneyUnknownRequestIsAnHTMLNotFound(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	for _, id := range []string{"krn:payment:eu1:request:" + uuid.NewString(), "nonsense"} {
		r := j.open(id)
		requireJourneyHTML(t, r, http.StatusNotFound)
		require.Contains(t, r.body, "Payment request not found")
		require.Contains(t, r.body, id)
		require.NotContains(t, r.body, "<form")

		post := j.submit(id, journeyConsentForm("approve"))
		requireJourneyHTML(t, post, http.StatusNotFound)
		require.Contains(t, post.body, "Payment request not found")
	}
}

func TestJourneyRejectsAnUnknownAction(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)
	for _, form := range []url.Values{journeyForm("open"), journeyForm("pay-twice"), {}} {
		r := j.submit(id, form)
		requireJourneyHTML(t, r, http.StatusBadRequest)
		require.Contains(t, r.body, "unknown choice")
		requireJourneyButtons(t, r.body, true)
	}
	require.Equal(t, "IN_PROGRESS", j.state(id))
}

func TestJourneyExpiredRequestRefusesApproval(t *testing.T) {
	t.Parallel()
	j := newJourneyMock(t)
	id := j.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))["payment_request_id"].(string)
	j.open(id)
	j.clock.Advance(3*time.Hour + time.Second)
	require.Equal(t, "EXPIRED", j.state(id))

	r := j.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, `data-state="EXPIRED"`)
	require.Contains(t, r.body, "This purchase has expired")
	requireJourneyButtons(t, r.body, false)

	// The customer still had the page open and approves: the request expired meanwhile.
	late := j.submit(id, journeyConsentForm("approve"))
	requireJourneyHTML(t, late, http.StatusConflict)
	require.Contains(t, late.body, `id="error"`)
	require.Contains(t, late.body, "EXPIRED")
	require.Contains(t, late.body, `data-state="EXPIRED"`)
	requireJourneyButtons(t, late.body, false)
	require.Equal(t, "EXPIRED", j.state(id))
}
