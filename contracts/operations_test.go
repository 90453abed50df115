package contracts_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/internal/derive"
)

// TestOperationsIndexUpToDate fails when a document changed without `go generate ./contracts`.
func TestOperationsIndexUpToDate(t *testing.T) {
	t.Parallel()
	want, err := derive.OperationsSource(os.DirFS("."))
	require.NoError(t, err)
	got, err := os.ReadFile("operations_gen.go")
	require.NoError(t, err)
	require.Equal(t, string(want), string(got), "operations_gen.go is stale: run go generate ./contracts")
}

// TestOperationsMatchDocuments checks the index against the operations kin-openapi, which
// compiles the documents at run time, finds in each.
func TestOperationsMatchDocuments(t *testing.T) {
	t.Parallel()
	for _, name := range contracts.Documents() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := loadKin(t, contracts.Files.ReadFile, name)
			var want []contracts.Operation
			for path, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					want = append(want, contracts.Operation{Method: method, Path: path, ID: op.OperationID})
				}
			}
			slices.SortFunc(want, func(a, b contracts.Operation) int {
				if c := strings.Compare(a.Path, b.Path); c != 0 {
					return c
				}
				return strings.Compare(a.Method, b.Method)
			})
			require.Equal(t, want, contracts.Operations(name))
			for _, op := range want {
				found, ok := contracts.FindOperation(name, op.Method, op.Path)
				require.True(t, ok)
				require.Equal(t, op, found)
			}
			_, ok := contracts.FindOperation(name, "GET", "/no/such/path")
			require.False(t, ok)
		})
	}
}

// loadKin loads the document name, read with read, with kin-openapi.
func loadKin(t *testing.T, read func(string) ([]byte, error), name string) *openapi3.T {
	t.Helper()
	data, err := read(name)
	require.NoError(t, err)
	doc, err := openapi3.NewLoader().LoadFromData(data)
	require.NoError(t, err)
	return doc
}
