package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
)

// faultsCommand lists, adds and removes the API key's tenant's faults, which make Klarna's API
// misbehave for its calls (docs/faults.md): klarna-mock faults list | add FAULT | delete
// FAULT_ID | clear.
func faultsCommand() command {
	return command{
		name:    "faults",
		summary: "list, add or remove the API key's faults: Klarna errors, latency, hangs, dropped or cut answers",
		actions: []action{{
			name:    "list",
			summary: "print the API key's faults, oldest first, with how often each fired",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodGet, "/mock/v1/faults", nil, stdout)
			},
		}, {
			name: "add",
			args: []string{"FAULT"},
			summary: `add a fault and print it; FAULT is its JSON, @FILE to read it from FILE, or - to read it from stdin, ` +
				`e.g. '{"operations": ["authorize"], "effect": "error", "status": 503, "count": 2}'`,
			do: func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
				def, err := faultDefinition(ctx, args[0])
				if err != nil {
					return err
				}
				return c.do(ctx, http.MethodPost, "/mock/v1/faults", def, stdout)
			},
		}, {
			name:    "delete",
			args:    []string{"FAULT_ID"},
			summary: "remove the fault FAULT_ID",
			do: func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
				if err := c.do(ctx, http.MethodDelete, "/mock/v1/faults/"+url.PathEscape(args[0]), nil, io.Discard); err != nil {
					return err
				}
				_, err := fmt.Fprintf(stdout, "deleted %s\n", args[0])
				return err
			},
		}, {
			name:    "clear",
			summary: "remove every fault of the API key",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				if err := c.do(ctx, http.MethodDelete, "/mock/v1/faults", nil, io.Discard); err != nil {
					return err
				}
				_, err := fmt.Fprintln(stdout, "no faults left")
				return err
			},
		}},
	}
}

// stdinKey is the context key under which a test hands the faults command the reader "-" reads,
// instead of the process's standard input.
type stdinKey struct{}

// withStdin returns ctx carrying r as the standard input of the faults command.
func withStdin(ctx context.Context, r io.Reader) context.Context {
	return context.WithValue(ctx, stdinKey{}, r)
}

// faultDefinition reads the fault a FAULT argument gives: JSON, @FILE or - (stdin). It is sent
// as it is: the mock checks it, and says what is wrong with it.
func faultDefinition(ctx context.Context, arg string) (json.RawMessage, error) {
	var raw []byte
	var err error
	switch {
	case arg == "-":
		stdin, ok := ctx.Value(stdinKey{}).(io.Reader)
		if !ok {
			stdin = os.Stdin
		}
		raw, err = io.ReadAll(stdin)
	case strings.HasPrefix(arg, "@"):
		raw, err = os.ReadFile(arg[1:])
	default:
		raw = []byte(arg)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(raw) {
		return nil, fmt.Errorf("the fault is not JSON: %.80q", raw)
	}
	return raw, nil
}
