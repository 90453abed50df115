package httpserver_test

import (
	"bytes"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
)

func TestStatusWriterRecordsTheStatusThatWentOut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		handle func(w http.ResponseWriter)
		status int
	}{
		{"nothing written", func(http.ResponseWriter) {}, http.StatusOK},
		{"a body without a header", func(w http.ResponseWriter) { _, _ = w.Write([]byte("hi")) }, http.StatusOK},
		{"a header", func(w http.ResponseWriter) { w.WriteHeader(http.StatusTeapot) }, http.StatusTeapot},
		{"a second header, which net/http ignores", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusCreated)
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusCreated},
		{"a header after the body", func(w http.ResponseWriter) {
			_, _ = w.Write([]byte("hi"))
			w.WriteHeader(http.StatusInternalServerError)
		}, http.StatusOK},
		{"an informational header first", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusAccepted)
		}, http.StatusAccepted},
	} {
		rec := httptest.NewRecorder()
		sw := httpserver.NewStatusWriter(rec)
		tc.handle(sw)
		require.Equal(t, tc.status, sw.Status, tc.name)
		require.Same(t, rec, sw.Unwrap(), tc.name)
	}
}

func TestLogRequestsLogsAtDebugOnly(t *testing.T) {
	t.Parallel()
	handler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Id", "abc")
		w.WriteHeader(http.StatusTeapot)
	})
	attrs := func(w http.ResponseWriter, r *http.Request) []slog.Attr {
		return []slog.Attr{slog.String("id", w.Header().Get("X-Id")), slog.String("query", r.URL.RawQuery)}
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
		rec := httptest.NewRecorder()
		httpserver.LogRequests(logger, handler, attrs).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/items/1?q=2", nil))
		require.Equal(t, http.StatusTeapot, rec.Code)
		if level == slog.LevelInfo {
			require.Empty(t, logs.String())
			continue
		}
		for _, want := range []string{"level=DEBUG", "msg=request", "method=POST", "path=/items/1", "status=418", "duration=", "id=abc", `query="q=2"`} {
			require.Contains(t, logs.String(), want)
		}
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	httpserver.LogRequests(logger, handler, nil).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil))
	require.Contains(t, logs.String(), "status=418", "attrs may be nil")
}

func TestRecoverPanicsAnswersWithFail(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	fail := func(w http.ResponseWriter, _ *http.Request, v any) {
		http.Error(w, "failed: "+v.(string), http.StatusInternalServerError)
	}
	h := httpserver.RecoverPanics(logger, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), fail)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	require.Equal(t, "failed: boom\n", rec.Body.String())
	require.Contains(t, logs.String(), `msg="panic serving request"`)
	require.Contains(t, logs.String(), "panic=boom")
	require.Contains(t, logs.String(), "stack=")

	abort := httpserver.RecoverPanics(logger, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }), fail)
	require.PanicsWithValue(t, http.ErrAbortHandler, func() {
		abort.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/x", nil))
	})
}

func TestIsJSON(t *testing.T) {
	t.Parallel()
	for ct, want := range map[string]bool{
		"application/json":                true,
		"application/json; charset=utf-8": true,
		"Application/JSON":                true,
		"application/problem+json":        true,
		"":                                false,
		"text/plain":                      false,
		"application/jsonx":               false,
		"application/json; =":             false,
	} {
		require.Equal(t, want, httpserver.IsJSON(ct), ct)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	require.NoError(t, httpserver.WriteJSON(rec, http.StatusCreated, map[string]int{"a": 1}))
	require.Equal(t, http.StatusCreated, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.JSONEq(t, `{"a":1}`, rec.Body.String())

	rec = httptest.NewRecorder()
	err := httpserver.WriteJSON(rec, http.StatusOK, math.Inf(1))
	require.ErrorContains(t, err, "encoding response")
	require.Empty(t, rec.Header().Get("Content-Type"), "nothing is written, so the caller can still answer")
	require.Zero(t, rec.Body.Len())
}

func TestStatusWriterKeepsTheStartOfTheBody(t *testing.T) {
	t.Parallel()
	sw := httpserver.NewStatusWriter(httptest.NewRecorder())
	_, _ = sw.Write([]byte("hello"))
	require.Empty(t, sw.Kept(), "Keep 0 keeps nothing")

	rec := httptest.NewRecorder()
	sw = httpserver.NewStatusWriter(rec)
	sw.Keep = 7
	_, _ = sw.Write([]byte("hello"))
	_, _ = sw.Write([]byte(" world"))
	require.Equal(t, "hello w", sw.Kept())
	require.Equal(t, "hello world", rec.Body.String(), "the whole body goes out")
}

func TestSetJSONContentTypeSharesNoChange(t *testing.T) {
	t.Parallel()
	a, b := http.Header{}, http.Header{}
	httpserver.SetJSONContentType(a)
	httpserver.SetJSONContentType(b)
	a.Add("Content-Type", "text/plain")
	require.Equal(t, []string{"application/json", "text/plain"}, a.Values("Content-Type"))
	require.Equal(t, []string{"application/json"}, b.Values("Content-Type"), "an Add to one header leaves the others")
	require.Equal(t, "application/json", a.Get("content-type"))
}
