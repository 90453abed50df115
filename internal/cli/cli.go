// Package cli holds what the repository's commands (cmd/klarna-mock and cmd/acquirer) share:
// running a command's program under a signal-aware context, the exit status of its error, usage
// errors, help on request, environment defaults and the logger flags.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// ErrUsage marks a mistake in the command line; ExitCode turns it into exit status 2.
var ErrUsage = errors.New("usage")

// Usagef returns an error that wraps ErrUsage, reading "usage: " and the formatted message.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// ExitCode is the exit status of a program that ended with err: 0 without an error, 2 for a
// usage error (as the flag package does), 1 for any other.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	}
	return 1
}

// Program is a command's whole program, with its environment passed in so that tests can run it
// in-process.
type Program func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main runs program with the process's arguments, environment and standard streams and a
// context that SIGINT and SIGTERM cancel, prints its error after name, and exits with ExitCode.
func Main(name string, program Program) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := program(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop() // os.Exit skips deferred calls
	if err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
	}
	os.Exit(ExitCode(err))
}

// Parse parses args into fs. When they ask for help (-h, -help or --help) it writes help to
// stdout and returns true with no error, so that the command can stop and exit 0; a bad flag is a
// usage error naming the command's --help. fs writes nothing itself: help is asked for or the
// error says what is wrong.
func Parse(fs *flag.FlagSet, args []string, stdout io.Writer, help func(io.Writer)) (bool, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		help(stdout)
		return true, nil
	case err != nil:
		return false, Usagef("%v (see %s --help)", err, fs.Name())
	}
	return false, nil
}

// ParseInterspersed is Parse for a command whose flags may come anywhere among its positional
// arguments, before, between or after them (klarna-mock rules get --api-key KEY), as people
// write commands; the flag package alone stops at the first positional argument. It returns the
// positional arguments in order. "-" is a positional argument, and everything after "--" is one.
func ParseInterspersed(fs *flag.FlagSet, args []string, stdout io.Writer, help func(io.Writer)) (positional []string, helped bool, err error) {
	for {
		if helped, err := Parse(fs, args, stdout, help); helped || err != nil {
			return nil, helped, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, false, nil
		}
		if parsed := len(args) - len(rest); parsed > 0 && args[parsed-1] == "--" {
			return append(positional, rest...), false, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// PrintFlags writes the flags of fs and their defaults to w, as the flag package formats them.
func PrintFlags(w io.Writer, fs *flag.FlagSet) {
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

// EnvOr returns the environment variable name, or def when it is unset or empty.
func EnvOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// NewLogger returns a logger writing to w in format (text or json, in any case) at level
// (debug, info, warn or error); anything else is a usage error.
func NewLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, Usagef("-log-level %q: use debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, Usagef("-log-format %q: use text or json", format)
}
