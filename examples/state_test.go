package examples

import (
	"testing"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestStateDocExample runs the copy-paste example of docs/state.md against a fresh mock and
// expects exactly the output its comments show, so the example cannot go stale.
func TestStateDocExample(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	runDocBlock(t, bash, testkit.NewMock(t).URL, "../docs/state.md", "<!-- examples/state_test.go runs this block")
}
