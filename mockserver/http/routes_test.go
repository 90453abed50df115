package http_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
)

// TestRoutesMatchContracts checks the mock routes exactly what its contracts describe: every
// operation of every contract it serves is routed, and every route is an operation of one of
// them. A route or an operation added alone fails it.
func TestRoutesMatchContracts(t *testing.T) {
	t.Parallel()
	// The contract documents the mock implements; acquirer.yaml is the reference Acquiring
	// Partner's, not the mock's.
	served := []string{"klarna-payments.yaml", "mock-control.yaml", "klarna-notifications.yaml", "klarna-identity.yaml"}
	// The routes no contract describes, with why: they serve the contract documents themselves,
	// as files.
	uncontracted := map[string]string{
		"GET /openapi.yaml":     "serves klarna-payments.yaml",
		"GET /contracts/{file}": "serves any document of contracts/",
	}
	h := newHarness(t)
	srv, ok := h.mock.Handler.(*mockhttp.Server)
	require.True(t, ok, "app.New serves a *mockhttp.Server, got %T", h.mock.Handler)

	routed := map[string]bool{} // "METHOD /path/{template}"
	routes, err := srv.Routes()
	require.NoError(t, err)
	for _, rt := range routes {
		routed[rt[0]+" "+rt[1]] = true
	}

	documented := map[string]string{} // "METHOD /path/{template}" -> the document describing it
	for _, name := range served {
		spec, err := contracts.Files.ReadFile(name)
		require.NoError(t, err)
		doc, err := openapi3.NewLoader().LoadFromData(spec)
		require.NoError(t, err, name)
		for path, item := range doc.Paths.Map() {
			for method := range item.Operations() {
				op := method + " " + path
				require.NotContains(t, documented, op, "%s is in both %s and %s", op, documented[op], name)
				documented[op] = name
			}
		}
	}

	var unrouted, undocumented []string
	for op, doc := range documented {
		if !routed[op] {
			unrouted = append(unrouted, op+" ("+doc+")")
		}
	}
	for op := range routed {
		if _, ok := documented[op]; !ok && uncontracted[op] == "" {
			undocumented = append(undocumented, op)
		}
	}
	for op := range uncontracted {
		require.True(t, routed[op], "%s is listed as a route without a contract, but the mock does not route it", op)
	}
	sort.Strings(unrouted)
	sort.Strings(undocumented)
	require.Empty(t, unrouted, "contract operations the mock does not route")
	require.Empty(t, undocumented, "routes no contract describes")
}

// TestRoutesMatchAsGorillaTemplates checks that the server's routes, matched by their own path
// patterns (routes.go), pick the same route with the same variables, or the same 404 or 405, as
// gorilla/mux's templates of the same paths would, for a path made from every route's template
// and for near misses of it, in every method.
func TestRoutesMatchAsGorillaTemplates(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv, ok := h.mock.Handler.(*mockhttp.Server)
	require.True(t, ok, "app.New serves a *mockhttp.Server, got %T", h.mock.Handler)
	routes, err := srv.Routes()
	require.NoError(t, err)
	reference := mux.NewRouter().SkipClean(true)
	reference.NotFoundHandler, reference.MethodNotAllowedHandler = http.NotFoundHandler(), http.NotFoundHandler()
	for _, rt := range routes {
		reference.Handle(rt[1], http.NotFoundHandler()).Methods(rt[0]).Name(rt[0] + " " + rt[1])
	}
	variable := regexp.MustCompile(`\{[^}]+\}`)
	var paths []string
	for _, rt := range routes {
		for _, value := range []string{"krn:payment:eu1:request:0b1d9815", "a%20b", "due", ""} {
			p := variable.ReplaceAllString(rt[1], value)
			paths = append(paths, p, p+"/", p+"/x", strings.TrimSuffix(p, "/"+path.Base(p)), strings.ToUpper(p))
		}
	}
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	for _, p := range paths {
		for _, method := range methods {
			r := httptest.NewRequest(method, "http://mock.test"+p, nil)
			name, vars, mismatch := srv.Match(r)
			var want mux.RouteMatch
			reference.Match(r, &want)
			wantName := ""
			if want.Route != nil && want.MatchErr == nil {
				wantName = want.Route.GetName()
			}
			require.Equal(t, wantName, name, "%s %s", method, p)
			require.Equal(t, errors.Is(want.MatchErr, mux.ErrMethodMismatch), mismatch, "%s %s: 405", method, p)
			if name != "" {
				require.Equal(t, want.Vars, vars, "%s %s", method, p)
			}
		}
	}
}

// TestFirstCallIsChecked makes the first call of a freshly started mock, for each document it
// compiles, one the document refuses (an array for the JSON object every one of these takes):
// a document is compiled on its first use or by the warm-up that starts with the mock, and
// whichever comes first, the call waits for its checks rather than going unchecked.
func TestFirstCallIsChecked(t *testing.T) {
	t.Parallel()
	for doc, path := range map[string]string{
		"klarna-payments.yaml":      "/v2/payment/authorize",
		"mock-control.yaml":         "/mock/v1/clock/advance",
		"klarna-notifications.yaml": notificationAPI + "/webhooks",
		"klarna-identity.yaml":      "/v2/identity/sdk-tokens",
	} {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			r := h.do(http.MethodPost, path, []any{})
			requireError(t, r, http.StatusBadRequest, "VALIDATION_ERROR", "body")
			// The contract's words, not a handler's failing to decode the body.
			require.Equal(t, "value must be an object", r.str("errors.0.error_message"), r.body)
		})
	}
}

// TestRoutesServeThroughTheRouter checks a route answers the same when the router's own
// ServeHTTP hands it the call, its path variables in the request's context, as when the server's
// dispatch does, with them in the match.
func TestRoutesServeThroughTheRouter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	srv, ok := h.mock.Handler.(*mockhttp.Server)
	require.True(t, ok, "app.New serves a *mockhttp.Server, got %T", h.mock.Handler)
	var bodies []string
	for _, serve := range []http.HandlerFunc{srv.ServeHTTP, srv.ServeThroughRouter} {
		rec := httptest.NewRecorder()
		serve(rec, httptest.NewRequest(http.MethodGet, "/contracts/klarna-payments.yaml", nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		bodies = append(bodies, rec.Body.String())
	}
	require.NotEmpty(t, bodies[0])
	require.Equal(t, bodies[0], bodies[1])
}
