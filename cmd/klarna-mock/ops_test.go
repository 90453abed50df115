package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
)

func TestVersionFlag(t *testing.T) {
	t.Parallel()
	var stdout strings.Builder
	require.NoError(t, run(context.Background(), []string{"--version"}, env(nil), &stdout, io.Discard))
	require.Equal(t, "klarna-mock "+app.Version()+"\n", stdout.String(), "without -X main.version, the build's own version")
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	url := start(t)
	host := strings.TrimPrefix(url, "http://")
	_, port, err := net.SplitHostPort(host)
	require.NoError(t, err)

	// A dead address: a port that was listened on and is closed again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	unready := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, `{"status":"not_ready"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(unready.Close)

	type hcCase struct {
		args []string
		env  map[string]string
		exit int
		out  string // part of stdout (exit 0) or of the error
	}
	for name, tc := range map[string]hcCase{
		"--url":                               {args: []string{"--url", url + "/readyz"}, out: `"status":"ready"`},
		"KLARNA_MOCK_ADDR":                    {env: map[string]string{envAddr: host}, out: `"version":"` + app.Version() + `"`},
		"KLARNA_MOCK_ADDR on every interface": {env: map[string]string{envAddr: "0.0.0.0:" + port}, out: `"status":"ready"`},
		"--url of /healthz":                   {args: []string{"-url", url + "/healthz"}, out: `"status":"ok"`},
		"dead":                                {args: []string{"--url", "http://" + dead + "/readyz"}, exit: 1, out: "not ready"},
		"dead KLARNA_MOCK_ADDR":               {env: map[string]string{envAddr: dead}, exit: 1, out: "connection refused"},
		"503":                                 {args: []string{"--url", unready.URL + "/readyz"}, exit: 1, out: "503 Service Unavailable"},
		"KLARNA_MOCK_ADDR without a port":     {env: map[string]string{envAddr: "127.0.0.1"}, exit: 2, out: "pass -url"},
		"an argument":                         {args: []string{"now"}, exit: 2, out: "takes no arguments"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var stdout strings.Builder
			err := run(context.Background(), append([]string{"healthcheck", "--timeout", "5s"}, tc.args...), env(tc.env), &stdout, io.Discard)
			require.Equal(t, tc.exit, cli.ExitCode(err), "%v", err)
			if tc.exit == 0 {
				require.Contains(t, stdout.String(), tc.out)
				return
			}
			require.ErrorContains(t, err, tc.out)
		})
	}
}

func TestReadyzURL(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"0.0.0.0:8480":   "http://127.0.0.1:8480/readyz",
		":8480":          "http://127.0.0.1:8480/readyz",
		"[::]:8480":      "http://[::1]:8480/readyz",
		"127.0.0.1:9000": "http://127.0.0.1:9000/readyz",
		"mock.test:8480": "http://mock.test:8480/readyz",
	} {
		got, err := readyzURL(addr)
		require.NoError(t, err, addr)
		require.Equal(t, want, got, addr)
	}
	for _, addr := range []string{"127.0.0.1:0", "8480", ""} {
		_, err := readyzURL(addr)
		require.ErrorIs(t, err, cli.ErrUsage, addr)
	}
}

// dockerfile is what the tests read from the repository's Dockerfile: the instructions of each
// stage, with line continuations joined.
type dockerfile struct {
	stages [][]instruction
}

// instruction is one Dockerfile instruction: its keyword, upper case, and the rest of its line.
type instruction struct{ keyword, args string }

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "Dockerfile"))
	require.NoError(t, err)
	var d dockerfile
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		keyword, args, _ := strings.Cut(line, " ")
		in := instruction{keyword: strings.ToUpper(keyword), args: strings.TrimSpace(args)}
		if in.keyword == "FROM" {
			d.stages = append(d.stages, nil)
		}
		require.NotEmpty(t, d.stages, "%q comes before the first FROM", line)
		d.stages[len(d.stages)-1] = append(d.stages[len(d.stages)-1], in)
	}
	require.Len(t, d.stages, 2, "a build stage and the image")
	return d
}

// all returns the arguments of every instruction of stage with the keyword.
func (d dockerfile) all(stage int, keyword string) []string {
	var out []string
	for _, in := range d.stages[stage] {
		if in.keyword == keyword {
			out = append(out, in.args)
		}
	}
	return out
}

// one returns the arguments of the one instruction of stage with the keyword.
func (d dockerfile) one(t *testing.T, stage int, keyword string) string {
	t.Helper()
	all := d.all(stage, keyword)
	require.Len(t, all, 1, "one %s in stage %d", keyword, stage)
	return all[0]
}

// env is the image's ENV settings, by name.
func (d dockerfile) env(t *testing.T) map[string]string {
	t.Helper()
	vars := map[string]string{}
	for _, args := range d.all(1, "ENV") {
		name, value, ok := strings.Cut(args, "=")
		require.True(t, ok, "ENV %s: write ENV NAME=value", args)
		vars[name] = value
	}
	return vars
}

// TestDockerfile checks the Dockerfile against the code: fully qualified base images, and a
// HEALTHCHECK that runs the image's own binary with a subcommand and flags that exist, finding
// the mock at the address the image's environment gives it.
func TestDockerfile(t *testing.T) {
	t.Parallel()
	d := readDockerfile(t)
	for i := range d.stages {
		image, _, _ := strings.Cut(d.one(t, i, "FROM"), " ")
		registry, _, _ := strings.Cut(image, "/")
		require.True(t, strings.ContainsAny(registry, ".:"), "FROM %s: name the registry, e.g. docker.io/library/golang", image)
	}

	var entrypoint []string
	require.NoError(t, json.Unmarshal([]byte(d.one(t, 1, "ENTRYPOINT")), &entrypoint))
	require.Contains(t, d.one(t, 1, "COPY"), " "+entrypoint[0], "the ENTRYPOINT is the binary the build stage made")

	hc := strings.Fields(d.one(t, 1, "HEALTHCHECK"))
	i := slices.Index(hc, "CMD")
	require.Positive(t, i, "HEALTHCHECK [OPTIONS] CMD [...]")
	var argv []string
	require.NoError(t, json.Unmarshal([]byte(strings.Join(hc[i+1:], " ")), &argv), "the exec form: the image has no shell")
	require.GreaterOrEqual(t, len(argv), 2)
	require.Equal(t, entrypoint[0], argv[0], "the check runs the image's own binary")
	cmd, ok := findCommand(argv[1])
	require.True(t, ok, "klarna-mock %s is not a command", argv[1])
	require.Equal(t, "healthcheck", cmd.name)
	// The flags exist: with them all, asking for help succeeds rather than failing on a flag.
	var help strings.Builder
	require.NoError(t, run(context.Background(), append(argv[1:], "--help"), env(nil), &help, io.Discard))
	require.Contains(t, help.String(), "klarna-mock healthcheck:")

	// Docker's timeout leaves the check time to report why it failed.
	for _, opt := range hc[:i] {
		if v, ok := strings.CutPrefix(opt, "--timeout="); ok {
			timeout, err := time.ParseDuration(v)
			require.NoError(t, err)
			require.Greater(t, timeout, healthcheckTimeout)
		}
	}

	// The environment it finds the mock by is the one the mock listens by.
	vars := d.env(t)
	require.Contains(t, vars, envAddr)
	url, err := readyzURL(vars[envAddr])
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8480/readyz", url)
	require.Contains(t, d.one(t, 1, "EXPOSE"), "8480")
}

// buildCommand is the Dockerfile's go build, split into its environment settings and the go
// command's arguments, with the build stage's ARGs replaced by args (absent ones by their
// default) and the output redirected to out.
func (d dockerfile) buildCommand(t *testing.T, args map[string]string, out string) (env, argv []string) {
	t.Helper()
	defaults := map[string]string{}
	for _, a := range d.all(0, "ARG") {
		name, value, _ := strings.Cut(a, "=")
		defaults[name] = strings.Trim(value, `"`)
	}
	var build string
	for _, run := range d.all(0, "RUN") {
		if strings.Contains(run, "go build") {
			build = run
		}
	}
	require.NotEmpty(t, build, "the build stage runs go build")
	expand := func(name string) string {
		require.Contains(t, defaults, name, "${%s} is not an ARG of the build stage", name)
		if v, ok := args[name]; ok {
			return v
		}
		return defaults[name]
	}
	words := shellWords(t, os.Expand(build, expand))
	for len(words) > 0 && strings.Contains(words[0], "=") {
		env, words = append(env, words[0]), words[1:]
	}
	require.Equal(t, []string{"go", "build"}, words[:2])
	argv = words[1:]
	o := slices.Index(argv, "-o")
	require.Positive(t, o)
	argv[o+1] = out
	return env, argv
}

// shellWords splits a command line as the shell does for the Dockerfile's RUN: on blanks,
// outside double quotes, which it removes.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var word strings.Builder
	quoted, inWord := false, false
	for _, c := range line {
		switch {
		case c == '"':
			quoted, inWord = !quoted, true
		case (c == ' ' || c == '\t') && !quoted:
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			require.NotContains(t, `'\$`+"`", string(c), "the build command uses shell syntax this test does not follow")
			word.WriteRune(c)
			inWord = true
		}
	}
	require.False(t, quoted, "unbalanced quotes")
	if inWord {
		words = append(words, word.String())
	}
	return words
}

// TestBinaryBuiltAsTheDockerfileDoes builds klarna-mock with the Dockerfile's own go build
// command (read from the Dockerfile, so the two cannot drift), then runs --version, serves,
// and runs healthcheck against it alive and dead, as the container would.
func TestBinaryBuiltAsTheDockerfileDoes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice")
	}
	t.Parallel()
	d := readDockerfile(t)
	dir := t.TempDir()
	build := func(name string, args map[string]string) string {
		bin := filepath.Join(dir, name)
		env, argv := d.buildCommand(t, args, bin)
		cmd := exec.Command("go", argv...)
		cmd.Dir = filepath.Join("..", "..") // the Dockerfile builds in its context, the repository
		// The build context has no .git (.dockerignore): no revision to record.
		cmd.Env = append(append(os.Environ(), env...), "GOFLAGS=-buildvcs=false")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		return bin
	}
	version := func(bin string) string {
		out, err := exec.Command(bin, "--version").Output()
		require.NoError(t, err)
		return string(out)
	}

	bin := build("klarna-mock", nil)
	require.Equal(t, "klarna-mock (devel)\n", version(bin), "the default build has no version to tell")
	require.Equal(t, "klarna-mock v9.8.7-test\n", version(build("klarna-mock-versioned", map[string]string{"VERSION": "v9.8.7-test"})),
		"--build-arg VERSION reaches main.version")

	serving := exec.Command(bin, "--addr", "127.0.0.1:0")
	stdout, err := serving.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, serving.Start())
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			require.NoError(t, serving.Process.Signal(syscall.SIGTERM))
			require.NoError(t, serving.Wait())
		}
	}
	t.Cleanup(stop)
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err)
	_, url, ok := strings.Cut(strings.TrimSpace(line), "listening on http://")
	require.True(t, ok, line)
	_, port, err := net.SplitHostPort(url)
	require.NoError(t, err)

	// As in the container: the address from KLARNA_MOCK_ADDR, on every interface.
	healthcheck := func() (string, int) {
		hc := exec.Command(bin, "healthcheck")
		hc.Env = append(os.Environ(), envAddr+"=0.0.0.0:"+port)
		out, err := hc.CombinedOutput()
		if err == nil {
			return string(out), 0
		}
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "%s", out)
		return string(out), exit.ExitCode()
	}
	out, code := healthcheck()
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"version":"(devel)"`)
	stop()
	out, code = healthcheck()
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "not ready")
}
