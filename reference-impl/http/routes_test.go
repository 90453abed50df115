package http

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gorilla/mux"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
	"github.com/klarna-mock/klarna-mock/reference-impl/memdb"
)

// unreachableKlarna stands in for Klarna where no call is made: any call would panic.
type unreachableKlarna struct{ acquirer.Klarna }

// contract loads the acquirer's OpenAPI document.
func contract(t *testing.T) *openapi3.T {
	t.Helper()
	spec, err := contracts.Files.ReadFile(ContractFile)
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	require.NoError(t, err)
	return doc
}

// TestEveryOperationIsRoutedAndEveryRouteIsInTheContract compares what the router serves with
// what contracts/acquirer.yaml describes, operation by operation.
func TestEveryOperationIsRoutedAndEveryRouteIsInTheContract(t *testing.T) {
	t.Parallel()
	store, err := memdb.New()
	require.NoError(t, err)
	partners, err := acquirer.NewPartners(nil, &acquirer.TestMode{})
	require.NoError(t, err)
	svc, err := acquirer.NewService(acquirer.Config{Klarna: unreachableKlarna{}, Store: store, Partners: partners})
	require.NoError(t, err)
	srv, err := NewServer(Deps{Service: svc, Partners: partners, KlarnaKeys: klarna.NewKeyring()})
	require.NoError(t, err)

	routed := map[string]bool{}
	require.NoError(t, srv.router.Walk(func(r *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		path, err := r.GetPathTemplate()
		if err != nil {
			return err
		}
		methods, err := r.GetMethods()
		if err != nil {
			return err
		}
		for _, m := range methods {
			routed[m+" "+path] = true
		}
		return nil
	}))

	described := map[string]bool{}
	for path, item := range contract(t).Paths.Map() {
		for method := range item.Operations() {
			described[method+" "+path] = true
		}
	}
	require.NotEmpty(t, described)
	require.Equal(t, slices.Sorted(maps.Keys(described)), slices.Sorted(maps.Keys(routed)))
}

// TestErrorCodesMatchTheContract checks the code→status table against the contract's Error
// schema, which lists every code with its status.
func TestErrorCodesMatchTheContract(t *testing.T) {
	t.Parallel()
	code := contract(t).Components.Schemas["Error"].Value.Properties["error_code"].Value
	var enum []string
	for _, v := range code.Enum {
		enum = append(enum, v.(string))
	}
	statuses := map[string]int{}
	for _, m := range regexp.MustCompile(`([A-Z_]+) \((\d{3})\)`).FindAllStringSubmatch(code.Description, -1) {
		statuses[m[1]], _ = strconv.Atoi(m[2])
	}
	require.ElementsMatch(t, enum, slices.Collect(maps.Keys(statuses)), "the description gives every code's status")
	for c, status := range statuses {
		require.Equal(t, status, acquirer.ErrorCode(c).Status(), c)
	}
}
