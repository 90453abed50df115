package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// rulesCommand reads, sets or drops the API key's tenant's own outcome rules:
// klarna-mock rules get | put FILE | delete.
func rulesCommand() command {
	return command{
		name:    "rules",
		summary: "read, set or drop the API key's own outcome rules on the mock",
		actions: []action{{
			name:    "get",
			summary: "print the API key's rules: its own document, if any, and every rule in the order tried",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodGet, "/mock/v1/rules", nil, stdout)
			},
		}, {
			name: "put",
			args: []string{"FILE"},
			summary: "make the rules document FILE (the --fixtures format; YAML, or JSON if it ends in .json) the API key's rules, " +
				"tried before the defaults unless it replaces them; a bad document changes nothing",
			do: func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
				doc, err := os.ReadFile(args[0])
				if err != nil {
					return err
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/mock/v1/rules", bytes.NewReader(doc))
				if err != nil {
					return err
				}
				req.Header.Set("Content-Type", "application/yaml")
				if strings.EqualFold(filepath.Ext(args[0]), ".json") {
					req.Header.Set("Content-Type", "application/json")
				}
				return c.send(req, stdout)
			},
		}, {
			name:    "delete",
			summary: "drop the API key's own rules: the defaults decide its calls again",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodDelete, "/mock/v1/rules", nil, stdout)
			},
		}},
	}
}

// hangupsKey is the context key under which a test hands serve the channel its hang-up signals
// come from, instead of the process's SIGHUP.
type hangupsKey struct{}

// withHangups returns ctx carrying hangups: serve, run under it, reloads the fixtures for every
// value received there instead of on SIGHUP, so a test can ask for a reload without signalling
// its own process.
func withHangups(ctx context.Context, hangups <-chan os.Signal) context.Context {
	return context.WithValue(ctx, hangupsKey{}, hangups)
}

// reloadOnHangup reloads the --fixtures file at path into svc on every SIGHUP (or every value of
// the channel withHangups put in ctx) until the function it returns is called, which waits for a
// reload under way to end.
func reloadOnHangup(ctx context.Context, path string, svc *mockserver.Service, logger *slog.Logger) (stop func()) {
	hangups, injected := ctx.Value(hangupsKey{}).(<-chan os.Signal)
	unsubscribe := func() {}
	if !injected {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGHUP)
		hangups, unsubscribe = c, func() { signal.Stop(c) }
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-hangups:
				reloadRules(path, svc, logger)
			}
		}
	}()
	return func() {
		unsubscribe()
		close(done)
		<-finished
	}
}

// reloadRules loads the --fixtures file at path again, merged over the defaults as at start, and
// makes it the service's default rules in one step. A file that no longer loads leaves the rules
// in use as they are, and the log says why; without --fixtures there is nothing to reload.
func reloadRules(path string, svc *mockserver.Service, logger *slog.Logger) {
	if path == "" {
		logger.Warn("SIGHUP: no --fixtures file to reload; the default rules stay")
		return
	}
	set, err := fixtures.Load(path)
	if err != nil {
		logger.Error("SIGHUP: the fixtures file does not load; the rules in use stay", "fixtures", path, "err", err)
		return
	}
	svc.SetDefaultRules(set)
	logger.Info("SIGHUP: fixtures reloaded", "fixtures", path, "rules", set.Len())
}
