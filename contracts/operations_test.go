package contracts_test

import (
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/internal/derive"
	"github.com/klarna-mock/klarna-mock/contracts/validate"
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
// compiles the documents at run time, finds in each, and what it finds to check in a request of
// each.
func TestOperationsMatchDocuments(t *testing.T) {
	t.Parallel()
	for _, name := range contracts.Documents() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			doc := loadKin(t, contracts.Files.ReadFile, name)
			var want []contracts.Operation
			for path, item := range doc.Paths.Map() {
				for method, op := range item.Operations() {
					checked := len(item.Parameters) > 0 || len(op.Parameters) > 0 || op.RequestBody != nil
					want = append(want, contracts.Operation{Method: method, Path: path, ID: op.OperationID, Checked: checked})
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

// TestUncheckedOperationsPassEveryRequest checks what a caller may rely on for an operation the
// index says is not checked: the validator passes any request of it, whatever its headers,
// query and body, so it need not be compiled.
func TestUncheckedOperationsPassEveryRequest(t *testing.T) {
	t.Parallel()
	unchecked := 0
	for _, name := range contracts.Documents() {
		data, err := contracts.RequestDocument(name)
		require.NoError(t, err)
		v, err := validate.NewTrusted(data)
		require.NoError(t, err)
		for _, op := range contracts.Operations(name) {
			if op.Checked {
				continue
			}
			unchecked++
			checks, err := v.Operation(op.Method, op.Path)
			require.NoError(t, err)
			r := httptest.NewRequest(op.Method, "http://mock.test"+op.Path+"?limit=-1&x=%zz", strings.NewReader("{"))
			r.Header.Set("Content-Type", "text/plain")
			r.Header.Set("Klarna-Idempotency-Key", "")
			require.Empty(t, checks.Check(r, map[string]string{"x": ""}, []byte("{")), "%s %s %s", name, op.Method, op.Path)
		}
	}
	require.NotZero(t, unchecked, "some operations have nothing to check (the probes, for one)")
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
