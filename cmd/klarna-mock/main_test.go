package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/internal/httpserver/slowclient"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// env returns a getenv over a fixed map, so tests never read the real environment.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// start runs the mock in-process on a free port and returns its base URL; the mock stops when
// the test ends, and its run error is checked.
func start(t *testing.T, args ...string) string {
	t.Helper()
	return startWith(t, env(nil), args...)
}

// startWith is start with the environment getenv.
func startWith(t *testing.T, getenv func(string) string, args ...string) string {
	t.Helper()
	return startUnder(t, context.Background(), getenv, args...)
}

// startUnder is startWith with the mock run under ctx.
func startUnder(t *testing.T, ctx context.Context, getenv func(string) string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), getenv, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err)
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, line)
	return url
}

func TestRunServesAndStops(t *testing.T) {
	t.Parallel()
	url := start(t, "--log-format", "json")
	var sb strings.Builder
	require.NoError(t, run(context.Background(), []string{"clock", "--mock", url, "--api-key", "klarna_test_api_serves"}, env(nil), &sb, io.Discard))
	require.Contains(t, sb.String(), `"offset": "0s"`)
}

// TestClockNeedsTheAPIKey checks that the clock command sends the API key, from the flag or the
// environment, and that the mock refuses a clock call without one.
func TestClockNeedsTheAPIKey(t *testing.T) {
	t.Parallel()
	url := start(t)
	err := run(context.Background(), []string{"clock", "--mock", url}, env(nil), io.Discard, io.Discard)
	require.ErrorContains(t, err, "401 UNAUTHORIZED")

	// Each key is its own tenant with its own clock: moving one leaves the other alone.
	var a, b strings.Builder
	require.NoError(t, run(context.Background(), []string{"clock", "--mock", url, "advance", "PT3H"},
		env(map[string]string{"KLARNA_MOCK_API_KEY": "klarna_test_api_a"}), &a, io.Discard))
	require.Contains(t, a.String(), `"offset": "3h0m0s"`)
	require.NoError(t, run(context.Background(), []string{"clock", "--mock", url, "--api-key", "klarna_test_api_b"}, env(nil), &b, io.Discard))
	require.Contains(t, b.String(), `"offset": "0s"`)
}

// TestResetWipesTheKeysTenant checks that the reset command wipes the API key's tenant, its
// clock's moves included, and leaves another key's alone; without a key the mock refuses it.
func TestResetWipesTheKeysTenant(t *testing.T) {
	t.Parallel()
	url := start(t)
	ctl := func(key string, args ...string) string {
		t.Helper()
		var out strings.Builder
		require.NoError(t, run(context.Background(), append([]string{args[0], "--mock", url, "--api-key", key}, args[1:]...), env(nil), &out, io.Discard))
		return out.String()
	}
	ctl("klarna_test_api_wiped", "clock", "advance", "PT3H")
	ctl("klarna_test_api_kept", "clock", "advance", "PT1H")

	var out map[string]any
	require.NoError(t, json.Unmarshal([]byte(ctl("klarna_test_api_wiped", "reset")), &out))
	require.Equal(t, map[string]any{"reset": true, "objects_removed": float64(0)}, out)
	require.Contains(t, ctl("klarna_test_api_wiped", "clock"), `"offset": "0s"`)
	require.Contains(t, ctl("klarna_test_api_kept", "clock"), `"offset": "1h0m0s"`)

	err := run(context.Background(), []string{"reset", "--mock", url}, env(nil), io.Discard, io.Discard)
	require.ErrorContains(t, err, "401 UNAUTHORIZED")
}

// TestRetentionAndQuotaFlags checks --max-objects, --retention and --max-tenants and their
// environment variables: a bad value is a usage error naming where it came from, and a quota
// reached is the mock's 429 naming the flag.
func TestRetentionAndQuotaFlags(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
		msg  string
	}{
		"zero quota":               {args: []string{"--max-objects", "0"}, msg: "--max-objects 0"},
		"quota not a number":       {env: map[string]string{"KLARNA_MOCK_MAX_OBJECTS": "many"}, msg: `KLARNA_MOCK_MAX_OBJECTS="many"`},
		"negative retention":       {args: []string{"--retention", "-1h"}, msg: "--retention -1h0m0s"},
		"no tenants":               {args: []string{"--max-tenants", "0"}, msg: "--max-tenants 0"},
		"tenants not a number":     {env: map[string]string{"KLARNA_MOCK_MAX_TENANTS": "1k"}, msg: `KLARNA_MOCK_MAX_TENANTS="1k"`},
		"retention not a duration": {env: map[string]string{"KLARNA_MOCK_RETENTION": "a day"}, msg: `KLARNA_MOCK_RETENTION="a day"`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), tc.args, env(tc.env), io.Discard, io.Discard)
			require.ErrorIs(t, err, cli.ErrUsage)
			require.ErrorContains(t, err, tc.msg)
		})
	}

	// The environment sets the quota; a flag on the command line wins over it.
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"from the environment":  {env: map[string]string{"KLARNA_MOCK_MAX_OBJECTS": "1", "KLARNA_MOCK_RETENTION": "1h"}},
		"flag over environment": {args: []string{"--max-objects", "1"}, env: map[string]string{"KLARNA_MOCK_MAX_OBJECTS": "5000"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			url := startWith(t, env(tc.env), tc.args...)
			mint := func() *http.Response {
				req, _ := http.NewRequest(http.MethodPost, url+"/v2/accounts/krn:partner:global:account:test:QUOTA001/interoperability/test-tokens", strings.NewReader(`{}`))
				req.Header.Set("Authorization", "Basic klarna_test_api_quota")
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				t.Cleanup(func() { resp.Body.Close() })
				return resp
			}
			require.Equal(t, http.StatusCreated, mint().StatusCode)
			resp := mint()
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Contains(t, string(body), `"error_code":"QUOTA_EXCEEDED"`)
			require.Contains(t, string(body), "--max-objects")
		})
	}
}

// TestRunCutsOffASlowBody checks that the server of the command has the read timeout of its
// flag: a client trickling its body gets the Klarna-shaped 400 and the connection closes.
func TestRunCutsOffASlowBody(t *testing.T) {
	t.Parallel()
	url := start(t, "--read-timeout", "300ms")
	resp, body := slowclient.SlowBody(t, strings.TrimPrefix(url, "http://"),
		"POST /v2/accounts/krn:partner:global:account:test:SLOW0001/payment/authorize HTTP/1.1\r\n"+
			"Host: mock\r\nAuthorization: Basic klarna_test_api_slow\r\nContent-Type: application/json")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.Contains(t, body, `"error_code":"VALIDATION_ERROR"`)
}

func TestRunWithFixturesAndCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rulesFile := filepath.Join(dir, "rules.yaml")
	require.NoError(t, os.WriteFile(rulesFile, []byte(`version: 1
rules:
  - name: everything steps up and the customer approves
    when: { kind: [one_time, customer_present] }
    then: { result: STEP_UP_REQUIRED, customer: { action: approve, after: 1ms } }
`), 0o600))
	url := start(t, "--fixtures", rulesFile)

	body := `{"currency":"USD","request_payment_transaction":{"amount":500},"step_up_config":{"customer_interaction_config":{"method":"SDK"}}}`
	req, _ := http.NewRequest(http.MethodPost, url+"/v2/accounts/krn:partner:global:account:test:CLI00001/payment/authorize", strings.NewReader(body))
	req.Header.Set("Authorization", "Basic klarna_test_api_cli")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var out struct {
		PaymentRequest struct {
			PaymentRequestID string `json:"payment_request_id"`
		} `json:"payment_request"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	id := out.PaymentRequest.PaymentRequestID
	require.NotEmpty(t, id)

	// The scripted customer approves by itself on the real clock.
	require.Eventually(t, func() bool {
		var sb strings.Builder
		err := run(context.Background(), []string{"journey", "--mock", url, "--api-key", "klarna_test_api_cli", "open", id}, env(nil), &sb, io.Discard)
		return err != nil && strings.Contains(err.Error(), "COMPLETED")
	}, 5*time.Second, 10*time.Millisecond)

	var sb strings.Builder
	require.NoError(t, run(context.Background(), []string{"clock", "advance", "PT2H"},
		env(map[string]string{"KLARNA_MOCK_URL": url, "KLARNA_MOCK_API_KEY": "klarna_test_api_cli"}), &sb, io.Discard))
	require.Contains(t, sb.String(), `"offset": "2h0m0s"`)
}

func TestRunRejectsBadConfiguration(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: x\n    then: { result: MAYBE }\n"), 0o600))
	for name, args := range map[string][]string{
		"bad fixtures":     {"--fixtures", bad},
		"missing fixtures": {"--fixtures", filepath.Join(dir, "none.yaml")},
		"missing accounts": {"--accounts", filepath.Join(dir, "none.yaml")},
		"bad log format":   {"--log-format", "xml"},
		"bad log level":    {"--log-level", "loud"},
		"extra argument":   {"serve-please"},
		"bad address":      {"--addr", "not-an-address"},
		"no read timeout":  {"--read-timeout", "0"},
		"negative procs":   {"--procs", "-1"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := run(context.Background(), args, env(nil), io.Discard, io.Discard)
			require.Error(t, err)
		})
	}
	err := run(context.Background(), []string{"--fixtures", bad}, env(nil), io.Discard, io.Discard)
	require.ErrorContains(t, err, "bad.yaml:4")
}

// TestMaxProcs checks the GOMAXPROCS the --procs flag sets: the flag's number, else none when
// the environment sets GOMAXPROCS (the runtime has applied it), else twice the CPUs the runtime
// found at start.
func TestMaxProcs(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		flag int
		env  map[string]string
		want int
	}{
		"default":           {want: 2 * cpuProcs},
		"flag":              {flag: 3, want: 3},
		"environment":       {env: map[string]string{"GOMAXPROCS": "1"}, want: 0},
		"flag over the env": {flag: 5, env: map[string]string{"GOMAXPROCS": "1"}, want: 5},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, maxProcs(c.flag, env(c.env)))
		})
	}
}

// TestHelp checks that help exits 0 and names every subcommand and every action that the code
// accepts, taking both from the lists the code dispatches on, so that a new one cannot go
// missing from the help.
func TestHelp(t *testing.T) {
	t.Parallel()
	type helpCase struct {
		args []string
		want []*regexp.Regexp // lines the help must have
	}
	line := func(first, rest string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(first) + ` {2,}` + rest + `$`)
	}
	top := []*regexp.Regexp{regexp.MustCompile(`(?m)^  -addr string$`)} // the serving flags
	for _, cmd := range commands() {
		top = append(top, line(cmd.name, regexp.QuoteMeta(cmd.summary)))
	}
	cases := map[string]helpCase{
		"--help": {args: []string{"--help"}, want: top},
		"-h":     {args: []string{"-h"}, want: top},
		"-help":  {args: []string{"-help"}, want: top},
	}
	for _, cmd := range commands() {
		if cmd.runs != nil {
			// A command with flags of its own (healthcheck) starts its help with its summary.
			want := []*regexp.Regexp{regexp.MustCompile(`(?m)^klarna-mock ` + cmd.name + `: ` + regexp.QuoteMeta(cmd.summary) + `\.$`)}
			for _, flag := range []string{"--help", "-h"} {
				cases[cmd.name+" "+flag] = helpCase{args: []string{cmd.name, flag}, want: want}
			}
			continue
		}
		var want []*regexp.Regexp
		for _, a := range cmd.actions {
			want = append(want, line(a.usage(), `\S.*`)) // with a summary
		}
		switch {
		case len(cmd.actions) == 0:
			want = append(want, regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(cmd.bare.summary)+`$`),
				regexp.MustCompile(`(?m)^Usage: klarna-mock `+cmd.name+` \[-mock URL\] \[-api-key KEY\]$`))
		case cmd.bare != nil:
			want = append(want, line("(none)", regexp.QuoteMeta(cmd.bare.summary)))
		}
		cases[cmd.name+" --help"] = helpCase{args: []string{cmd.name, "--help"}, want: want}
		cases[cmd.name+" -h"] = helpCase{args: []string{cmd.name, "-h"}, want: want}
		cases[cmd.name+" -mock URL -h"] = helpCase{args: []string{cmd.name, "-mock", "http://127.0.0.1:1", "-h"}, want: want}
		if len(cmd.actions) > 0 {
			cases[cmd.name+" ACTION --help"] = helpCase{args: []string{cmd.name, cmd.actions[0].name, "--help"}, want: want}
		}
	}
	var journey []*regexp.Regexp
	for _, a := range mockserver.JourneyActions {
		journey = append(journey, line(string(a)+" PAYMENT_REQUEST_ID", `\S.*`))
	}
	cases["journey --help names every mockserver.JourneyAction"] = helpCase{args: []string{"journey", "--help"}, want: journey}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr strings.Builder
			err := run(context.Background(), tc.args, env(nil), &stdout, &stderr)
			require.NoError(t, err)
			require.Equal(t, 0, cli.ExitCode(err))
			require.Empty(t, stderr.String())
			for _, re := range tc.want {
				require.Regexp(t, re, stdout.String())
			}
		})
	}
}

func TestCLIUsage(t *testing.T) {
	t.Parallel()
	type usageCase struct {
		args []string
		msg  string // part of the error
	}
	cases := map[string]usageCase{
		"unknown command":        {[]string{"rewind"}, `unknown command "rewind": use journey, clock`},
		"unknown journey action": {[]string{"journey", "fly", "x"}, `unknown journey action "fly": use open, approve, decline, back-out, abandon`},
		"journey without action": {[]string{"journey"}, "journey needs an action"},
		"unknown clock action":   {[]string{"clock", "rewind"}, `unknown clock action "rewind": use advance`},
		"reset with an argument": {[]string{"reset", "everything"}, "klarna-mock reset takes no arguments"},
		"unknown flag":           {[]string{"journey", "-nope"}, "see klarna-mock journey --help"},
		"serve, unknown flag":    {[]string{"--nope"}, "see klarna-mock --help"},
	}
	for _, cmd := range commands() {
		for _, a := range cmd.actions {
			args := append([]string{cmd.name, a.name}, a.args...)
			usage := "klarna-mock " + cmd.name + " [-mock URL] [-api-key KEY] " + a.usage()
			cases[cmd.name+" "+a.name+", too many arguments"] = usageCase{append(args, "extra"), usage}
			if len(a.args) > 0 {
				cases[cmd.name+" "+a.name+", too few arguments"] = usageCase{args[:len(args)-1], usage}
			}
		}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout strings.Builder
			err := run(context.Background(), tc.args, env(nil), &stdout, io.Discard)
			require.ErrorIs(t, err, cli.ErrUsage)
			require.Equal(t, 2, cli.ExitCode(err))
			require.ErrorContains(t, err, tc.msg)
			require.Empty(t, stdout.String())
		})
	}
}

// TestJourneyActionsReachTheMock checks that the CLI accepts every journey action the mock has
// and posts it to the mock's control API.
func TestJourneyActionsReachTheMock(t *testing.T) {
	t.Parallel()
	for _, a := range mockserver.JourneyActions {
		t.Run(string(a), func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 1)
			mock := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization")
				_, _ = io.WriteString(w, `{"state":"ANY"}`)
			}))
			t.Cleanup(mock.Close)
			var stdout strings.Builder
			err := run(context.Background(), []string{"journey", "-mock", mock.URL, string(a), "krn:payment:eu1:request:1"},
				env(map[string]string{"KLARNA_MOCK_API_KEY": "klarna_test_api_journey"}), &stdout, io.Discard)
			require.NoError(t, err)
			require.Equal(t, "POST /mock/v1/payment-requests/krn:payment:eu1:request:1/"+string(a)+" Basic klarna_test_api_journey", <-got)
			require.JSONEq(t, `{"state":"ANY"}`, stdout.String())
		})
	}
}
