package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/internal/httpclient"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// client talks to a running mock's control API for the CLI subcommands.
type client struct {
	base string
	// apiKey is sent as "Authorization: Basic <apiKey>" when set: it names the tenant whose
	// clock the clock command reads and moves, whose Payment Requests the journey command acts
	// on, and which the reset command wipes.
	apiKey string
	http   *http.Client
}

// do sends body (nil for none) as JSON and prints the JSON answer; a Klarna error becomes the
// error.
func (c *client) do(ctx context.Context, method, path string, body any, stdout io.Writer) error {
	req, err := httpclient.NewJSONRequest(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	return c.send(req, stdout)
}

// send sends req with the API key and prints the JSON answer; a Klarna error becomes the error,
// with a line for each of its errors[] entries.
func (c *client) send(req *http.Request, stdout io.Writer) error {
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Basic "+c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		var ke struct {
			ErrorCode    string                  `json:"error_code"`
			ErrorMessage string                  `json:"error_message"`
			Errors       []mockserver.FieldError `json:"errors"`
		}
		if json.Unmarshal(out, &ke) == nil && ke.ErrorCode != "" {
			msg := fmt.Sprintf("%s %s: %d %s: %s", req.Method, req.URL.Path, resp.StatusCode, ke.ErrorCode, ke.ErrorMessage)
			for _, fe := range ke.Errors {
				msg += fmt.Sprintf("\n  %s: %s", fe.Parameter, fe.ErrorMessage)
			}
			return errors.New(msg)
		}
		return fmt.Errorf("%s %s: %s", req.Method, req.URL.Path, resp.Status)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, out, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(out)
	}
	pretty.WriteByte('\n')
	_, err = stdout.Write(pretty.Bytes())
	return err
}

// command is a subcommand that drives a running mock through its control API.
type command struct {
	name string
	// summary is the command's line in klarna-mock --help.
	summary string
	// bare is what the command does without an action; nil when it needs one.
	bare *action
	// actions are what the command can do, in the order its help lists them.
	actions []action
	// runs, when set, is the whole command, for one that does not drive the control API with
	// -mock and -api-key (healthcheck): it parses its own flags and gives its own help.
	runs func(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error
}

// action is one thing a command can do.
type action struct {
	name    string
	args    []string // the names of its positional arguments, in order
	summary string
	do      func(ctx context.Context, c *client, args []string, stdout io.Writer) error
}

// commands returns the subcommands, in the order klarna-mock --help lists them.
func commands() []command {
	return []command{journeyCommand(), clockCommand(), rulesCommand(), faultsCommand(), deliveriesCommand(), resetCommand(), stateCommand(), healthcheckCommand()}
}

// journeyCommand acts as the customer: klarna-mock journey ACTION PAYMENT_REQUEST_ID. Its actions
// are the mock's journey actions, so that the command offers whatever the mock accepts.
func journeyCommand() command {
	cmd := command{name: "journey", summary: "act as the customer in the Purchase Journey of a payment request"}
	for _, a := range mockserver.JourneyActions {
		cmd.actions = append(cmd.actions, action{
			name:    string(a),
			args:    []string{"PAYMENT_REQUEST_ID"},
			summary: journeySummary(a),
			do: func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodPost, "/mock/v1/payment-requests/"+url.PathEscape(args[0])+"/"+url.PathEscape(string(a)), nil, stdout)
			},
		})
	}
	return cmd
}

// journeySummary is the help line of a journey action.
func journeySummary(a mockserver.JourneyAction) string {
	switch a {
	case mockserver.JourneyOpen:
		return "the customer opens the journey (SUBMITTED -> IN_PROGRESS)"
	case mockserver.JourneyApprove:
		return "the customer approves and gives any consent asked for (-> COMPLETED)"
	case mockserver.JourneyDecline:
		return "Klarna declines the customer (-> DECLINED)"
	case mockserver.JourneyBackOut:
		return "the customer goes back to the merchant (IN_PROGRESS -> SUBMITTED)"
	case mockserver.JourneyAbandon:
		return "the customer leaves; the request stays IN_PROGRESS until it expires"
	}
	return ""
}

// clockCommand reads or advances the API key's tenant's clock: klarna-mock clock [advance
// DURATION]. Each tenant of the mock has a clock of its own.
func clockCommand() command {
	return command{
		name:    "clock",
		summary: "read the API key's clock on the mock or move it forward",
		bare: &action{
			summary: "print the API key's clock",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodGet, "/mock/v1/clock", nil, stdout)
			},
		},
		actions: []action{{
			name:    "advance",
			args:    []string{"DURATION"},
			summary: "move the API key's clock forward by DURATION, written like 90m or PT2H",
			do: func(ctx context.Context, c *client, args []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodPost, "/mock/v1/clock/advance", map[string]string{"duration": args[0]}, stdout)
			},
		}},
	}
}

// resetCommand wipes the API key's tenant on the mock: klarna-mock reset. A suite sharing a
// long-lived mock runs it when it ends, so that its tenant does not stay behind.
func resetCommand() command {
	return command{
		name:    "reset",
		summary: "wipe the API key's tenant on the mock and forget it",
		bare: &action{
			summary: "Removes everything the mock keeps of the API key's tenant, live data included (payment requests, customer tokens, " +
				"signing keys, webhooks, deliveries, the journal, faults, the clock's moves), so that it no longer counts against --max-tenants. " +
				"Other tenants are not touched.",
			do: func(ctx context.Context, c *client, _ []string, stdout io.Writer) error {
				return c.do(ctx, http.MethodPost, "/mock/v1/reset", nil, stdout)
			},
		},
	}
}

// run parses the command's flags, which may come before or after the action and its arguments,
// and carries out the action that args name. Help is given for -h, -help or --help anywhere in
// args.
func (cmd command) run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if cmd.runs != nil {
		return cmd.runs(ctx, args, getenv, stdout)
	}
	fs := flag.NewFlagSet("klarna-mock "+cmd.name, flag.ContinueOnError)
	mock := fs.String("mock", cli.EnvOr(getenv, "KLARNA_MOCK_URL", "http://127.0.0.1:8480"), "base URL of the running mock (env KLARNA_MOCK_URL)")
	apiKey := fs.String("api-key", getenv("KLARNA_MOCK_API_KEY"), "the API key whose tenant the command acts for, as the code under test sends it (env KLARNA_MOCK_API_KEY)")
	positional, helped, err := cli.ParseInterspersed(fs, args, stdout, func(w io.Writer) { cmd.help(w, fs) })
	if helped || err != nil {
		return err
	}
	a, actionArgs, err := cmd.action(positional)
	if err != nil {
		return err
	}
	c := &client{base: strings.TrimRight(*mock, "/"), apiKey: *apiKey, http: &http.Client{Timeout: 30 * time.Second}}
	return a.do(ctx, c, actionArgs, stdout)
}

// action finds the action that args name and checks that the right number of arguments follow
// it; it returns them.
func (cmd command) action(args []string) (action, []string, error) {
	if len(args) > 0 && len(cmd.actions) == 0 {
		return action{}, nil, cli.Usagef("klarna-mock %s takes no arguments: klarna-mock %s [-mock URL] [-api-key KEY]", cmd.name, cmd.name)
	}
	if len(args) == 0 {
		if cmd.bare == nil {
			return action{}, nil, cli.Usagef("klarna-mock %s needs an action: %s (see klarna-mock %s --help)", cmd.name, cmd.actionNames(), cmd.name)
		}
		return *cmd.bare, nil, nil
	}
	i := slices.IndexFunc(cmd.actions, func(a action) bool { return a.name == args[0] })
	if i < 0 {
		return action{}, nil, cli.Usagef("unknown %s action %q: use %s (see klarna-mock %s --help)", cmd.name, args[0], cmd.actionNames(), cmd.name)
	}
	a := cmd.actions[i]
	if len(args)-1 != len(a.args) {
		return action{}, nil, cli.Usagef("klarna-mock %s [-mock URL] [-api-key KEY] %s", cmd.name, a.usage())
	}
	return a, args[1:], nil
}

// actionNames lists the actions for messages.
func (cmd command) actionNames() string {
	names := make([]string, len(cmd.actions))
	for i, a := range cmd.actions {
		names[i] = a.name
	}
	return strings.Join(names, ", ")
}

// usage is the action's name followed by its arguments.
func (a action) usage() string { return strings.Join(append([]string{a.name}, a.args...), " ") }

// help writes the command's help: what it does, each action with its arguments (or, for a
// command without actions, what it does in full), and the flags.
func (cmd command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "klarna-mock %s: %s.\n\n", cmd.name, cmd.summary)
	if len(cmd.actions) == 0 {
		fmt.Fprintf(w, "Usage: klarna-mock %s [-mock URL] [-api-key KEY]\n\n%s\n\nFlags:\n", cmd.name, cmd.bare.summary)
		cli.PrintFlags(w, fs)
		return
	}
	synopsis := "ACTION ARGUMENTS"
	if cmd.bare != nil {
		synopsis = "[ACTION ARGUMENTS]"
	}
	fmt.Fprintf(w, "Usage: klarna-mock %s [-mock URL] [-api-key KEY] %s\n\nActions:\n", cmd.name, synopsis)
	var rows [][2]string
	if cmd.bare != nil {
		rows = append(rows, [2]string{"(none)", cmd.bare.summary})
	}
	for _, a := range cmd.actions {
		rows = append(rows, [2]string{a.usage(), a.summary})
	}
	writeTable(w, rows)
	fmt.Fprintln(w, "\nFlags, before or after the action and its arguments:")
	cli.PrintFlags(w, fs)
}

// mainHelp writes klarna-mock --help: how to serve, the subcommands and the serving flags fs.
func mainHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `klarna-mock is a stateful simulator of Klarna's payment APIs.

Usage:
  klarna-mock [flags]                          serve the mock
  klarna-mock COMMAND [-mock URL] ACTION ...   drive a running mock

Commands:
`)
	var rows [][2]string
	for _, cmd := range commands() {
		rows = append(rows, [2]string{cmd.name, cmd.summary})
	}
	writeTable(w, rows)
	fmt.Fprint(w, "\nRun \"klarna-mock COMMAND --help\" for a command's actions.\n\nFlags:\n")
	cli.PrintFlags(w, fs)
}

// findCommand returns the subcommand called name.
func findCommand(name string) (command, bool) {
	cmds := commands()
	i := slices.IndexFunc(cmds, func(c command) bool { return c.name == name })
	if i < 0 {
		return command{}, false
	}
	return cmds[i], true
}

// commandNames lists the subcommands for messages.
func commandNames() string {
	var names []string
	for _, cmd := range commands() {
		names = append(names, cmd.name)
	}
	return strings.Join(names, ", ")
}

// writeTable writes two-column rows, indented, with the second column aligned.
func writeTable(w io.Writer, rows [][2]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\t%s\n", r[0], r[1])
	}
	_ = tw.Flush()
}
