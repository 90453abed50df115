package rules_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

func TestExactEmail(t *testing.T) {
	t.Parallel()
	set := oneRule(t, `{email: [Jane@Example.com, "ÅSA@example.com"]}`)
	require.Equal(t, []string{`email: "jane@example.com", "åsa@example.com"`}, set.Rules()[0].Conditions)
	for _, tc := range []struct {
		email string
		hit   bool
	}{
		{"jane@example.com", true},
		{"JANE@EXAMPLE.COM", true},
		{"åsa@EXAMPLE.com", true},
		{"jane@example.com.evil", false},
		{"x.jane@example.com", false},
		{"", false},
	} {
		f := rules.Facts{Kind: rules.KindOneTime, Emails: []string{"other@example.com", tc.email}}
		require.Equal(t, tc.hit, set.Evaluate(&f).Rule == "hit", tc.email)
	}
}

// TestExactEmailDoesNotAllocate is not parallel: testing.AllocsPerRun refuses to run in a
// parallel test, since other tests' allocations would be counted.
func TestExactEmailDoesNotAllocate(t *testing.T) {
	set := oneRule(t, `{email: [Jane@Example.com, "ÅSA@example.com"]}`)
	f := rules.Facts{Kind: rules.KindOneTime, Emails: []string{"Åsa@example.com", "JANE@example.com"}}
	require.Zero(t, testing.AllocsPerRun(100, func() { _ = set.Evaluate(&f) }))
}

// requireProblem asserts that err reports exactly one problem, at line, whose reason contains
// reason.
func requireProblem(t *testing.T, err error, line int, reason string) {
	t.Helper()
	problems := rules.Errors(err)
	require.Len(t, problems, 1, "%v", err)
	require.Equal(t, line, problems[0].Line, "%v", err)
	require.Contains(t, problems[0].Reason, reason)
}

func TestRuleNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, reason string }{
		{`"two\nlines"`, "a line break or another control character"},
		{`"tab\there"`, "control character"},
		{strings.Repeat("n", rules.MaxNameLength+1), fmt.Sprintf("more than %d", rules.MaxNameLength)},
	} {
		_, err := rules.Load("n.yaml", doc("version: 1", "rules:", "  - name: "+tc.name, "    then: {result: APPROVED}"))
		requireProblem(t, err, 3, tc.reason)
	}
	_, err := rules.Load("n.yaml", doc("version: 1", "rules:", "  - name: "+strings.Repeat("n", rules.MaxNameLength), "    then: {result: APPROVED}"))
	require.NoError(t, err)
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	opts := rules.Options{JSON: true}
	// Tabs and the escapes YAML lacks keep every line where it was.
	set, err := rules.Parse("r.json", []byte("{\n\t\"version\": 1,\n\t\"rules\": [\n"+
		"\t\t{\"name\": \"a\\/b \\ud83d\\ude00 \\\\/\", \"when\": {\"email\": \"x@y.z\"}, \"then\": {\"result\": \"APPROVED\"}}\n\t]\n}"), opts)
	require.NoError(t, err)
	require.Equal(t, `a/b 😀 \/`, set.Rules()[0].Name)
	require.Equal(t, 4, set.Rules()[0].Line)

	for _, tc := range []struct {
		name, doc string
		line      int
		reason    string
	}{
		{"trailing comma", "{\n \"version\": 1,\n \"rules\": [\n  {\"name\": \"a\",}\n ]\n}", 4, "JSON syntax error: invalid character '}'"},
		{"cut short", "{\n \"version\": 1,\n", 2, "JSON syntax error: unexpected end of JSON input"},
		{"two values", "{\"version\": 1}\n{}", 2, "JSON syntax error"},
		{"empty", "", 1, "JSON syntax error"},
		{"checked as a fixtures file", "{\n \"version\": 1,\n \"rules\": [\n  {\"name\": \"a\", \"when\": {\"kind\": \"onetime\"}, \"then\": {\"result\": \"APPROVED\"}}\n ]\n}", 4, `unknown kind "onetime"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := rules.Parse("r.json", []byte(tc.doc), opts)
			requireProblem(t, err, tc.line, tc.reason)
		})
	}
}

func TestParseLimits(t *testing.T) {
	t.Parallel()
	opts := rules.Options{MaxRules: 2, MaxValues: 5}
	_, err := rules.Parse("l.yaml", doc(
		"version: 1",
		"rules:",
		"  - {name: a, then: {result: APPROVED}}",
		"  - {name: b, then: {result: APPROVED}}",
		"  - {name: c, then: {result: APPROVED}}",
	), opts)
	requireProblem(t, err, 2, "the document has 3 rules, more than the 2 it may have")

	// Each use of an alias counts again, so a short document cannot make the mock hold much.
	_, err = rules.Parse("l.yaml", doc(
		"version: 1",
		"rules:",
		"  - name: a",
		"    when: {email_contains: &many [a, b, c], kind: one_time}",
		"    then: {result: APPROVED}",
		"  - name: b",
		"    when: {email_contains: *many, kind: final}",
		"    then: {result: APPROVED}",
	), opts)
	// An alias's values are where its anchor is; the message names the rule that used it.
	requireProblem(t, err, 4, `rule "b": when.email_contains: the document's conditions list more than 5 values in all`)

	set, err := rules.Parse("l.yaml", doc(
		"version: 1",
		"rules:",
		"  - {name: a, when: {email_contains: [a, b, c], kind: one_time}, then: {result: APPROVED}}",
	), opts)
	require.NoError(t, err)
	require.Equal(t, 1, set.Len())
}

func TestErrorsListsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := rules.Load("e.yaml", doc("version: 2", "rules:", "  - name: a", "    then: {result: MAYBE}"))
	problems := rules.Errors(err)
	require.Len(t, problems, 2)
	require.Equal(t, []int{1, 4}, []int{problems[0].Line, problems[1].Line})
	require.Nil(t, rules.Errors(fmt.Errorf("something else")))
}

// TestSyntaxErrorInALongDocument checks that the line of a syntax error is found in a long
// document too (a tenant's may have thousands of lines), where yaml.v3 names the line the
// enclosing block starts on (here 2, rules:). Finding it costs a few parses, not one per line,
// so that a long document with a syntax error is answered at once.
func TestSyntaxErrorInALongDocument(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("version: 1\nrules:\n")
	for i := range 3000 {
		fmt.Fprintf(&b, "  - name: rule %d\n    when: {amount: %d}\n    then: {result: APPROVED}\n", i, i)
	}
	lines := strings.Count(b.String(), "\n")
	b.WriteString("  - name: last\n    when: {amount: 1}\n   then: {result: APPROVED}\n")
	_, err := rules.Parse("long.yaml", []byte(b.String()), rules.Options{})
	requireProblem(t, err, lines+3, "YAML syntax error: did not find expected '-' indicator")
}

func TestLookup(t *testing.T) {
	t.Parallel()
	partial := mustLoad(t, "p.yaml", "version: 1", "rules:", "  - name: big", "    when: {amount: {min: 100000}}", "    then: {result: DECLINED}")
	d, ok := partial.Lookup(&rules.Facts{Kind: rules.KindOneTime, HasAmount: true, Amount: 100000})
	require.True(t, ok)
	require.Equal(t, "big", d.Rule)
	_, ok = partial.Lookup(&rules.Facts{Kind: rules.KindOneTime, HasAmount: true, Amount: 1})
	require.False(t, ok)
	_, ok = partial.Lookup(nil)
	require.False(t, ok)
	var none *rules.Set
	_, ok = none.Lookup(&rules.Facts{Kind: rules.KindOneTime})
	require.False(t, ok)
}
