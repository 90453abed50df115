package examples

import (
	"os"
	"testing"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestFaultsExamples runs the copy-paste example of each effect in docs/faults.md, and the one
// removing faults, each against a fresh mock, and expects exactly the output its comments show,
// so the examples cannot go stale.
func TestFaultsExamples(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	for _, example := range []string{"error", "probability", "latency", "hang", "drop", "truncate"} {
		t.Run(example, func(t *testing.T) {
			t.Parallel()
			runDocBlock(t, bash, testkit.NewMock(t).URL, "../docs/faults.md", faultsMarker(example))
		})
	}
	t.Run("remove", func(t *testing.T) {
		t.Parallel()
		bin := buildKlarnaMock(t) // the example uses the CLI too
		script, want := docBlock(t, "../docs/faults.md", faultsMarker("remove"))
		runDocScript(t, bash, testkit.NewMock(t).URL, script, want, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	})
}

// faultsMarker is the comment before docs/faults.md's example of name.
func faultsMarker(name string) string {
	return "<!-- examples/faults_test.go runs this block (" + name + ")"
}
