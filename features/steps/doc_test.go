package steps

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// stepsDocIntro opens the "Steps" section of the package documentation.
const stepsDocIntro = `Every step of the suite, as [Steps] returns them: the step's text as a feature file writes
it (the regular expression godog matches, without its ^ and $; its groups are the arguments,
and amounts are written 9.99 EUR), then what the step does or checks. Every step that calls
the Acquiring Partner checks its answer against contracts/acquirer.yaml, and every scenario
ends with the checks of [Suite.InitializeScenario].`

// stepsDoc renders the "Steps" section of the package documentation from the step table: a
// heading per keyword, each step's text as a code line and its meaning as a paragraph.
func stepsDoc(lib []Step) string {
	var b strings.Builder
	line := func(s string) {
		if s == "" {
			b.WriteString("//\n")
			return
		}
		b.WriteString("// " + s + "\n")
	}
	line("# Steps")
	line("")
	for _, l := range strings.Split(stepsDocIntro, "\n") {
		line(l)
	}
	keyword := ""
	for _, s := range lib {
		if s.Keyword != keyword {
			keyword = s.Keyword
			line("")
			line("# " + keyword + " steps")
		}
		line("")
		b.WriteString("//\t" + s.Keyword + " " + strings.TrimSuffix(strings.TrimPrefix(s.Expression, "^"), "$") + "\n")
		line("")
		for _, l := range wrap(s.Meaning, 97) {
			line(l)
		}
	}
	return b.String()
}

// wrap breaks text into lines of at most width characters, at spaces.
func wrap(text string, width int) []string {
	var lines []string
	cur := ""
	for _, word := range strings.Fields(text) {
		if cur != "" && len(cur)+1+len(word) > width {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += word
	}
	return append(lines, cur)
}

// TestPackageDocListsEveryStep keeps the step list of doc.go (what go doc shows) the one the
// suite registers. UPDATE_STEPS_DOC=1 rewrites it from the table.
func TestPackageDocListsEveryStep(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	text := string(src)
	start := strings.Index(text, "// # Steps\n")
	end := strings.Index(text, "package steps\n")
	require.True(t, start >= 0 && end > start, "doc.go must hold a \"# Steps\" section ending the package documentation")
	want := stepsDoc(Steps())
	if os.Getenv("UPDATE_STEPS_DOC") != "" {
		require.NoError(t, os.WriteFile("doc.go", []byte(text[:start]+want+text[end:]), 0o644))
		return
	}
	require.Equal(t, want, text[start:end], "the step list of doc.go is out of date: UPDATE_STEPS_DOC=1 go test ./features/steps -run TestPackageDocListsEveryStep")
}

func TestEveryStepIsWellFormed(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range Steps() {
		require.Contains(t, []string{"Given", "When", "Then"}, s.Keyword, s.Expression)
		require.True(t, strings.HasPrefix(s.Expression, "^") && strings.HasSuffix(s.Expression, "$"), "%s is not anchored", s.Expression)
		_, err := regexp.Compile(s.Expression)
		require.NoError(t, err)
		require.False(t, seen[s.Expression], "%s is in the table twice", s.Expression)
		seen[s.Expression] = true
		require.True(t, strings.HasSuffix(s.Meaning, "."), "the meaning of %s is not a sentence: %q", s.Expression, s.Meaning)
		require.NotNil(t, s.def, s.Expression)
	}
}
