package httpclient_test

import (
	"context"
	"io"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpclient"
)

func TestNewJSONRequest(t *testing.T) {
	t.Parallel()
	type ctxKey struct{}
	ctx := context.WithValue(t.Context(), ctxKey{}, "mine")

	req, err := httpclient.NewJSONRequest(ctx, http.MethodPost, "http://mock.test/a?b=c", map[string]string{"duration": "1h"})
	require.NoError(t, err)
	require.Equal(t, http.MethodPost, req.Method)
	require.Equal(t, "http://mock.test/a?b=c", req.URL.String())
	require.Equal(t, "application/json", req.Header.Get("Content-Type"))
	require.Equal(t, "mine", req.Context().Value(ctxKey{}))
	body, err := io.ReadAll(req.Body)
	require.NoError(t, err)
	require.JSONEq(t, `{"duration":"1h"}`, string(body))
	require.Equal(t, int64(len(body)), req.ContentLength)

	req, err = httpclient.NewJSONRequest(ctx, http.MethodGet, "http://mock.test/a", nil)
	require.NoError(t, err)
	require.Empty(t, req.Header.Get("Content-Type"))
	require.Nil(t, req.Body)
}

func TestNewJSONRequestFailures(t *testing.T) {
	t.Parallel()
	_, err := httpclient.NewJSONRequest(t.Context(), http.MethodPost, "http://mock.test/", math.NaN())
	require.ErrorContains(t, err, "encoding the request body")

	_, err = httpclient.NewJSONRequest(t.Context(), "BAD METHOD", "http://mock.test/", nil)
	require.Error(t, err)
}
