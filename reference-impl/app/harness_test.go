package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/contracttest"
	mockapp "github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/partnerhook"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// The harness runs the acquirer (app.New behind httptest) against an in-process klarna-mock,
// with a fake Partner receiving the acquirer's webhooks. Every acquirer response goes through the
// contract checker of contracts/acquirer.yaml.

const klarnaAccount = "krn:partner:global:account:test:REFTEST1"

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// partnerEvent is a webhook the fake Partner received.
type partnerEvent struct {
	EventID   string          `json:"event_id"`
	EventType string          `json:"event_type"`
	PartnerID string          `json:"partner_id"`
	Data      json.RawMessage `json:"data"`
}

// fakePartner is a Partner's webhook endpoint: it checks every signature and records the events.
type fakePartner struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events []partnerEvent
}

func (p *fakePartner) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	require.NoError(p.t, err)
	if !signature.Verify(p.secret, body, r.Header.Get(partnerhook.HeaderSignature)) {
		p.t.Errorf("partner webhook with a bad AP-Signature: %s", body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	require.NoError(p.t, checkPartnerEvent(body), "the webhook body matches PartnerEvent in acquirer.yaml: %s", body)
	var e partnerEvent
	require.NoError(p.t, json.Unmarshal(body, &e))
	require.Equal(p.t, e.EventID, r.Header.Get(partnerhook.HeaderEventID))
	require.Equal(p.t, e.EventType, r.Header.Get(partnerhook.HeaderEventType))
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// partnerEventSchema is the PartnerEvent schema of the contract. OpenAPI 3.0 has no webhooks
// section, so the contract checker cannot see these bodies; kin-openapi checks them against the
// schema directly.
var partnerEventSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	spec, err := contracts.Files.ReadFile("acquirer.yaml")
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, err
	}
	return doc.Components.Schemas["PartnerEvent"].Value, nil
})

func checkPartnerEvent(body []byte) error {
	schema, err := partnerEventSchema()
	if err != nil {
		return err
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	return schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.EnableFormatValidation())
}

// received returns the events of a type about one session, charge or token (by id).
func (p *fakePartner) received(eventType, id string) []partnerEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []partnerEvent
	for _, e := range p.events {
		if e.EventType != eventType {
			continue
		}
		var d struct {
			ID            string `json:"id"`
			CustomerToken string `json:"customer_token"`
			SessionID     string `json:"session_id"`
		}
		_ = json.Unmarshal(e.Data, &d)
		if d.ID == id || d.SessionID == id || (eventType == string(acquirer.EventTokenCreated) && d.CustomerToken == id) {
			out = append(out, e)
		}
	}
	return out
}

// await waits for the first event of a type about id.
func (p *fakePartner) await(t *testing.T, eventType, id string) partnerEvent {
	t.Helper()
	var got []partnerEvent
	require.Eventually(t, func() bool {
		got = p.received(eventType, id)
		return len(got) > 0
	}, 10*time.Second, 10*time.Millisecond, "no %s webhook about %s", eventType, id)
	return got[0]
}

// eventData decodes the data of a Partner webhook.
func eventData[T any](t *testing.T, e partnerEvent) T {
	t.Helper()
	return decode[T](t, e.Data)
}

// delivery is a Klarna webhook the acquirer received.
type delivery struct {
	header http.Header
	body   []byte
}

// env is one acquirer with its mock and Partner.
type env struct {
	t       *testing.T
	mockURL string
	apURL   string
	app     *app.App
	partner *fakePartner
	client  *http.Client
	apiKey  string
	// klarnaAPIKey is the acquirer's Klarna key: calls to the mock with it see the acquirer's
	// state (the mock isolates every key's state).
	klarnaAPIKey string
	// klarnaSecret signs the mock's static webhook ("" when the acquirer registered its own).
	klarnaSecret string
	klarnaMu     sync.Mutex
	klarna       []delivery
	// klarnaDown makes the acquirer's door answer Klarna's webhooks 503 (still recording them),
	// as if the acquirer could not be reached.
	klarnaDown atomic.Bool
}

// mockConfig chooses how the mock delivers its webhooks to the acquirer.
type mockConfig struct {
	// static configures the acquirer's listener as the mock's static webhook; otherwise the
	// acquirer registers it through Klarna's notification API.
	static bool
}

func newEnv(t *testing.T, mc mockConfig) *env {
	t.Helper()
	e := &env{t: t, apiKey: acquirer.TestKeyPrefix + randomHex(8), klarnaAPIKey: "klarna_test_api_" + randomHex(8)}
	e.partner = &fakePartner{t: t, secret: "whsec_" + randomHex(16)}
	partnerSrv := httptest.NewServer(e.partner)
	t.Cleanup(partnerSrv.Close)

	// The acquirer's server exists before its handler, because the mock needs its URL first.
	var handler http.Handler
	var ready sync.WaitGroup
	ready.Add(1)
	apSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ready.Wait()
		if r.URL.Path == "/klarna/webhooks" {
			body, _ := io.ReadAll(r.Body)
			e.klarnaMu.Lock()
			e.klarna = append(e.klarna, delivery{r.Header.Clone(), body})
			e.klarnaMu.Unlock()
			if e.klarnaDown.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(apSrv.Close)
	e.apURL = apSrv.URL

	secret := ""
	if mc.static {
		secret = randomHex(32)
	}
	e.klarnaSecret = secret
	e.mockURL = startMock(t, apSrv.URL+"/klarna/webhooks", secret)

	a, err := app.New(app.Config{
		Klarna: klarna.Config{
			BaseURL: e.mockURL, APIKey: e.klarnaAPIKey, AccountID: klarnaAccount,
			Retry: klarna.RetryPolicy{InitialBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Deadline: 5 * time.Second},
		},
		KlarnaWebhookSecret: secret,
		TestMode:            &acquirer.TestMode{WebhookURL: partnerSrv.URL, WebhookSecret: e.partner.secret},
		PartnerWebhooks:     partnerhook.Config{InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	e.app, handler = a, a.Handler
	ready.Done()
	if !mc.static {
		_, err := a.RegisterKlarnaWebhook(t.Context(), apSrv.URL+"/klarna/webhooks")
		require.NoError(t, err)
	}
	e.client = contracttest.New(t, "acquirer.yaml").Client(t, nil)
	return e
}

// startMock starts an in-process klarna-mock (with Klarna's Notifications API) whose static
// webhook, if secret is set, posts every event to hookURL; it returns the mock's URL.
func startMock(t *testing.T, hookURL, secret string) string {
	t.Helper()
	cfg := mockapp.Config{}
	if secret != "" {
		cfg.WebhookURL, cfg.WebhookSecret = hookURL, secret
	}
	m, err := mockapp.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(func() {
		srv.Close()
		_, _ = m.Close(context.Background())
	})
	return srv.URL
}

// call sends a request to the acquirer as the env's Partner (or with apiKey when given) and
// returns the status and body. The contract checker has validated the answer by then.
func (e *env) call(method, path string, body any, headers ...string) (int, []byte) {
	e.t.Helper()
	return e.callAs(e.apiKey, method, path, body, headers...)
}

func (e *env) callAs(apiKey, method, path string, body any, headers ...string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.apURL+path, rd)
	require.NoError(e.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	require.NotEmpty(e.t, resp.Header.Get("AP-Request-Id"))
	return resp.StatusCode, out
}

// session and charge are the acquirer's answers, decoded.
type (
	session = acquirer.SessionResource
	charge  = acquirer.ChargeResource
)

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), "%s", body)
	return v
}

// apError is the acquirer's error shape.
type apError struct {
	ErrorCode    string `json:"error_code"`
	ErrorMessage string `json:"error_message"`
	RequestID    string `json:"request_id"`
	Errors       []struct {
		Parameter string `json:"parameter"`
	} `json:"errors"`
	KlarnaError *struct {
		Status    int    `json:"status"`
		ErrorCode string `json:"error_code"`
	} `json:"klarna_error"`
}

// mock sends a request to the mock (its test-only endpoints) and decodes the answer into out.
func (e *env) mock(method, path string, body any, out any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(e.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.mockURL+path, rd)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", "application/json")
	// The acquirer's Klarna key, so the mock sees the acquirer's state.
	req.Header.Set("Authorization", "Basic "+e.klarnaAPIKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	require.Less(e.t, resp.StatusCode, 300, "%s %s: %s", method, path, b)
	if out != nil {
		require.NoError(e.t, json.Unmarshal(b, out))
	}
}

// networkSessionToken mints a Klarna Network Session Token of an identified, consenting customer
// (what a Partner would get from Klarna Express Checkout).
func (e *env) networkSessionToken(email string) string {
	var out struct {
		Token string `json:"interoperability_token"`
	}
	e.mock(http.MethodPost, "/v2/accounts/"+klarnaAccount+"/interoperability/test-tokens",
		map[string]any{"email": email, "consent": true}, &out)
	require.NotEmpty(e.t, out.Token)
	return out.Token
}

// customer acts as the customer in the Purchase Journey: approve, decline, ...
func (e *env) customer(action, paymentRequestID string) {
	e.mock(http.MethodPost, "/mock/v1/payment-requests/"+paymentRequestID+"/"+action, nil, nil)
}

// klarnaDeliveries returns the Klarna webhooks the acquirer received about a Payment Request.
func (e *env) klarnaDeliveries(eventType, paymentRequestID string) []delivery {
	e.klarnaMu.Lock()
	defer e.klarnaMu.Unlock()
	var out []delivery
	for _, d := range e.klarna {
		if bytes.Contains(d.body, []byte(`"`+eventType+`"`)) && bytes.Contains(d.body, []byte(paymentRequestID)) {
			out = append(out, d)
		}
	}
	return out
}

// postKlarnaWebhook posts a Klarna webhook to the acquirer as Klarna would.
func (e *env) postKlarnaWebhook(header http.Header, body []byte) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), http.MethodPost, e.apURL+"/klarna/webhooks", bytes.NewReader(body))
	require.NoError(e.t, err)
	for _, name := range []string{"Content-Type", klarna.HeaderSignature, klarna.HeaderSigningKeyID} {
		if v := header.Get(name); v != "" {
			req.Header.Set(name, v)
		}
	}
	resp, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(e.t, err)
	return resp.StatusCode, out
}
