package httpserver_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
)

// pathsServer serves a router with one route, GET /items/{id}, and its own 404 and 405, behind
// CanonicalPaths. It returns a client that does not follow redirects, so a 301 would show.
func pathsServer(t *testing.T, ownNotFound bool) (string, *http.Client) {
	t.Helper()
	router := mux.NewRouter()
	router.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "item "+mux.Vars(r)["id"])
	}).Methods(http.MethodGet)
	if ownNotFound {
		router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "own 404", http.StatusNotFound)
		})
	}
	router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "own 405", http.StatusMethodNotAllowed)
	})
	srv := httptest.NewServer(httpserver.CanonicalPaths(router))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return srv.URL, client
}

func call(t *testing.T, client *http.Client, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

func TestCanonicalPathsAnswerOddPathsWithTheRoutersNotFound(t *testing.T) {
	t.Parallel()
	base, client := pathsServer(t, true)
	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{http.MethodGet, "/items/a", http.StatusOK, "item a"},
		{http.MethodGet, "/items/krn%3Aitem%3A1", http.StatusOK, "item krn:item:1"}, // matched decoded
		{http.MethodGet, "/items/a/", http.StatusNotFound, "own 404\n"},             // canonical, no route
		{http.MethodPost, "/items/a", http.StatusMethodNotAllowed, "own 405\n"},
		{http.MethodGet, "//items/a", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items//a", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/x/../a", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/./a", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/..", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/.", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/%2e%2e", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/%2E", http.StatusNotFound, "own 404\n"},
		{http.MethodGet, "/items/a%2F..%2Fb", http.StatusNotFound, "own 404\n"},
		{http.MethodPost, "/items/%2e%2e", http.StatusNotFound, "own 404\n"}, // not a 405: there is no such item
		{http.MethodDelete, "//items/a", http.StatusNotFound, "own 404\n"},
	} {
		status, body := call(t, client, tc.method, base+tc.path)
		require.Equal(t, tc.status, status, "%s %s: %s", tc.method, tc.path, body)
		require.Equal(t, tc.body, body, "%s %s", tc.method, tc.path)
	}
}

func TestCanonicalPathsWithoutANotFoundHandler(t *testing.T) {
	t.Parallel()
	base, client := pathsServer(t, false)
	status, _ := call(t, client, http.MethodGet, base+"/items/%2e%2e")
	require.Equal(t, http.StatusNotFound, status)
}
