package main

import (
	"bytes"
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

func TestFaultsCommand(t *testing.T) {
	t.Parallel()
	url := start(t)
	faults := func(ctx context.Context, key string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append([]string{"faults", "--mock", url, "--api-key", key}, args...), env(nil), &out, io.Discard)
		return out.String(), err
	}
	const a, b = "klarna_test_api_faults_a", "klarna_test_api_faults_b"
	ctx := context.Background()

	out, err := faults(ctx, a, "add", `{"operations": ["authorize"], "effect": "error", "status": 503, "count": 2}`)
	require.NoError(t, err)
	var first struct {
		ID        string `json:"fault_id"`
		Remaining int    `json:"remaining"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &first), out)
	require.Equal(t, 2, first.Remaining)

	file := filepath.Join(t.TempDir(), "fault.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"operations": ["all"], "effect": "drop", "probability": 0.5, "seed": 1}`), 0o600))
	_, err = faults(ctx, a, "add", "@"+file)
	require.NoError(t, err)
	_, err = faults(withStdin(ctx, strings.NewReader(`{"operations": ["transaction"], "effect": "hang"}`)), a, "add", "-")
	require.NoError(t, err)

	out, err = faults(ctx, a, "list")
	require.NoError(t, err)
	var list struct {
		Faults []struct {
			ID     string `json:"fault_id"`
			Effect string `json:"effect"`
		} `json:"faults"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &list), out)
	require.Len(t, list.Faults, 3)
	require.Equal(t, []string{"error", "drop", "hang"}, []string{list.Faults[0].Effect, list.Faults[1].Effect, list.Faults[2].Effect})
	out, err = faults(ctx, b, "list")
	require.NoError(t, err)
	require.JSONEq(t, `{"faults": []}`, out, "another key has none")

	_, err = faults(ctx, a, "add", `{"operations": ["authorize"], "effect": "error", "count": 1, "probability": 0.5}`)
	require.ErrorContains(t, err, "400 VALIDATION_ERROR")
	require.ErrorContains(t, err, "\n  probability: give count or probability, not both")
	_, err = faults(ctx, a, "add", `{not json`)
	require.ErrorContains(t, err, "not JSON")

	out, err = faults(ctx, a, "delete", first.ID)
	require.NoError(t, err)
	require.Equal(t, "deleted "+first.ID+"\n", out)
	_, err = faults(ctx, b, "delete", list.Faults[1].ID)
	require.ErrorContains(t, err, "404 NOT_FOUND", "another key's fault is unknown to it")
	out, err = faults(ctx, a, "clear")
	require.NoError(t, err)
	require.Equal(t, "no faults left\n", out)
	out, err = faults(ctx, a, "list")
	require.NoError(t, err)
	require.JSONEq(t, `{"faults": []}`, out)

	out, err = faults(ctx, a, "--help")
	require.NoError(t, err)
	for _, want := range []string{"list", "add FAULT", "delete FAULT_ID", "clear", "-api-key"} {
		require.Contains(t, out, want)
	}
}

// TestHangEndsAtTheWriteTimeout checks a hang against the server the command runs: past its
// write timeout no answer could reach the client, so the hang ends there.
func TestHangEndsAtTheWriteTimeout(t *testing.T) {
	t.Parallel()
	url := start(t, "--write-timeout", "300ms")
	const key = "klarna_test_api_faults_hang"
	err := run(context.Background(), []string{"faults", "--mock", url, "--api-key", key, "add", `{"operations": ["presentation"], "effect": "hang"}`},
		env(nil), io.Discard, io.Discard)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, url+"/v2/accounts/krn:partner:global:account:test:HANG0001/payment/presentation?currency=USD&locale=en-US&amount=100", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+key)
	began := time.Now()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	require.Error(t, err, "the connection closes without an answer")
	require.GreaterOrEqual(t, time.Since(began), 300*time.Millisecond)
	require.Less(t, time.Since(began), 5*time.Second, "the write timeout, not the fault's minute, ended the hang")
}

// TestShutdownEndsAHang checks that stopping the mock does not wait for a hang in flight:
// shutting down waits for the calls being served, and a hang would hold it up for a minute.
func TestShutdownEndsAHang(t *testing.T) {
	t.Parallel()
	ctx, stop := context.WithCancel(context.Background())
	url := startUnder(t, ctx, env(nil))
	const key = "klarna_test_api_faults_stop"
	faults := func(args ...string) string {
		var out bytes.Buffer
		require.NoError(t, run(context.Background(), append([]string{"faults", "--mock", url, "--api-key", key}, args...), env(nil), &out, io.Discard))
		return out.String()
	}
	faults("add", `{"operations": ["presentation"], "effect": "hang"}`)
	req, err := http.NewRequest(http.MethodGet, url+"/v2/accounts/krn:partner:global:account:test:HANG0001/payment/presentation?currency=USD&locale=en-US&amount=100", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+key)
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	require.Eventually(t, func() bool { return strings.Contains(faults("list"), `"fired": 1`) }, 5*time.Second, 10*time.Millisecond,
		"the call is hanging")
	began := time.Now()
	stop()
	require.Error(t, <-answered, "the hang ends without an answer")
	require.Less(t, time.Since(began), 5*time.Second, "the shutdown ended the hang, not its minute")
}
