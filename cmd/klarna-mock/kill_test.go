package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// killHelperEnv makes the test binary, run again by TestKilledMidRetriesDeliversOnce, serve the
// mock as the klarna-mock command does, configured by its environment, until it is killed.
const killHelperEnv = "KLARNA_MOCK_TEST_KILL_HELPER"

// TestKillHelper is the mock process of TestKilledMidRetriesDeliversOnce; run on its own it does
// nothing.
func TestKillHelper(t *testing.T) {
	if os.Getenv(killHelperEnv) != "1" {
		t.Skip("the mock process of TestKilledMidRetriesDeliversOnce")
	}
	if err := run(context.Background(), nil, os.Getenv, os.Stdout, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// TestKilledMidRetriesDeliversOnce kills a mock on PostgreSQL with SIGKILL while a webhook
// delivery waits for its retry, and starts another on the same database: when the tenant's clock
// reaches the retry, the new mock makes it, and the delivery is made once, never again.
func TestKilledMidRetriesDeliversOnce(t *testing.T) {
	t.Parallel()
	// attempts are the answers the receiver gave to the submitted event's deliveries; the
	// request's other events (its expiry, when the clock passes it) are answered and not kept.
	var mu sync.Mutex
	var attempts []int
	failing := true
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var envelope struct {
			Metadata struct {
				EventType string `json:"event_type"`
			} `json:"metadata"`
		}
		_ = json.NewDecoder(r.Body).Decode(&envelope)
		mu.Lock()
		defer mu.Unlock()
		status := http.StatusOK
		if failing {
			status = http.StatusServiceUnavailable
		}
		if envelope.Metadata.EventType == "payment.request.state-change.submitted" {
			attempts = append(attempts, status)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(receiver.Close)
	seen := func() []int {
		mu.Lock()
		defer mu.Unlock()
		return append([]int(nil), attempts...)
	}
	environ := append(os.Environ(), killHelperEnv+"=1",
		"KLARNA_MOCK_ADDR=127.0.0.1:0",
		"KLARNA_MOCK_DATABASE_URL="+storetest.Database(t),
		"KLARNA_MOCK_WEBHOOK_URL="+receiver.URL,
		"KLARNA_MOCK_WEBHOOK_SECRET=kill-secret")
	const key = "klarna_test_api_killed"

	first, url := startProcess(t, environ)
	a := call(t, url, key, http.MethodPost, "/v2/accounts/krn:partner:global:account:test:KILL0001/payment/authorize",
		`{"currency":"USD","request_payment_transaction":{"amount":1000},"step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`)
	require.Equal(t, http.StatusOK, a)
	require.Eventually(t, func() bool { return len(seen()) == 1 }, 10*time.Second, 10*time.Millisecond, "the first attempt is made")
	// Killed once the attempt is stored: one killed between the receiver's answer and the store
	// would make it again (deliveries are at least once), after its claim ran out.
	require.Eventually(t, func() bool { return due(t, url, key) == 0 }, 10*time.Second, 10*time.Millisecond, "the first attempt is stored")
	require.NoError(t, first.Process.Kill())
	_ = first.Wait()

	mu.Lock()
	failing = false
	mu.Unlock()
	_, url = startProcess(t, environ)
	require.Equal(t, http.StatusOK, call(t, url, key, http.MethodPost, "/mock/v1/clock/advance", `{"duration":"PT8S"}`))
	time.Sleep(200 * time.Millisecond)
	require.Len(t, seen(), 1, "the retry, due 10 seconds after the first attempt, waits")
	require.Equal(t, http.StatusOK, call(t, url, key, http.MethodPost, "/mock/v1/clock/advance", `{"duration":"PT2S"}`))
	require.Eventually(t, func() bool { return len(seen()) == 2 }, 10*time.Second, 10*time.Millisecond, "the new mock makes the retry")
	require.Equal(t, http.StatusOK, call(t, url, key, http.MethodPost, "/mock/v1/clock/advance", `{"duration":"PT24H"}`))
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, []int{http.StatusServiceUnavailable, http.StatusOK}, seen(), "delivered once, then never again")
}

// startProcess runs the test binary as a mock process (TestKillHelper) and returns it with its
// base URL; it is killed when the test ends.
func startProcess(t *testing.T, environ []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$")
	cmd.Env = environ
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, out) }()
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, line)
	return cmd, url
}

// call sends a JSON request with the API key and returns the status.
func call(t *testing.T, base, key, method, path, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// due reports how many of the tenant's deliveries are due (GET /mock/v1/deliveries/due): an
// attempt under way is, until its outcome is stored.
func due(t *testing.T, base, key string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/mock/v1/deliveries/due", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var report struct {
		Count int `json:"count"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&report))
	return report.Count
}
