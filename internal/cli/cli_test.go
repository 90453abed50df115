package cli

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		err  error
		want int
	}{
		"no error":      {nil, 0},
		"usage error":   {Usagef("unknown command %q", "x"), 2},
		"other error":   {errors.New("listen: address in use"), 1},
		"wrapped usage": {errors.Join(errors.New("first"), Usagef("second")), 2},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, ExitCode(tt.err))
		})
	}
}

func TestUsagef(t *testing.T) {
	t.Parallel()
	err := Usagef("unknown command %q", "x")
	require.ErrorIs(t, err, ErrUsage)
	require.EqualError(t, err, `usage: unknown command "x"`)
}

func TestParse(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		args     []string
		wantHelp bool
		wantErr  string
	}{
		"flags":        {args: []string{"-n", "3", "rest"}},
		"-h":           {args: []string{"-h"}, wantHelp: true},
		"-help":        {args: []string{"-help"}, wantHelp: true},
		"--help":       {args: []string{"--n", "1", "--help"}, wantHelp: true},
		"unknown flag": {args: []string{"-nope"}, wantErr: "usage: flag provided but not defined: -nope (see tool --help)"},
		"bad value":    {args: []string{"-n", "x"}, wantErr: "see tool --help"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("tool", flag.ContinueOnError)
			fs.Int("n", 1, "how many")
			var stdout bytes.Buffer
			helped, err := Parse(fs, tt.args, &stdout, func(w io.Writer) {
				_, _ = io.WriteString(w, "Usage: tool\n")
				PrintFlags(w, fs)
			})
			require.Equal(t, tt.wantHelp, helped)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrUsage)
				require.ErrorContains(t, err, tt.wantErr)
				require.Empty(t, stdout.String(), "a mistake prints no help")
				return
			}
			require.NoError(t, err)
			if tt.wantHelp {
				require.Equal(t, "Usage: tool\n  -n int\n    \thow many (default 1)\n", stdout.String())
			} else {
				require.Equal(t, []string{"rest"}, fs.Args())
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		args           []string
		wantPositional []string
		wantN          int
		wantHelp       bool
		wantErr        string
	}{
		"flags first":         {args: []string{"-n", "3", "get", "x"}, wantPositional: []string{"get", "x"}, wantN: 3},
		"flags after":         {args: []string{"get", "x", "--n", "4"}, wantPositional: []string{"get", "x"}, wantN: 4},
		"flags between":       {args: []string{"get", "-n=5", "x"}, wantPositional: []string{"get", "x"}, wantN: 5},
		"no positional":       {args: []string{"-n", "2"}, wantN: 2},
		"dash is positional":  {args: []string{"add", "-", "-n", "6"}, wantPositional: []string{"add", "-"}, wantN: 6},
		"after -- positional": {args: []string{"add", "-n", "7", "--", "-n", "--help"}, wantPositional: []string{"add", "-n", "--help"}, wantN: 7},
		"help after":          {args: []string{"get", "x", "--help"}, wantHelp: true},
		"unknown flag after":  {args: []string{"get", "-nope"}, wantErr: "usage: flag provided but not defined: -nope (see tool --help)"},
		"value missing after": {args: []string{"get", "-n"}, wantErr: "flag needs an argument: -n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := flag.NewFlagSet("tool", flag.ContinueOnError)
			n := fs.Int("n", 1, "how many")
			var stdout bytes.Buffer
			positional, helped, err := ParseInterspersed(fs, tt.args, &stdout, func(w io.Writer) { _, _ = io.WriteString(w, "Usage: tool\n") })
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrUsage)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantHelp, helped)
			if tt.wantHelp {
				require.Equal(t, "Usage: tool\n", stdout.String())
				return
			}
			require.Equal(t, tt.wantPositional, positional)
			require.Equal(t, tt.wantN, *n)
		})
	}
}

func TestEnvOr(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string { return map[string]string{"SET": "v", "EMPTY": ""}[k] }
	require.Equal(t, "v", EnvOr(getenv, "SET", "def"))
	require.Equal(t, "def", EnvOr(getenv, "EMPTY", "def"))
	require.Equal(t, "def", EnvOr(getenv, "UNSET", "def"))
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		format, level string
		wantErr       string
	}{
		"text":           {format: "text", level: "info"},
		"json any case":  {format: "JSON", level: "DEBUG"},
		"bad format":     {format: "xml", level: "info", wantErr: `usage: -log-format "xml": use text or json`},
		"bad level":      {format: "text", level: "loud", wantErr: `usage: -log-level "loud": use debug, info, warn or error`},
		"bad both first": {format: "xml", level: "loud", wantErr: "-log-level"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			logger, err := NewLogger(&out, tt.format, tt.level)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrUsage)
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			logger.Info("hello")
			require.Contains(t, out.String(), "hello")
		})
	}
}
