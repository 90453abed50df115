package examples

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// docBlock returns the shell block that follows marker in the document at path, and the output
// its "# " lines say it prints, in order. The marker must be there once.
func docBlock(t *testing.T, path, marker string) (script, want string) {
	t.Helper()
	scripts, wants := docBlocks(t, path, marker)
	require.Len(t, scripts, 1, "%s must have %q once", path, marker)
	return scripts[0], wants[0]
}

// docBlocks returns the shell block that follows each marker in the document at path, in
// order, and the output each block's "# " lines say it prints.
func docBlocks(t *testing.T, path, marker string) (scripts, wants []string) {
	t.Helper()
	doc, err := os.ReadFile(path)
	require.NoError(t, err)
	parts := strings.Split(string(doc), marker)
	require.Greater(t, len(parts), 1, "%s has no %q", path, marker)
	for _, after := range parts[1:] {
		_, after, ok := strings.Cut(after, "```sh\n")
		require.True(t, ok, "no shell block after %q in %s", marker, path)
		script, _, ok := strings.Cut(after, "```")
		require.True(t, ok, "the shell block after %q in %s does not end", marker, path)
		var out []string
		for _, line := range strings.Split(script, "\n") {
			if expected, ok := strings.CutPrefix(line, "# "); ok {
				out = append(out, expected)
			}
		}
		scripts, wants = append(scripts, script), append(wants, strings.Join(out, "\n"))
	}
	return scripts, wants
}

// runDocScript runs script, made of documentation blocks, with bash -euo pipefail in a
// directory of its own (where the examples write their files), against the mock at mockURL
// (KLARNA_MOCK_URL), with env added to the environment, and requires the output want: the
// blocks' "# " lines, where "..." stands for any text, as the documents write ids that differ on
// every run.
func runDocScript(t *testing.T, bash, mockURL, script, want string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(os.Environ(), "KLARNA_MOCK_URL="+mockURL), env...)
	out, err := cmd.Output()
	require.NoError(t, err, "the example failed:\n%s", out)
	got := strings.TrimSpace(string(out))
	wantLines, gotLines := strings.Split(want, "\n"), strings.Split(got, "\n")
	require.Len(t, gotLines, len(wantLines), "want:\n%s\ngot:\n%s", want, got)
	for i, w := range wantLines {
		require.Regexp(t, outputLine(w), gotLines[i], "line %d; want:\n%s\ngot:\n%s", i+1, want, got)
	}
}

// outputLine is the pattern an output line must match to be the documented line: the same text,
// with any text where it shows "...".
func outputLine(documented string) *regexp.Regexp {
	parts := strings.Split(documented, "...")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("^" + strings.Join(parts, ".*") + "$")
}

// runDocBlock runs the block that follows marker in the document at path, against the mock at
// mockURL, and requires the output its "# " lines show.
func runDocBlock(t *testing.T, bash, mockURL, path, marker string) {
	t.Helper()
	script, want := docBlock(t, path, marker)
	runDocScript(t, bash, mockURL, script, want)
}

// buildKlarnaMock builds the klarna-mock command into a directory of the test's and returns
// that directory, to put on PATH for the documentation's command lines.
func buildKlarnaMock(t *testing.T) string {
	t.Helper()
	// go test puts its own go first on the PATH of the tests it runs.
	goTool, err := exec.LookPath("go")
	require.NoError(t, err)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", filepath.Join(dir, "klarna-mock"), "../cmd/klarna-mock").CombinedOutput()
	require.NoError(t, err, "building klarna-mock:\n%s", out)
	return dir
}

func TestOutputLine(t *testing.T) {
	t.Parallel()
	require.Regexp(t, outputLine("# (a+b)"), "# (a+b)", "text is literal")
	require.NotRegexp(t, outputLine("# (a+b)"), "# aab")
	require.Regexp(t, outputLine("http://.../journey/krn:payment:eu1:request:..."), "http://127.0.0.1:4000/journey/krn:payment:eu1:request:1f2e")
	require.NotRegexp(t, outputLine("APPROVED"), "APPROVED and more", "a line matches whole")
}
