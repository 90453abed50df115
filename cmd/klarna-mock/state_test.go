package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStateExportImport checks that state export prints the API key's tenant, that state import
// puts a tenant reset since back as it was from standard input, and that a document the mock
// refuses is reported with its problem.
func TestStateExportImport(t *testing.T) {
	t.Parallel()
	url := start(t)
	const key = "klarna_test_api_state_cli"
	state := func(ctx context.Context, args ...string) (string, error) {
		var out strings.Builder
		err := run(ctx, append([]string{"state", "--mock", url, "--api-key", key}, args...), env(nil), &out, io.Discard)
		return out.String(), err
	}
	req, err := http.NewRequest(http.MethodPost, url+"/v2/accounts/krn:partner:global:account:test:CLI00001/payment/authorize",
		strings.NewReader(`{"currency": "USD", "request_payment_transaction": {"amount": 11800}, "step_up_config": {"payment_request_reference": "cli-1",
		  "customer_interaction_config": {"method": "HANDOVER", "return_url": "https://merchant.example/return"}}}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Equal(t, http.StatusOK, resp.StatusCode)

	doc, err := state(t.Context(), "export")
	require.NoError(t, err)
	require.Contains(t, doc, `"payment_request_reference": "cli-1"`)
	require.NoError(t, run(t.Context(), []string{"reset", "--mock", url, "--api-key", key}, env(nil), io.Discard, io.Discard))

	out, err := state(withStdin(t.Context(), strings.NewReader(doc)), "import")
	require.NoError(t, err)
	require.Contains(t, out, `"payment_requests": 1`)
	again, err := state(t.Context(), "export")
	require.NoError(t, err)
	// The mock runs on the real clock, so only the clock differs.
	var before, after map[string]any
	require.NoError(t, json.Unmarshal([]byte(doc), &before))
	require.NoError(t, json.Unmarshal([]byte(again), &after))
	delete(before, "clock")
	delete(after, "clock")
	require.Equal(t, before, after)

	_, err = state(withStdin(t.Context(), strings.NewReader(`{"format": "klarna-mock-state/0"}`)), "import")
	require.ErrorContains(t, err, "400 VALIDATION_ERROR")
	require.ErrorContains(t, err, "format:")
}
