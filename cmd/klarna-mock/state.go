package main

import (
	"context"
	"io"
	"net/http"
	"os"
)

// stateCommand exports or imports the API key's tenant: klarna-mock state export > FILE and
// klarna-mock state import < FILE (docs/state.md).
func stateCommand() command {
	return command{
		name:    "state",
		summary: "export the API key's tenant on the mock as one JSON document, or replace it with one",
		actions: []action{{
			name: "export",
			summary: "print the tenant's state document (its clock, resources, idempotency records, signing keys with their secrets, " +
				"webhooks, deliveries, faults and rules) on standard output",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodGet, "/mock/v1/state", nil, stdout)
			},
		}, {
			name: "import",
			summary: "replace the tenant's state with the document on standard input, as a reset and the import would; " +
				"a document the mock refuses changes nothing",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/mock/v1/state", stdinOf(ctx))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "application/json")
				return c.send(req, stdout)
			},
		}},
	}
}

// stdinOf is the standard input withStdin (faults.go) put in ctx, or the process's.
func stdinOf(ctx context.Context) io.Reader {
	if r, ok := ctx.Value(stdinKey{}).(io.Reader); ok {
		return r
	}
	return os.Stdin
}
