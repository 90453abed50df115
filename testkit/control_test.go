package testkit_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/testkit"
)

func TestDoContextSendsJSONUnderTheContext(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in map[string]string
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"got":          in["duration"],
			"content_type": r.Header.Get("Content-Type"),
			"auth":         r.Header.Get("Authorization"),
			"user_agent":   r.Header.Get("User-Agent"),
		})
	}))
	t.Cleanup(srv.Close)
	c := &testkit.Control{URL: srv.URL + "/", HTTP: srv.Client()}

	var out map[string]string
	require.NoError(t, c.DoContext(t.Context(), http.MethodPost, "/mock/v1/clock/advance", "key", map[string]string{"duration": "1h"}, &out))
	require.Equal(t, map[string]string{"got": "1h", "content_type": "application/json", "auth": "Basic key", "user_agent": testkit.DefaultUserAgent}, out)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, c.DoContext(ctx, http.MethodGet, "/mock/v1/clock", "", nil, nil), context.Canceled)

	require.NoError(t, c.Do(http.MethodPost, "/mock/v1/clock/advance", "", map[string]string{"duration": "2h"}, &out), "Do is DoContext without a deadline")
	require.Equal(t, "2h", out["got"])
}
