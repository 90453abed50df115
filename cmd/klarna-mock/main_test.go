package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// env returns a getenv over a fixed map, so tests never read the real environment.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// start runs the mock in-process on a free port and returns its base URL; the mock stops when
// the test ends, and its run error is checked.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), env(nil), pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, line)
	return url
}

func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	url := start(t, "--log-format", "json")
	resp, err := http.Get(url + "/mock/v1/clock")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestRunWithFixturesAndCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(rulesFile, []byte(`version: 1
rules:
  - name: everything steps up and the customer approves
    when: { kind: [one_time, customer_present] }
    then: { result: STEP_UP_REQUIRED, customer: { action: approve, after: 1ms } }
`), 0o600))
	url := start(t, "--fixtures", rulesFile)

	body := `{"currency":"USD","request_payment_transaction":{"amount":500},"step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`
	req, _ := http.NewRequest(http.MethodPost, url+"/v2/accounts/krn:partner:global:account:test:CLI00001/payment/authorize", strings.NewReader(body))
	req.Header.Set("Authorization", "Basic klarna_test_api_cli")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var out struct {
		PaymentRequest struct {
			PaymentRequestID string `json:"payment_request_id"`
		} `json:"payment_request"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	id := out.PaymentRequest.PaymentRequestID
	require.NotEmpty(t, id)

	// The scripted customer approves by itself on the real clock.
	require.Eventually(t, func() bool {
		var sb strings.Builder
		err := run(context.Background(), []string{"journey", "--mock", url, "open", id}, env(nil), &sb, io.Discard)
		return err != nil && strings.Contains(err.Error(), "COMPLETED")
	}, 5*time.Second, 10*time.Millisecond)

	var sb strings.Builder
	require.NoError(t, run(context.Background(), []string{"clock", "advance", "PT2H"}, env(map[string]string{"KLARNA_MOCK_URL": url}), &sb, io.Discard))
	require.Contains(t, sb.String(), `"offset": "2h0m0s"`)
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: x\n    then: { result: MAYBE }\n"), 0o600))
	for name, args := range map[string][]string{
		"bad fixtures":     {"--fixtures", bad},
		"missing fixtures": {"--fixtures", filepath.Join(dir, "none.yaml")},
		"missing accounts": {"--accounts", filepath.Join(dir, "none.yaml")},
		"bad log format":   {"--log-format", "xml"},
		"bad log level":    {"--log-level", "loud"},
		"extra argument":   {"serve-please"},
		"bad address":      {"--addr", "not-an-address"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), args, env(nil), io.Discard, io.Discard)
			require.Error(t, err)
		})
	}
	err := run(context.Background(), []string{"--fixtures", bad}, env(nil), io.Discard, io.Discard)
	require.ErrorContains(t, err, "bad.yaml:4")
}

func TestCLIUsage(t *testing.T) {
	t.Parallel()
	require.ErrorIs(t, run(context.Background(), []string{"journey", "approve"}, env(nil), io.Discard, io.Discard), errUsage)
	require.ErrorIs(t, run(context.Background(), []string{"clock", "rewind"}, env(nil), io.Discard, io.Discard), errUsage)
	require.NoError(t, run(context.Background(), []string{"-h"}, env(nil), io.Discard, io.Discard))
}
