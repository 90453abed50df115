package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// ruleFile writes a rules document whose one rule is called name into dir as file.
func ruleFile(t *testing.T, dir, file, name string) string {
	t.Helper()
	path := filepath.Join(dir, file)
	doc := "version: 1\nrules:\n  - name: " + name + "\n    when: {email: qa@shop.example}\n    then: {result: APPROVED}\n"
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path
}

// ruleNames runs klarna-mock rules get for key and returns the names of the rules in order and
// whether they are the defaults.
func ruleNames(t *testing.T, url, key string) ([]string, bool) {
	t.Helper()
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"rules", "--mock", url, "--api-key", key, "get"}, env(nil), &out, io.Discard))
	var view struct {
		Defaults bool `json:"defaults"`
		Rules    []struct {
			Name string `json:"name"`
		} `json:"rules"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &view), out.String())
	names := make([]string, len(view.Rules))
	for i, r := range view.Rules {
		names[i] = r.Name
	}
	return names, view.Defaults
}

func TestRulesCommand(t *testing.T) {
	t.Parallel()
	url := start(t)
	dir := t.TempDir()
	rules := func(key string, args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"rules", "--mock", url, "--api-key", key}, args...), env(nil), &out, io.Discard)
		return out.String(), err
	}

	out, err := rules("klarna_test_api_rules_a", "put", ruleFile(t, dir, "a.yaml", "tester a"))
	require.NoError(t, err)
	require.Contains(t, out, `"defaults": false`)
	names, defaults := ruleNames(t, url, "klarna_test_api_rules_a")
	require.False(t, defaults)
	require.Equal(t, "tester a", names[0])
	names, defaults = ruleNames(t, url, "klarna_test_api_rules_b")
	require.True(t, defaults, "another key keeps the defaults")
	require.Equal(t, "denied email", names[0])

	// JSON by the file's extension.
	js := filepath.Join(dir, "b.JSON")
	require.NoError(t, os.WriteFile(js, []byte(`{"version": 1, "rules": [{"name": "json rule", "then": {"result": "APPROVED"}}]}`), 0o600))
	out, err = rules("klarna_test_api_rules_b", "put", js)
	require.NoError(t, err)
	require.Contains(t, out, `"format": "json"`)

	// A bad document is refused with each problem's line, and changes nothing.
	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("version: 1\nrules:\n  - name: x\n    when: {kind: onetime}\n    then: {result: MAYBE}\n"), 0o600))
	_, err = rules("klarna_test_api_rules_a", "put", bad)
	require.ErrorContains(t, err, "400 VALIDATION_ERROR")
	require.ErrorContains(t, err, "\n  line 4: rule \"x\": when.kind: unknown kind \"onetime\"")
	require.ErrorContains(t, err, "\n  line 5: ")
	names, _ = ruleNames(t, url, "klarna_test_api_rules_a")
	require.Equal(t, "tester a", names[0])

	_, err = rules("klarna_test_api_rules_a", "put", filepath.Join(dir, "missing.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)

	out, err = rules("klarna_test_api_rules_a", "delete")
	require.NoError(t, err)
	require.Contains(t, out, `"defaults": true`)
	_, defaults = ruleNames(t, url, "klarna_test_api_rules_a")
	require.True(t, defaults)
}

// TestReloadRules checks the reload itself: a good file replaces the default rules at once, a
// bad one or none leaves them and logs why.
func TestReloadRules(t *testing.T) {
	t.Parallel()
	defaults, err := fixtures.DefaultSet()
	require.NoError(t, err)
	svc := mockserver.NewService(mockserver.Config{Rules: defaults})
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	dir := t.TempDir()

	path := ruleFile(t, dir, "r.yaml", "reloaded")
	reloadRules(path, svc, logger)
	require.Equal(t, "reloaded", svc.DefaultRules().Rules()[0].Name)
	require.Contains(t, logs.String(), "fixtures reloaded")

	require.NoError(t, os.WriteFile(path, []byte("version: 1\nrules: []\n"), 0o600))
	reloadRules(path, svc, logger)
	require.Equal(t, "reloaded", svc.DefaultRules().Rules()[0].Name, "a bad file keeps the rules in use")
	require.Contains(t, logs.String(), "the rules in use stay")
	require.Contains(t, logs.String(), "r.yaml:2: rules is empty")

	reloadRules("", svc, logger)
	require.Equal(t, "reloaded", svc.DefaultRules().Rules()[0].Name)
	require.Contains(t, logs.String(), "no --fixtures file to reload")
}

// TestHangupReloadsTheFixtures checks the wiring: the running command reloads --fixtures on each
// hang-up, here from a channel the test hands it rather than a signal to the test's process.
func TestHangupReloadsTheFixtures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := ruleFile(t, dir, "rules.yaml", "first")
	// Unbuffered, and reloads run one after the other: once a hang-up is taken the one before
	// it has been dealt with, so a second one makes sure the first reload is done.
	hangups := make(chan os.Signal)
	hangUp := func() {
		hangups <- syscall.SIGHUP
		hangups <- syscall.SIGHUP
	}
	url := startUnder(t, withHangups(context.Background(), hangups), env(nil), "--fixtures", path)
	const key = "klarna_test_api_hangup"
	names, _ := ruleNames(t, url, key)
	require.Equal(t, "first", names[0])

	ruleFile(t, dir, "rules.yaml", "second")
	hangUp()
	names, _ = ruleNames(t, url, key)
	require.Equal(t, "second", names[0])

	require.NoError(t, os.WriteFile(path, []byte("version: 1\nrules:\n  - name: [\n"), 0o600))
	hangUp()
	names, _ = ruleNames(t, url, key)
	require.Equal(t, "second", names[0], "a bad reload keeps the rules")
}
