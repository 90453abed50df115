package contracts_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/internal/derive"
	"github.com/klarna-mock/klarna-mock/contracts/validate"
)

// TestRequestDocumentsUpToDate fails when a document changed without `go generate ./contracts`.
func TestRequestDocumentsUpToDate(t *testing.T) {
	t.Parallel()
	for _, name := range contracts.Documents() {
		full, err := contracts.Files.ReadFile(name)
		require.NoError(t, err)
		want, err := derive.RequestDocument(full)
		require.NoError(t, err)
		got, err := contracts.RequestDocument(name)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "requests/%s is stale: run go generate ./contracts", name)
	}
}

// TestRequestDocumentsCheckTheSame checks that each cut-down document describes requests exactly
// as the whole one does, as kin-openapi (the run-time validator's library) reads them: the same
// operations with the same parameters, request bodies and security, and the same components
// wherever they are kept, so that a reference resolves to the same schema. It also compiles each.
func TestRequestDocumentsCheckTheSame(t *testing.T) {
	t.Parallel()
	for _, name := range contracts.Documents() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			full := loadKin(t, contracts.Files.ReadFile, name)
			cut := loadKin(t, contracts.RequestDocument, name)
			data, err := contracts.RequestDocument(name)
			require.NoError(t, err)
			_, err = validate.NewTrusted(data)
			require.NoError(t, err)

			sameJSON(t, full.Security, cut.Security, "security")
			require.Equal(t, len(full.Paths.Map()), len(cut.Paths.Map()))
			for path, item := range full.Paths.Map() {
				cutItem := cut.Paths.Value(path)
				require.NotNil(t, cutItem, path)
				sameJSON(t, item.Parameters, cutItem.Parameters, path+" parameters")
				require.Equal(t, len(item.Operations()), len(cutItem.Operations()), path)
				for method, op := range item.Operations() {
					cutOp := cutItem.GetOperation(method)
					require.NotNil(t, cutOp, method+" "+path)
					where := method + " " + path
					require.Equal(t, op.OperationID, cutOp.OperationID, where)
					sameJSON(t, op.Parameters, cutOp.Parameters, where+" parameters")
					sameJSON(t, op.RequestBody, cutOp.RequestBody, where+" request body")
					sameJSON(t, op.Security, cutOp.Security, where+" security")
				}
			}
			if cut.Components == nil {
				return
			}
			for name, s := range cut.Components.Schemas {
				sameJSON(t, full.Components.Schemas[name], s, "schema "+name)
			}
			for name, p := range cut.Components.Parameters {
				sameJSON(t, full.Components.Parameters[name], p, "parameter "+name)
			}
			for name, b := range cut.Components.RequestBodies {
				sameJSON(t, full.Components.RequestBodies[name], b, "request body "+name)
			}
			sameJSON(t, full.Components.SecuritySchemes, cut.Components.SecuritySchemes, "security schemes")
		})
	}
}

// sameJSON requires want and got to encode to the same JSON. kin-openapi encodes a reference as
// its $ref, so the referenced components are compared on their own.
func sameJSON(t *testing.T, want, got any, what string) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g), what)
}
