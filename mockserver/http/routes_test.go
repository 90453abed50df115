package http_test

import (
	"sort"
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
	require.NoError(t, srv.Router().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := route.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			routed[m+" "+path] = true
		}
		return nil
	}))

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
