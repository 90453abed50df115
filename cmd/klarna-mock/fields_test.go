package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cli"
)

// TestUndocumentedFieldsFlag checks --undocumented-fields and KLARNA_MOCK_UNDOCUMENTED_FIELDS:
// by default a body field the contract does not describe is accepted, with refuse it is a 400
// naming it, and a value other than warn or refuse is a usage error.
func TestUndocumentedFieldsFlag(t *testing.T) {
	t.Parallel()
	err := run(context.Background(), []string{"--undocumented-fields", "ignore"}, env(nil), io.Discard, io.Discard)
	require.ErrorIs(t, err, cli.ErrUsage)
	require.ErrorContains(t, err, "--undocumented-fields")

	mint := func(t *testing.T, url string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, url+"/v2/accounts/krn:partner:global:account:test:FIELD001/interoperability/test-tokens",
			strings.NewReader(`{"customer_journey":"KLARNA_EXPRESS_CHECKOUT","colour":"red"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Basic klarna_test_api_fields")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.NoError(t, resp.Body.Close())
		return resp.StatusCode
	}
	for name, tc := range map[string]struct {
		args   []string
		env    map[string]string
		status int
	}{
		"default":             {status: http.StatusCreated},
		"refuse":              {args: []string{"--undocumented-fields", "refuse"}, status: http.StatusBadRequest},
		"refuse from the env": {env: map[string]string{"KLARNA_MOCK_UNDOCUMENTED_FIELDS": "refuse"}, status: http.StatusBadRequest},
		"flag over the env":   {args: []string{"--undocumented-fields", "warn"}, env: map[string]string{"KLARNA_MOCK_UNDOCUMENTED_FIELDS": "refuse"}, status: http.StatusCreated},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.status, mint(t, startWith(t, env(tc.env), tc.args...)))
		})
	}
}
