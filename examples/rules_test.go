package examples

import (
	"testing"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestReadmeRulesPerTenant runs the copy-paste example of fixtures/README.md's "Rules per tenant,
// at run time" against a fresh mock and expects exactly the output its comments show, so the
// example cannot go stale.
func TestReadmeRulesPerTenant(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	runDocBlock(t, bash, testkit.NewMock(t).URL, "../fixtures/README.md", "<!-- examples/rules_test.go runs this block")
}
