package examples

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// lookTools returns the path of bash, or skips the test when bash, curl or jq is missing. Under
// CI=true a missing tool fails the test instead: CI must run the walkthrough (.ci/run installs
// curl and jq).
func lookTools(t *testing.T) string {
	t.Helper()
	var bash string
	for _, name := range []string{"bash", "curl", "jq"} {
		p, err := exec.LookPath(name)
		if err != nil {
			if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
				t.Fatalf("%s is not installed, but CI must run the walkthrough: apt-get install %s (.ci/run does)", name, name)
			}
			t.Skipf("%s is not installed: apt-get install %s to run the walkthrough", name, name)
		}
		if name == "bash" {
			bash = p
		}
	}
	return bash
}

// walk runs walkthrough.sh with args and the extra environment, and returns its combined output.
// The script's own settings are fixed, so a developer's environment cannot change the outcome.
func walk(t *testing.T, bash string, args []string, env ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, append([]string{"walkthrough.sh"}, args...)...)
	cmd.Env = append(os.Environ(), "KLARNA_MOCK_URL=", "WALKTHROUGH_API_KEY=", "WALKTHROUGH_ACCOUNT=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestWalkthrough runs the script against a fresh mock, given its URL as the argument or in
// KLARNA_MOCK_URL, with the default test keys or an accounts file, and expects every step to be
// answered as the script expects.
func TestWalkthrough(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	accounts := testkit.WithAccounts([]byte(`
accounts:
  - api_key: klarna_test_api_team_a
    partner_account_id: krn:partner:global:account:test:TEAMA001
`))
	for _, tc := range []struct {
		name string
		opts []testkit.Option
		args func(url string) []string
		env  func(url string) []string
	}{
		{name: "url argument", args: func(url string) []string { return []string{url} }},
		{name: "KLARNA_MOCK_URL", env: func(url string) []string { return []string{"KLARNA_MOCK_URL=" + url} }},
		{
			name: "accounts file", opts: []testkit.Option{accounts},
			args: func(url string) []string { return []string{"-v", url} },
			env: func(string) []string {
				return []string{"WALKTHROUGH_API_KEY=klarna_test_api_team_a", "WALKTHROUGH_ACCOUNT=krn:partner:global:account:test:TEAMA001"}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := testkit.NewMock(t, tc.opts...)
			var args, env []string
			if tc.args != nil {
				args = tc.args(m.URL)
			}
			if tc.env != nil {
				env = tc.env(m.URL)
			}
			out, err := walk(t, bash, args, env...)
			require.NoError(t, err, "walkthrough.sh failed:\n%s", out)
			require.Contains(t, out, "7. read the transaction: AUTHORIZED")
			require.Contains(t, out, "walkthrough: all steps answered as expected")
		})
	}
}

// TestWalkthroughStopsOnUnexpectedAnswer runs the script against a mock that declines every
// initial authorize: the walk must stop at the first step with exit status 1 and show the answer.
func TestWalkthroughStopsOnUnexpectedAnswer(t *testing.T) {
	t.Parallel()
	bash := lookTools(t)
	m := testkit.NewMock(t, testkit.WithFixtures([]byte(`
version: 1
rules:
  - name: decline every call
    then: {result: DECLINED, result_reason: RISK_REJECTED}
`)))
	out, err := walk(t, bash, []string{m.URL})
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "the walk must fail:\n%s", out)
	require.Equal(t, 1, exit.ExitCode(), out)
	require.Contains(t, out, `"result":"DECLINED"`)
	require.NotContains(t, out, "1. initial authorize")
}
