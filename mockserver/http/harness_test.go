package http_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts/contracttest"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// unknownID is a well-formed uuid no resource has, for ids that must not be found.
const unknownID = "00000000-0000-4000-8000-000000000000"

// testStart is where every test's manual clock starts.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// harness is the one way this package's tests reach the mock: a mock assembled by app.New, as
// the klarna-mock command and the testkit assemble it, served over HTTP on a manual clock. Each
// harness has its own API key, so tests never share state, and every JSON or journey response
// is checked against its contract.
type harness struct {
	t     *testing.T
	srv   *httptest.Server
	mock  *app.Mock
	clock *clock.Clock
	// client does not follow redirects, so tests see the journey's 303 to the merchant.
	client  *http.Client
	key     string
	account string
}

// option changes what the harness's mock is assembled from.
type option func(*app.Config)

// withAccounts accepts only the API keys of accounts.
func withAccounts(accounts *mockhttp.Accounts) option {
	return func(c *app.Config) { c.Accounts = accounts }
}

// withStaticWebhook has the mock send every event to url, signed with secret, as
// --webhook-url does.
func withStaticWebhook(url, secret string) option {
	return func(c *app.Config) { c.WebhookURL, c.WebhookSecret = url, secret }
}

// withMaxTenants admits at most n tenants, as --max-tenants does.
func withMaxTenants(n int) option {
	return func(c *app.Config) { c.MaxTenants = n }
}

func newHarness(t *testing.T, opts ...option) *harness {
	t.Helper()
	cfg := app.Config{Clock: clock.NewManual(testStart)}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := app.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(func() {
		srv.Close()
		// Bounded, so a webhook attempt to a stuck receiver cannot hang the suite.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = m.Close(ctx)
	})
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{
		t:       t,
		srv:     srv,
		mock:    m,
		clock:   cfg.Clock,
		client:  client,
		key:     newKey(),
		account: "krn:partner:global:account:test:TEST0001",
	}
}

func newKey() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "klarna_test_api_" + hex.EncodeToString(b)
}

// withKey is the same mock called with another API key.
func (h *harness) withKey(key string) *harness {
	c := *h
	c.key = key
	return &c
}

// withAccount is the same mock called on another partner account's paths.
func (h *harness) withAccount(account string) *harness {
	c := *h
	c.account = account
	return &c
}

// within is the same harness reporting to t, so a subtest's failures stop the subtest.
func (h *harness) within(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	body   string
	json   map[string]any
}

// get walks a dotted path (a.b.0.c) through the decoded JSON body.
func (r response) get(path string) any {
	var cur any = r.json
	for _, part := range strings.Split(path, ".") {
		switch v := cur.(type) {
		case map[string]any:
			cur = v[part]
		case []any:
			i := 0
			for _, c := range part {
				i = i*10 + int(c-'0')
			}
			if i >= len(v) {
				return nil
			}
			cur = v[i]
		default:
			return nil
		}
	}
	return cur
}

func (r response) str(path string) string {
	s, _ := r.get(path).(string)
	return s
}

// contractOf names the contract document that describes path, or "" for none.
func contractOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/mock/"), strings.HasPrefix(path, "/journey/"),
		path == "/healthz", path == "/readyz", path == "/metrics":
		return "mock-control.yaml"
	case strings.HasPrefix(path, "/v2/notification/"):
		return "klarna-notifications.yaml"
	case strings.Contains(path, "/identity/"):
		return "klarna-identity.yaml"
	case strings.HasPrefix(path, "/v2/"):
		return "klarna-payments.yaml"
	}
	return ""
}

// do sends a request with the harness's key and checks the response against its contract.
// A body is sent as JSON, or as the journey page's form when it is url.Values. headers are
// name, value pairs set after the defaults; an empty value removes the header.
func (h *harness) do(method, path string, body any, headers ...string) response {
	h.t.Helper()
	var rd io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case url.Values:
		rd, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		require.NoError(h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	require.NoError(h.t, err)
	req.Header.Set("Authorization", "Basic "+h.key)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := h.client.Do(req)
	require.NoError(h.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(h.t, err)
	out := response{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(h.t, json.Unmarshal(raw, &out.json), out.body)
	}
	require.NotEmpty(h.t, resp.Header.Get("Klarna-Correlation-Id"), "every response carries Klarna-Correlation-Id")
	// Answers for paths or methods no operation has cannot be checked against an operation.
	routeless := resp.StatusCode == http.StatusMethodNotAllowed || strings.HasPrefix(out.str("error_message"), "No route")
	if doc := contractOf(path); doc != "" && !routeless {
		contracttest.New(h.t, doc).Check(h.t, req, resp.StatusCode, resp.Header, raw)
	}
	return out
}

func (h *harness) path(suffix string) string {
	return "/v2/accounts/" + h.account + suffix
}

func (h *harness) authorize(body any, headers ...string) response {
	h.t.Helper()
	return h.do(http.MethodPost, h.path("/payment/authorize"), body, headers...)
}

// stepUp authorizes body, which must step up, and returns the Payment Request's id.
func (h *harness) stepUp(body any) string {
	h.t.Helper()
	r := h.authorize(body)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	id := r.str("payment_request.payment_request_id")
	require.NotEmpty(h.t, id, "the authorize must step up: %s", r.body)
	return id
}

// request reads a Payment Request through Klarna's API.
func (h *harness) request(id string) response {
	h.t.Helper()
	r := h.do(http.MethodGet, h.path("/payment/requests/"+id), nil)
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	return r
}

func (h *harness) state(id string) string {
	h.t.Helper()
	return h.request(id).str("state")
}

// cancel cancels a Payment Request through Klarna's API.
func (h *harness) cancel(id string) response {
	h.t.Helper()
	return h.do(http.MethodDelete, h.path("/payment/requests/"+id), nil)
}

// act drives the customer's side of the Purchase Journey through the mock's control API.
func (h *harness) act(paymentRequestID, action string) response {
	h.t.Helper()
	return h.do(http.MethodPost, "/mock/v1/payment-requests/"+paymentRequestID+"/"+action, nil)
}

// open opens the journey page as the customer's browser does.
func (h *harness) open(id string) response {
	h.t.Helper()
	return h.do(http.MethodGet, "/journey/"+id, nil)
}

// submit sends the journey page's form.
func (h *harness) submit(id string, form url.Values) response {
	h.t.Helper()
	return h.do(http.MethodPost, "/journey/"+id, form)
}

// startJourney steps up body and opens its journey page, leaving the Payment Request IN_PROGRESS
// for the customer's choice; it returns the request's id.
func (h *harness) startJourney(body any) string {
	h.t.Helper()
	id := h.stepUp(body)
	require.Equal(h.t, http.StatusOK, h.open(id).status)
	return id
}

// testToken mints a network session token of an identified, consenting customer.
func (h *harness) testToken(email string) string {
	h.t.Helper()
	body := map[string]any{}
	if email != "" {
		body["email"] = email
	}
	r := h.do(http.MethodPost, h.path("/interoperability/test-tokens"), body)
	require.Equal(h.t, http.StatusCreated, r.status, r.body)
	return r.str("interoperability_token")
}

// customerToken creates an approved customer token with scope, as an identified customer would.
func (h *harness) customerToken(scope, email string) string {
	h.t.Helper()
	r := h.authorize(tokenCreation(scope, false), "Klarna-Network-Session-Token", h.testToken(email))
	require.Equal(h.t, http.StatusOK, r.status, r.body)
	require.Equal(h.t, "APPROVED", r.str("customer_token_response.result"), r.body)
	return r.str("customer_token_response.customer_token.customer_token")
}

// completedRequest steps up a one-time payment and has the customer approve it, returning the
// request id and its network session token.
func (h *harness) completedRequest(amount int64) (id, nst string) {
	h.t.Helper()
	id = h.stepUp(oneTime(amount))
	done := h.act(id, "approve")
	require.Equal(h.t, "COMPLETED", done.str("state"), done.body)
	return id, done.str("state_context.klarna_network_session_token")
}

// requireError asserts a Klarna-shaped error with status, code and (when given) parameter.
func requireError(t *testing.T, r response, status int, code, parameter string) {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	require.Equal(t, code, r.str("error_code"), r.body)
	require.NotEmpty(t, r.str("error_id"))
	require.NotEmpty(t, r.str("error_type"))
	require.NotEmpty(t, r.str("error_message"))
	if parameter != "" {
		require.Equal(t, parameter, r.str("errors.0.parameter"), r.body)
	}
}

// rejection is a request the mock must refuse, and the Klarna error it must refuse it with.
type rejection struct {
	name         string
	method, path string
	body         any
	headers      []string
	status       int
	code         string
	// param is the errors[0].parameter the error must name; empty when it names none.
	param string
}

// requireRejections sends each request of cases as a subtest and asserts its error.
func (h *harness) requireRejections(cases []rejection) {
	h.t.Helper()
	for _, tc := range cases {
		h.t.Run(tc.name, func(t *testing.T) {
			r := h.within(t).do(tc.method, tc.path, tc.body, tc.headers...)
			requireError(t, r, tc.status, tc.code, tc.param)
		})
	}
}

// hookReceiver is a webhook endpoint. It keeps every delivery and answers 204, or 400 to one
// whose signature does not verify with its secret, when it has one.
type hookReceiver struct {
	url    string
	secret string
	mu     sync.Mutex
	hits   []received
}

// received is one delivery.
type received struct {
	body   []byte
	header http.Header
	// verified is true when the receiver has a secret and the signature verifies with it.
	verified bool
}

func newHookReceiver(t *testing.T, secret string) *hookReceiver {
	t.Helper()
	rc := &hookReceiver{secret: secret}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		hit := received{body: body, header: req.Header.Clone()}
		hit.verified = secret != "" && webhook.Verify([]byte(secret), body, req.Header.Get(webhook.HeaderSignature))
		rc.mu.Lock()
		rc.hits = append(rc.hits, hit)
		rc.mu.Unlock()
		if secret != "" && !hit.verified {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	rc.url = srv.URL
	return rc
}

// got is every delivery received so far, in order.
func (rc *hookReceiver) got() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.hits...)
}

// payloads are the payloads of the verified deliveries of event type typ so far, in order; of
// every type when typ is empty.
func (rc *hookReceiver) payloads(typ string) []map[string]any {
	var out []map[string]any
	for _, hit := range rc.got() {
		var e struct {
			Metadata webhook.EventMetadata `json:"metadata"`
			Payload  map[string]any        `json:"payload"`
		}
		if hit.verified && json.Unmarshal(hit.body, &e) == nil && (typ == "" || e.Metadata.EventType == typ) {
			out = append(out, e.Payload)
		}
	}
	return out
}

// rejected counts the deliveries whose signature did not verify.
func (rc *hookReceiver) rejected() int {
	n := 0
	for _, hit := range rc.got() {
		if !hit.verified {
			n++
		}
	}
	return n
}

// Request bodies used across tests.

// journeyReturnURL uses every placeholder Klarna fills in a return_url.
const journeyReturnURL = "https://merchant.example" + journeyReturnPath

// journeyReturnPath is the merchant's return page with every placeholder, on any host.
const journeyReturnPath = "/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}" +
	"&nst={klarna.payment_request.klarna_network_session_token}&ref={klarna.payment_request.payment_request_reference}"

func stepUpConfig(ref string) map[string]any {
	return map[string]any{
		"payment_request_reference": ref,
		"customer_interaction_config": map[string]any{
			"method":     "HANDOVER",
			"return_url": journeyReturnURL,
		},
	}
}

func purchase(amount int64, ref string) map[string]any {
	return map[string]any{"amount": amount, "payment_transaction_reference": ref}
}

func oneTime(amount int64) map[string]any {
	return map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": purchase(amount, "order-1"),
		"step_up_config":              stepUpConfig("pr-1"),
		"supplementary_purchase_data": map[string]any{
			"purchase_reference": "purchase-1",
			"line_items":         []any{map[string]any{"name": "Shoes", "quantity": 1, "total_amount": amount}},
			"customer":           map[string]any{"email": "jane@example.com"},
		},
	}
}

func tokenCreation(scope string, withPurchase bool) map[string]any {
	b := map[string]any{
		"currency":               "USD",
		"request_customer_token": map[string]any{"scopes": []string{scope}, "customer_token_reference": "ctr-1"},
		"step_up_config":         stepUpConfig("pr-tok"),
	}
	if withPurchase {
		b["request_payment_transaction"] = purchase(11800, "order-tok")
	}
	return b
}

// finalAuthorize is the authorize that follows the customer's approval, sent with the network session
// token: only what is bought, which must match the step-up.
func finalAuthorize(amount int64, currency string) map[string]any {
	return map[string]any{"currency": currency, "request_payment_transaction": purchase(amount, "order-1")}
}

// withInteractionExpiry sets the interaction_expiry of body's step_up_config.
func withInteractionExpiry(body map[string]any, expiry map[string]any) map[string]any {
	body["step_up_config"].(map[string]any)["customer_interaction_config"].(map[string]any)["interaction_expiry"] = expiry
	return body
}

func charge(amount int64, present bool, ref string) map[string]any {
	b := map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": purchase(amount, ref),
	}
	if present {
		b["step_up_config"] = stepUpConfig("pr-charge")
	}
	return b
}

func basic(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
