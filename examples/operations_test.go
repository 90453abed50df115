package examples

import (
	"testing"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestOperationsExamples runs the copy-paste examples of the README's "Health, version and
// metrics" and of docs/operations.md (health, readiness, and the metrics after one authorize),
// each against a fresh mock, and expects exactly the output their comments show, so the examples
// cannot go stale.
func TestOperationsExamples(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	for _, doc := range []string{"../README.md", "../docs/operations.md"} {
		t.Run(doc, func(t *testing.T) {
			t.Parallel()
			runDocBlock(t, bash, testkit.NewMock(t).URL, doc, "<!-- examples/operations_test.go runs this block")
		})
	}
}
