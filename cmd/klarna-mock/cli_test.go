package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFlagsAfterTheAction runs every action of every command that drives the control API with
// its -mock and -api-key flags written after the action and its arguments, as the README writes
// them (klarna-mock rules get --api-key $K), and between them, and checks each reaches the mock
// named by -mock with the key of -api-key. No command is left out: the loop walks commands().
func TestFlagsAfterTheAction(t *testing.T) {
	t.Parallel()
	const key = "klarna_test_api_flags_after"
	file := filepath.Join(t.TempDir(), "doc.json")
	require.NoError(t, os.WriteFile(file, []byte(`{}`), 0o600))
	// argValue is what each named positional argument gets: something the action can read.
	argValue := map[string]string{"FILE": file, "FAULT": `{}`, "VARIANT": "normal", "DURATION": "1m"}
	for _, cmd := range commands() {
		if cmd.runs != nil {
			continue // healthcheck parses its own flags and takes no arguments
		}
		actions := cmd.actions
		if cmd.bare != nil {
			actions = append([]action{*cmd.bare}, actions...)
		}
		for _, a := range actions {
			var positional []string
			if a.name != "" {
				positional = append(positional, a.name)
			}
			for _, name := range a.args {
				v, ok := argValue[name]
				if !ok {
					v = "krn:some:id"
				}
				positional = append(positional, v)
			}
			for where, args := range map[string]func(mock string) []string{
				"after": func(mock string) []string {
					return append(append([]string{cmd.name}, positional...), "--mock", mock, "--api-key", key)
				},
				"between": func(mock string) []string {
					return append(append([]string{cmd.name, "-api-key=" + key}, positional...), "-mock", mock)
				},
			} {
				t.Run(strings.Join(append([]string{cmd.name}, positional...), " ")+", flags "+where, func(t *testing.T) {
					t.Parallel()
					got := make(chan string, 1)
					mock := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
						got <- r.Header.Get("Authorization")
						_, _ = io.WriteString(w, `{}`)
					}))
					t.Cleanup(mock.Close)
					ctx := withStdin(context.Background(), strings.NewReader(`{}`))
					require.NoError(t, run(ctx, args(mock.URL), env(nil), io.Discard, io.Discard))
					require.Equal(t, "Basic "+key, <-got)
				})
			}
		}
	}
}
