package examples

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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
			script, want := readmeBlock(t, doc, "<!-- examples/operations_test.go runs this block")
			m := testkit.NewMock(t)
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", script)
			cmd.Env = append(os.Environ(), "KLARNA_MOCK_URL="+m.URL)
			out, err := cmd.Output()
			require.NoError(t, err, "the example failed:\n%s", out)
			require.Equal(t, want, strings.TrimSpace(string(out)))
		})
	}
}
