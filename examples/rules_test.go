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

// readmeBlock returns the shell block that follows marker in the document at path, and the
// output its "# " lines say it prints, in order.
func readmeBlock(t *testing.T, path, marker string) (script, want string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(doc), marker)
	require.True(t, ok, "%s has no %q", path, marker)
	_, after, ok = strings.Cut(after, "```sh\n")
	require.True(t, ok, "no shell block after %q in %s", marker, path)
	script, _, ok = strings.Cut(after, "```")
	require.True(t, ok, "the shell block after %q in %s does not end", marker, path)
	var out []string
	for _, line := range strings.Split(script, "\n") {
		if expected, ok := strings.CutPrefix(line, "# "); ok {
			out = append(out, expected)
		}
	}
	return script, strings.Join(out, "\n")
}

// TestReadmeRulesPerTenant runs the copy-paste example of fixtures/README.md's "Rules per tenant,
// at run time" against a fresh mock and expects exactly the output its comments show, so the
// example cannot go stale.
func TestReadmeRulesPerTenant(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	script, want := readmeBlock(t, "../fixtures/README.md", "<!-- examples/rules_test.go runs this block")
	m := testkit.NewMock(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir() // where the example writes my-rules.yaml
	cmd.Env = append(os.Environ(), "KLARNA_MOCK_URL="+m.URL)
	out, err := cmd.Output()
	require.NoError(t, err, "the example failed:\n%s", out)
	require.Equal(t, want, strings.TrimSpace(string(out)))
}
