package klarna_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	mockwebhook "github.com/klarna-mock/klarna-mock/mockserver/webhook"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// seen is one request a fake Klarna received.
type seen struct {
	method, path string
	header       http.Header
	body         string
}

// fakeKlarna answers the requests it receives with the scripted handlers, one per request (the
// last one repeats), and records every request.
type fakeKlarna struct {
	mu       sync.Mutex
	requests []seen
	answers  []http.HandlerFunc
}

func (f *fakeKlarna) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	n := len(f.requests)
	f.requests = append(f.requests, seen{r.Method, r.URL.Path, r.Header.Clone(), string(body)})
	answer := f.answers[min(n, len(f.answers)-1)]
	f.mu.Unlock()
	answer(w, r)
}

func (f *fakeKlarna) seen() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.requests...)
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Klarna-Correlation-Id", "corr-1")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// dropConnection fails the attempt at the transport level.
func dropConnection(w http.ResponseWriter, r *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

const approved = `{"payment_transaction_response":{"result":"APPROVED","payment_transaction":{"payment_transaction_id":"krn:payment:eu1:transaction:1","amount":1000,"currency":"EUR","state":"AUTHORIZED","created_at":"2026-01-04T12:00:00Z"}}}`

const unavailable = `{"error_id":"e1","error_type":"TECHNICAL_ERROR","error_code":"SERVICE_UNAVAILABLE","error_message":"try later"}`

func newClient(t *testing.T, fake *fakeKlarna, retry klarna.RetryPolicy) *klarna.Client {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c, err := klarna.New(klarna.Config{
		BaseURL:    srv.URL,
		APIKey:     "klarna_test_api_unit",
		AccountID:  "krn:partner:global:account:test:UNIT0001",
		Retry:      retry,
		Integrator: klarna.Integrator{Name: "unit-test"},
	})
	require.NoError(t, err)
	return c
}

var fastRetry = klarna.RetryPolicy{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Deadline: 5 * time.Second}

func authorizeParams() klarna.AuthorizeParams {
	return klarna.AuthorizeParams{
		NetworkSessionToken: "krn:payment:eu1:klarna-network-session-token:1",
		CustomerToken:       "krn:customer-token:eu1:1",
		NetworkData:         `{"content_type":"application/vnd.klarna.interoperability-data.v2+json","content":{}}`,
		Request: klarna.AuthorizeRequest{
			Currency:                  "EUR",
			RequestPaymentTransaction: &klarna.PaymentTransactionRequest{Amount: 1000, PaymentTransactionReference: "order-1"},
		},
	}
}

func TestAuthorizeRetriesWithTheSameIdempotencyKey(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(503, unavailable), dropConnection, status(200, approved)}}
	c := newClient(t, fake, fastRetry)

	resp, err := c.Authorize(t.Context(), authorizeParams())
	require.NoError(t, err)
	result, _ := resp.Result()
	require.Equal(t, klarna.ResultApproved, result)
	require.Equal(t, "krn:payment:eu1:transaction:1", resp.Transaction().PaymentTransactionID)

	reqs := fake.seen()
	require.Len(t, reqs, 3)
	first := reqs[0]
	key := first.header.Get("Klarna-Idempotency-Key")
	require.NotEmpty(t, key, "a POST always carries an idempotency key")
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.method)
		require.Equal(t, "/v2/accounts/krn:partner:global:account:test:UNIT0001/payment/authorize", r.path)
		require.Equal(t, key, r.header.Get("Klarna-Idempotency-Key"), "every attempt of one operation reuses its key")
		require.Equal(t, first.header.Get("Partner-Correlation-Id"), r.header.Get("Partner-Correlation-Id"))
		require.Equal(t, first.body, r.body, "every attempt sends the same body")
		require.Equal(t, "Basic klarna_test_api_unit", r.header.Get("Authorization"))
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
		require.Equal(t, "krn:payment:eu1:klarna-network-session-token:1", r.header.Get("Klarna-Network-Session-Token"))
		require.Equal(t, "krn:customer-token:eu1:1", r.header.Get("Klarna-Customer-Token"))
		require.JSONEq(t, `{"integrator":{"name":"unit-test"},"originators":[]}`, r.header.Get("Klarna-Integration-Metadata"))
	}
	require.Regexp(t, `^[A-Za-z0-9]+$`, first.header.Get("Partner-Correlation-Id"))
	// The Partner's network data travels unaltered in the body, as one JSON string.
	require.JSONEq(t, `{"currency":"EUR","request_payment_transaction":{"amount":1000,"payment_transaction_reference":"order-1"},"klarna_network_data":"{\"content_type\":\"application/vnd.klarna.interoperability-data.v2+json\",\"content\":{}}"}`, first.body)
}

func TestAuthorizeUsesTheCallersIdempotencyKey(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(429, `{"error_id":"e","error_type":"ACCESS_ERROR","error_code":"RATE_LIMITED","error_message":"slow down"}`), status(200, approved)}}
	c := newClient(t, fake, fastRetry)
	p := authorizeParams()
	p.IdempotencyKey = "authorize-ses_1"
	p.CorrelationID = "abc123"

	_, err := c.Authorize(t.Context(), p)
	require.NoError(t, err)
	for _, r := range fake.seen() {
		require.Equal(t, "authorize-ses_1", r.header.Get("Klarna-Idempotency-Key"))
		require.Equal(t, "abc123", r.header.Get("Partner-Correlation-Id"))
	}
	require.Len(t, fake.seen(), 2, "429 is retried")
}

func TestAuthorizeDoesNotRetryPermanentErrors(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(400, `{"error_id":"e2","error_type":"INPUT_ERROR","error_code":"VALIDATION_ERROR","error_message":"bad","errors":[{"parameter":"currency","error_message":"unknown"}]}`)}}
	c := newClient(t, fake, fastRetry)

	_, err := c.Authorize(t.Context(), authorizeParams())
	var ke *klarna.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, 400, ke.StatusCode)
	require.Equal(t, "VALIDATION_ERROR", ke.ErrorCode)
	require.Equal(t, "corr-1", ke.CorrelationID)
	require.Equal(t, []klarna.FieldError{{Parameter: "currency", ErrorMessage: "unknown"}}, ke.Errors)
	require.NotErrorIs(t, err, klarna.ErrUnavailable)
	require.Len(t, fake.seen(), 1)
}

func TestRetriesStopAtTheDeadline(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(503, unavailable)}}
	retry := klarna.RetryPolicy{MaxAttempts: 1000, InitialBackoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Deadline: 300 * time.Millisecond}
	c := newClient(t, fake, retry)

	start := time.Now()
	_, err := c.Authorize(t.Context(), authorizeParams())
	elapsed := time.Since(start)

	require.ErrorIs(t, err, klarna.ErrUnavailable)
	var ke *klarna.Error
	require.ErrorAs(t, err, &ke, "the last failure stays reachable")
	require.Equal(t, 503, ke.StatusCode)
	require.Less(t, elapsed, 2*time.Second, "the call ends near its deadline, not after its 1000 attempts")
	require.Greater(t, len(fake.seen()), 2, "it kept retrying until then")
}

func TestRetriesStopAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{dropConnection}}
	retry := fastRetry
	retry.MaxAttempts = 3
	c := newClient(t, fake, retry)

	_, err := c.Authorize(t.Context(), authorizeParams())
	require.ErrorIs(t, err, klarna.ErrUnavailable)
	require.Len(t, fake.seen(), 3)
}

func TestACanceledCallerStopsRetrying(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(503, unavailable)}}
	retry := klarna.RetryPolicy{MaxAttempts: 1000, InitialBackoff: 50 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Deadline: time.Minute}
	c := newClient(t, fake, retry)
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()

	start := time.Now()
	_, err := c.Authorize(ctx, authorizeParams())
	require.Error(t, err)
	require.Less(t, time.Since(start), 5*time.Second, "the caller's deadline bounds the call, not the client's minute")
}

func TestNonKlarnaErrorAnswerKeepsTheStatus(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(401, `<html>no</html>`)}}
	c := newClient(t, fake, fastRetry)

	_, err := c.Authorize(t.Context(), authorizeParams())
	var ke *klarna.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, 401, ke.StatusCode)
	require.Equal(t, "Unauthorized", ke.ErrorCode)
}

// TestPresentationSendsTheQueryAndTokens also reads the answer as Klarna's "Build Payment
// Presentation with the Payment Presentation API" page shapes it
// (docs.klarna.com/acquirer/klarna-direct/payment-presentation/integrate-payment-presentation/payment-presentation-api/):
// a saved payment option besides the payment option, the message in parts, the button's image.
func TestPresentationSendsTheQueryAndTokens(t *testing.T) {
	t.Parallel()
	option := `"header":{"text":"Klarna"},"subheader":{"text":"Pay later"},"icon":{"badge_image_url":"https://x.example/b.svg"},` +
		`"message":{"parts":[{"type":"TEXT","text":"4 payments. "},{"type":"LINK","text":"Learn more","url":"https://x.example/","context":"INFO"}]},` +
		`"payment_button":{"text":"Pay","image_url":"https://x.example/w.svg"}`
	fake := &fakeKlarna{answers: []http.HandlerFunc{status(200, `{"instruction":"PRESELECT_KLARNA",`+
		`"payment_option":{"payment_option_id":"klarna",`+option+`},`+
		`"saved_payment_option":{"payment_option_id":"klarna-saved","badge":{"text":"Saved"},`+option+`}}`)}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "USD", r.URL.Query().Get("currency"))
		require.Equal(t, "11800", r.URL.Query().Get("amount"))
		require.Equal(t, []string{"PAY", "SUBSCRIBE"}, r.URL.Query()["intents[]"])
		require.Equal(t, "MONTH", r.URL.Query().Get("subscription_billing_interval"))
		require.Equal(t, "3", r.URL.Query().Get("subscription_billing_interval_frequency"))
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	c, err := klarna.New(klarna.Config{BaseURL: srv.URL, APIKey: "klarna_test_api_unit", AccountID: "acc"})
	require.NoError(t, err)

	p, err := c.Presentation(t.Context(), klarna.PresentationParams{
		Currency: "USD", Amount: 11800, Intents: []string{"PAY", "SUBSCRIBE"},
		SubscriptionBillingInterval: "MONTH", SubscriptionBillingIntervalFrequency: 3,
		CustomerToken: "krn:customer-token:eu1:1", NetworkSessionToken: "nst",
	})
	require.NoError(t, err)
	require.Equal(t, klarna.InstructionPreselect, p.Instruction)
	require.Equal(t, "Klarna", p.PaymentOption.Header.Text)
	require.Equal(t, "Pay later", p.PaymentOption.Subheader.Text)
	require.Equal(t, []klarna.MessagePart{{Type: "TEXT", Text: "4 payments. "}, {Type: "LINK", Text: "Learn more", URL: "https://x.example/", Context: "INFO"}},
		p.PaymentOption.Message.Parts)
	require.Equal(t, "https://x.example/w.svg", p.PaymentOption.PaymentButton.ImageURL)
	require.Equal(t, "klarna-saved", p.SavedPaymentOption.PaymentOptionID)
	require.Equal(t, "Saved", p.SavedPaymentOption.Badge.Text)
	r := fake.seen()[0]
	require.Equal(t, http.MethodGet, r.method)
	require.Empty(t, r.header.Get("Klarna-Idempotency-Key"), "only POSTs carry an idempotency key")
	require.Equal(t, "krn:customer-token:eu1:1", r.header.Get("Klarna-Customer-Token"))
	require.Equal(t, "nst", r.header.Get("Klarna-Network-Session-Token"))
}

func TestNewRejectsABadConfig(t *testing.T) {
	t.Parallel()
	_, err := klarna.New(klarna.Config{BaseURL: "ftp://x", APIKey: "k"})
	require.Error(t, err)
	_, err = klarna.New(klarna.Config{BaseURL: "http://127.0.0.1:1"})
	require.Error(t, err)
}

func TestEventDecoding(t *testing.T) {
	t.Parallel()
	body := []byte(`{"metadata":{"event_type":"payment.request.state-change.completed","event_id":"ev1","event_version":"v2","occurred_at":"2026-01-04T12:00:00Z","subject_account_id":"acc"},
		"payload":{"payment_request_id":"krn:payment:eu1:request:1","payment_request_reference":"ses_1","currency":"EUR","state":"COMPLETED","created_at":"2026-01-04T12:00:00Z","updated_at":"2026-01-04T12:00:00Z",
		"state_context":{"klarna_network_session_token":"nst","klarna_customer":{"customer_token":"krn:customer-token:eu1:1"}}}}`)
	e, err := klarna.ParseEvent(body)
	require.NoError(t, err)
	require.Equal(t, klarna.EventRequestCompleted, e.Metadata.EventType)
	pr, err := e.PaymentRequest()
	require.NoError(t, err)
	require.Equal(t, "nst", pr.StateContext.KlarnaNetworkSessionToken)
	require.Equal(t, "krn:customer-token:eu1:1", pr.StateContext.IssuedToken(nil).CustomerToken)

	_, err = klarna.ParseEvent([]byte(`{"metadata":{}}`))
	require.Error(t, err)
	_, err = klarna.ParseEvent([]byte(`nope`))
	require.Error(t, err)
}

func TestSignatures(t *testing.T) {
	t.Parallel()
	body := []byte(`{"metadata":{"event_id":"1"}}`)
	sig := signature.Sign("secret", body)
	require.Equal(t, mockwebhook.Sign([]byte("secret"), body), sig, "the mock signs the same way")

	ring := klarna.NewKeyring()
	require.True(t, ring.Empty())
	require.False(t, ring.Verify("", body, sig), "an empty keyring verifies nothing")
	ring.Add("key-1", "secret")
	require.True(t, ring.Verify("key-1", body, sig))
	require.False(t, ring.Verify("key-2", body, sig))
	ring.SetDefault("fallback")
	require.True(t, ring.Verify("key-2", body, signature.Sign("fallback", body)))
	require.False(t, ring.Verify("key-1", body, signature.Sign("fallback", body)), "a known key id uses its own secret")
}

func TestResponseHelpers(t *testing.T) {
	t.Parallel()
	var resp klarna.AuthorizeResponse
	require.NoError(t, json.Unmarshal([]byte(`{"customer_token_response":{"result":"APPROVED","customer_token":{"customer_token":"ct","scopes":["payment:customer_present"]}}}`), &resp))
	result, _ := resp.Result()
	require.Equal(t, klarna.ResultApproved, result, "token-only calls are decided by the token result")
	require.Equal(t, "ct", resp.CustomerToken().CustomerToken)
	require.Nil(t, resp.Transaction())
	require.False(t, errors.Is(nil, klarna.ErrUnavailable))
}

func TestWebhookRegistrationCalls(t *testing.T) {
	t.Parallel()
	fake := &fakeKlarna{answers: []http.HandlerFunc{
		status(201, `{"signing_key_id":"krn:partner:global:notification:signing-key:1","signing_key":"abc","created_at":"2026-01-04T12:00:00Z"}`),
		status(201, `{"webhook_id":"krn:partner:global:notification:webhook:1","url":"https://ap.example/klarna/webhooks","event_types":["payment.*"],"signing_key_id":"krn:partner:global:notification:signing-key:1","status":"ENABLED"}`),
	}}
	c := newClient(t, fake, fastRetry)

	key, err := c.CreateSigningKey(t.Context(), "k1")
	require.NoError(t, err)
	require.Equal(t, "abc", key.Secret)
	wh, err := c.CreateWebhook(t.Context(), "k2", klarna.WebhookInput{URL: "https://ap.example/klarna/webhooks", EventTypes: []string{"payment.*"}, EventVersion: "v2", SigningKeyID: key.SigningKeyID})
	require.NoError(t, err)
	require.Equal(t, "ENABLED", wh.Status)

	reqs := fake.seen()
	require.Equal(t, "/v2/notification/signing-keys", reqs[0].path)
	require.Equal(t, "k1", reqs[0].header.Get("Klarna-Idempotency-Key"))
	require.Equal(t, "/v2/notification/webhooks", reqs[1].path)
	require.JSONEq(t, `{"url":"https://ap.example/klarna/webhooks","event_types":["payment.*"],"event_version":"v2","signing_key_id":"krn:partner:global:notification:signing-key:1"}`, reqs[1].body)
}
