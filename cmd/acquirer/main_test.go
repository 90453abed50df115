package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/internal/httpserver/slowclient"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// startMock runs an in-process klarna-mock and returns its URL.
func startMock(t *testing.T) string {
	t.Helper()
	m, err := app.New(app.Config{})
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = m.Close(context.Background()) })
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

// syncBuffer is a buffer safe to write from run's goroutines while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the command in-process until the test ends and returns its base URL.
func start(t *testing.T, args []string, env map[string]string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	stderr := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, args, func(k string) string { return env[k] }, outW, stderr)
		outW.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "stderr: %s", stderr.String())
		case <-time.After(15 * time.Second):
			t.Error("the acquirer did not stop")
		}
	})
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err, "stderr: %s", stderr.String())
	go func() { _, _ = io.Copy(io.Discard, outR) }()
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "acquirer listening on ")
	require.True(t, ok, "first line: %q", line)
	return base
}

func post(t *testing.T, url, key, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestRunServesInTestModeOnAFreePort(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	base := start(t, []string{"-addr", "127.0.0.1:0"}, map[string]string{
		"ACQUIRER_KLARNA_URL":            mock,
		"ACQUIRER_KLARNA_WEBHOOK_SECRET": "s3cret",
	})
	require.NotContains(t, base, ":0", "the real port is printed")

	status, body := post(t, base+"/v1/payment-methods", "ap_test_cmd", `{"currency":"USD"}`)
	require.Equal(t, http.StatusOK, status, body)
	require.Contains(t, body, `"SHOW_KLARNA"`)

	status, body = post(t, base+"/v1/sessions", "ap_test_cmd",
		`{"reference":"o-1","currency":"EUR","amount":1000,"mode":"SDK","request_customer_token":{"usage":"ON_DEMAND"}}`)
	require.Equal(t, http.StatusCreated, status, body)
	require.Contains(t, body, `"REQUIRES_ACTION"`)

	status, _ = post(t, base+"/v1/payment-methods", "not-a-test-key", `{"currency":"USD"}`)
	require.Equal(t, http.StatusUnauthorized, status)
}

// TestRunCutsOffASlowBody checks that the server of the command has the read timeout of its
// environment variable: a client trickling its body gets the acquirer's 400 and the connection
// closes.
func TestRunCutsOffASlowBody(t *testing.T) {
	t.Parallel()
	base := start(t, []string{"-addr", "127.0.0.1:0"}, map[string]string{"ACQUIRER_READ_TIMEOUT": "300ms"})
	resp, body := slowclient.SlowBody(t, strings.TrimPrefix(base, "http://"),
		"POST /v1/sessions HTTP/1.1\r\nHost: acquirer\r\nAuthorization: Bearer ap_test_slow\r\nContent-Type: application/json")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, `"error_code":"INVALID_REQUEST"`)
}

// TestWriteTimeoutOutlastsAKlarnaCall checks the reason for the default write timeout: a
// Partner's request waits for a Klarna call with all its retries, and its answer must still get
// out.
func TestWriteTimeoutOutlastsAKlarnaCall(t *testing.T) {
	t.Parallel()
	require.Greater(t, httpserver.DefaultWriteTimeout, klarna.DefaultDeadline)
}

func TestRunWithAPartnersFile(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	file := filepath.Join(t.TempDir(), "partners.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`partners:
  - id: shoes
    api_key: ap_live_shoes
    webhook_url: http://127.0.0.1:9/hooks
    webhook_secret: whsec
`), 0o600))
	base := start(t, []string{"-addr", "127.0.0.1:0", "-klarna-url", mock, "-partners", file, "-log-level", "debug", "-log-format", "json"}, nil)

	status, body := post(t, base+"/v1/payment-methods", "ap_live_shoes", `{"currency":"USD"}`)
	require.Equal(t, http.StatusOK, status, body)
	status, _ = post(t, base+"/v1/payment-methods", "ap_test_anyone", `{"currency":"USD"}`)
	require.Equal(t, http.StatusUnauthorized, status, "no test mode with a partners file")
}

func TestRunRefusesBadConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.yaml")
	require.NoError(t, os.WriteFile(typo, []byte("partners:\n  - id: a\n    api_key: k\n    webhook_uri: http://x\n"), 0o600))
	empty := filepath.Join(dir, "empty.yaml")
	require.NoError(t, os.WriteFile(empty, []byte("partners: []\n"), 0o600))

	for name, tc := range map[string]struct {
		args  []string
		env   map[string]string
		usage bool
		msg   string
	}{
		"unknown flag":           {args: []string{"-nope"}, usage: true},
		"positional argument":    {args: []string{"serve"}, usage: true},
		"bad log level":          {args: []string{"-log-level", "loud"}, usage: true},
		"webhook without secret": {env: map[string]string{"ACQUIRER_PARTNER_WEBHOOK_URL": "http://x"}, usage: true},
		"bad klarna url":         {args: []string{"-klarna-url", "ftp://x"}, msg: "base URL"},
		"missing partners file":  {args: []string{"-partners", filepath.Join(dir, "nope.yaml")}, msg: "nope.yaml"},
		"unknown partners key":   {args: []string{"-partners", typo}, msg: "webhook_uri"},
		"no partners":            {args: []string{"-partners", empty}, msg: "no partners"},
		"bad listen address":     {args: []string{"-addr", "256.0.0.1:1"}, msg: "256.0.0.1"},
		"bad idle timeout":       {env: map[string]string{"ACQUIRER_IDLE_TIMEOUT": "never"}, usage: true, msg: "ACQUIRER_IDLE_TIMEOUT"},
		"no write timeout":       {args: []string{"-write-timeout", "0s"}, usage: true, msg: "-write-timeout"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := tc.env
			err := run(t.Context(), tc.args, func(k string) string { return env[k] }, io.Discard, io.Discard)
			require.Error(t, err)
			require.Equal(t, tc.usage, errors.Is(err, cli.ErrUsage), "%v", err)
			wantExit := 1
			if tc.usage {
				wantExit = 2
			}
			require.Equal(t, wantExit, cli.ExitCode(err))
			require.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "-help", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			err := run(t.Context(), []string{arg}, func(string) string { return "" }, &stdout, &stderr)
			require.NoError(t, err)
			require.Equal(t, 0, cli.ExitCode(err))
			require.Empty(t, stderr.String())
			require.Contains(t, stdout.String(), "Usage: acquirer [flags]")
			require.Contains(t, stdout.String(), "-klarna-url")
		})
	}
}

func TestRunRegistersItsOwnWebhook(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var registered map[string]any
	klarnaAPI := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v2/notification/signing-keys":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"signing_key_id":"krn:partner:global:notification:signing-key:k1","signing_key":"registered-secret"}`)
		case "/v2/notification/webhooks":
			mu.Lock()
			require.NoError(t, json.NewDecoder(r.Body).Decode(&registered))
			mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"webhook_id":"krn:partner:global:notification:webhook:w1","url":"x","event_types":["payment.request.state-change.*"],"signing_key_id":"krn:partner:global:notification:signing-key:k1"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(klarnaAPI.Close)
	base := start(t, []string{"-addr", "127.0.0.1:0", "-klarna-url", klarnaAPI.URL, "-register-webhook", "self"}, nil)

	mu.Lock()
	require.Equal(t, base+"/klarna/webhooks", registered["url"])
	require.Equal(t, "krn:partner:global:notification:signing-key:k1", registered["signing_key_id"])
	mu.Unlock()

	body := `{"metadata":{"event_type":"payment.request.state-change.submitted","event_id":"e1"},"payload":{}}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/klarna/webhooks", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(klarna.HeaderSigningKeyID, "krn:partner:global:notification:signing-key:k1")
	req.Header.Set(klarna.HeaderSignature, signature.Sign("registered-secret", []byte(body)))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the registered key verifies Klarna's webhooks")
}

func TestRunCompletesAStepUpThroughItsRegisteredWebhook(t *testing.T) {
	t.Parallel()
	mock := startMock(t)
	base := start(t, []string{"-addr", "127.0.0.1:0", "-klarna-url", mock, "-register-webhook", "self"}, nil)

	status, body := post(t, base+"/v1/sessions", "ap_test_e2e",
		`{"reference":"o-2","currency":"EUR","amount":1000,"mode":"SDK","request_customer_token":{"usage":"ON_DEMAND"}}`)
	require.Equal(t, http.StatusCreated, status, body)
	var s struct {
		ID               string `json:"id"`
		Status           string `json:"status"`
		PaymentRequestID string `json:"payment_request_id"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &s))
	require.Equal(t, "REQUIRES_ACTION", s.Status)

	// The control API acts for the acquirer's tenant: its Klarna API key.
	approve, err := http.NewRequestWithContext(t.Context(), http.MethodPost, mock+"/mock/v1/payment-requests/"+s.PaymentRequestID+"/approve", nil)
	require.NoError(t, err)
	approve.Header.Set("Authorization", "Basic "+defaultAPIKey)
	resp, err := http.DefaultClient.Do(approve)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	require.Eventually(t, func() bool {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/v1/sessions/"+s.ID, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer ap_test_e2e")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `"COMPLETED"`) && strings.Contains(string(b), `"aptok_`)
	}, 10*time.Second, 20*time.Millisecond, "Klarna's webhook to the registered URL completes the session")
}
