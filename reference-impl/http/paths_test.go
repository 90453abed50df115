package http_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// TestOddPathsGetTheNotFound checks that a path with an empty, "." or ".." segment, sent as it
// is or percent-encoded, gets the acquirer's 404 on every route, and never a redirect (which
// gorilla/mux would answer with an empty body). It builds the acquirer with app.New, as the
// acquirer command does; no request reaches Klarna.
func TestOddPathsGetTheNotFound(t *testing.T) {
	t.Parallel()
	a, err := app.New(app.Config{
		Klarna:   klarna.Config{BaseURL: "http://127.0.0.1:9", APIKey: "klarna_test_api_paths", AccountID: "krn:partner:global:account:test:PATHS001"},
		TestMode: &acquirer.TestMode{},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(a.Handler)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		require.NoError(t, a.Close(ctx))
	})
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	for _, tc := range []struct{ method, path string }{
		{http.MethodPost, "//v1/sessions"},
		{http.MethodPost, "/v1/x/../sessions"},
		{http.MethodPost, "/v1/./sessions"},
		{http.MethodGet, "/v1/sessions/%2e%2e"},
		{http.MethodGet, "/v1/charges/."},
		{http.MethodGet, "/v1/sessions/%2e%2e/../charges/x"},
		{http.MethodPost, "/klarna/%2e%2e/klarna/webhooks"},
		{http.MethodPut, "/v1/sessions/%2E%2E"}, // not a 405: nothing is there
	} {
		req, err := http.NewRequestWithContext(t.Context(), tc.method, srv.URL+tc.path, strings.NewReader(`{"currency":"USD"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer ap_test_paths")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)

		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
		require.Equal(t, "application/json", resp.Header.Get("Content-Type"), "%s %s", tc.method, tc.path)
		var e struct {
			ErrorCode acquirer.ErrorCode `json:"error_code"`
			RequestID string             `json:"request_id"`
		}
		require.NoError(t, json.Unmarshal(body, &e), string(body))
		require.Equal(t, acquirer.CodeNotFound, e.ErrorCode, string(body))
		require.NotEmpty(t, e.RequestID, string(body))
	}
}
