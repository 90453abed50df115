package http

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
)

// TestEveryKlarnaOperationHasAFaultOperation checks that a fault can hit every call of Klarna's
// APIs: an operation added to a contract without a fault operation would escape even "all".
func TestEveryKlarnaOperationHasAFaultOperation(t *testing.T) {
	t.Parallel()
	ids := regexp.MustCompile(`operationId: (\w+)`)
	for _, doc := range []string{contractPayments, contractIdentity, contractNotify} {
		spec, err := contracts.Files.ReadFile(doc)
		require.NoError(t, err)
		found := ids.FindAllSubmatch(spec, -1)
		require.NotEmpty(t, found)
		for _, m := range found {
			require.NotEmpty(t, faultOperation(doc, string(m[1])), "%s %s", doc, m[1])
		}
	}
	require.Empty(t, faultOperation(contractControl, "resetTenant"), "the control API is never faulted")
}
