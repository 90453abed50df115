// Command acquirer runs the reference Acquiring Partner: the Partner API of
// contracts/acquirer.yaml and the listener for Klarna's webhooks, against klarna-mock by default
// or real Klarna by configuration.
//
//	acquirer [flags]
//
// Every flag has an environment variable (acquirer --help lists them). Secrets are best given in the environment.
// Without -partners the acquirer runs in test mode: any "Authorization: Bearer ap_test_..." key is
// a Partner of its own, and every such Partner's webhooks go to -partner-webhook-url.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/app"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

func main() { cli.Main("acquirer", run) }

// Defaults that make the acquirer work with a klarna-mock started with its own defaults.
const (
	defaultAddr      = "127.0.0.1:8490"
	defaultKlarnaURL = "http://127.0.0.1:8480"
	defaultAPIKey    = "klarna_test_api_reference_acquirer"
	defaultAccount   = "krn:partner:global:account:test:REFACQ01"
	// registerSelf as -register-webhook registers this acquirer's own listen address.
	registerSelf = "self"
)

// options are the parsed command line.
type options struct {
	addr                 string
	klarnaURL            string
	klarnaAPIKey         string
	klarnaAccount        string
	klarnaWebhookSecret  string
	registerWebhook      string
	partnersFile         string
	partnerWebhookURL    string
	partnerWebhookSecret string
	logFormat, logLevel  string
	timeouts             *httpserver.Timeouts
}

// parseOptions parses the command line; asked for help, it writes the help to stdout and
// returns no options and no error.
func parseOptions(args []string, getenv func(string) string, stdout io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("acquirer", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", cli.EnvOr(getenv, "ACQUIRER_ADDR", defaultAddr), "listen address; port 0 picks a free port (env ACQUIRER_ADDR)")
	fs.StringVar(&o.klarnaURL, "klarna-url", cli.EnvOr(getenv, "ACQUIRER_KLARNA_URL", defaultKlarnaURL), "Klarna API base URL: klarna-mock, https://api-global.test.klarna.com or https://api-global.klarna.com (env ACQUIRER_KLARNA_URL)")
	fs.StringVar(&o.klarnaAPIKey, "klarna-api-key", cli.EnvOr(getenv, "ACQUIRER_KLARNA_API_KEY", defaultAPIKey), "Klarna API key (env ACQUIRER_KLARNA_API_KEY)")
	fs.StringVar(&o.klarnaAccount, "klarna-account", cli.EnvOr(getenv, "ACQUIRER_KLARNA_ACCOUNT_ID", defaultAccount), "Klarna partner account id used unless a Partner names its own (env ACQUIRER_KLARNA_ACCOUNT_ID)")
	fs.StringVar(&o.klarnaWebhookSecret, "klarna-webhook-secret", getenv("ACQUIRER_KLARNA_WEBHOOK_SECRET"), "secret of the signing key Klarna signs its webhooks with (env ACQUIRER_KLARNA_WEBHOOK_SECRET)")
	fs.StringVar(&o.registerWebhook, "register-webhook", getenv("ACQUIRER_REGISTER_WEBHOOK"), "register this URL of /klarna/webhooks with Klarna's notification API at start, with a new signing key; \"self\" means this acquirer's listen address (env ACQUIRER_REGISTER_WEBHOOK)")
	fs.StringVar(&o.partnersFile, "partners", getenv("ACQUIRER_PARTNERS"), "YAML file of Partners (id, api_key, webhook_url, webhook_secret, klarna_account_id); without it, test mode accepts any ap_test_ key (env ACQUIRER_PARTNERS)")
	fs.StringVar(&o.partnerWebhookURL, "partner-webhook-url", getenv("ACQUIRER_PARTNER_WEBHOOK_URL"), "test mode: where every Partner's webhooks go (env ACQUIRER_PARTNER_WEBHOOK_URL)")
	fs.StringVar(&o.partnerWebhookSecret, "partner-webhook-secret", getenv("ACQUIRER_PARTNER_WEBHOOK_SECRET"), "test mode: the secret they are signed with (env ACQUIRER_PARTNER_WEBHOOK_SECRET)")
	fs.StringVar(&o.logFormat, "log-format", cli.EnvOr(getenv, "ACQUIRER_LOG_FORMAT", "text"), "log format: text or json (env ACQUIRER_LOG_FORMAT)")
	fs.StringVar(&o.logLevel, "log-level", cli.EnvOr(getenv, "ACQUIRER_LOG_LEVEL", "info"), "log level: debug (every request), info, warn, error (env ACQUIRER_LOG_LEVEL)")
	var err error
	if o.timeouts, err = httpserver.Flags(fs, getenv, "ACQUIRER"); err != nil {
		return nil, err
	}
	if helped, err := cli.Parse(fs, args, stdout, func(w io.Writer) { help(w, fs) }); helped || err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, cli.Usagef("unexpected argument %q: the acquirer takes only flags (see acquirer --help)", fs.Arg(0))
	}
	if o.partnersFile == "" && o.partnerWebhookURL != "" && o.partnerWebhookSecret == "" {
		return nil, cli.Usagef("-partner-webhook-url needs -partner-webhook-secret to sign the webhooks with")
	}
	return o, nil
}

// run is the whole program, with its environment passed in so tests can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, getenv, stdout)
	if err != nil || o == nil {
		return err
	}
	logger, err := cli.NewLogger(stderr, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	cfg := app.Config{
		Klarna:              klarna.Config{BaseURL: o.klarnaURL, APIKey: o.klarnaAPIKey, AccountID: o.klarnaAccount},
		KlarnaWebhookSecret: o.klarnaWebhookSecret,
		Logger:              logger,
	}
	if o.partnersFile != "" {
		data, err := os.ReadFile(o.partnersFile)
		if err != nil {
			return err
		}
		if cfg.Partners, err = loadPartners(o.partnersFile, data); err != nil {
			return err
		}
	} else {
		cfg.TestMode = &acquirer.TestMode{WebhookURL: o.partnerWebhookURL, WebhookSecret: o.partnerWebhookSecret}
	}
	a, err := app.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return errors.Join(err, a.Close(ctx))
	}
	base := "http://" + ln.Addr().String()
	srv := httpserver.New(a.Handler, logger, *o.timeouts)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	err = ready(ctx, a, o, base, logger)
	if err == nil {
		fmt.Fprintf(stdout, "acquirer listening on %s\n", base)
		logger.Info("acquirer started", "addr", ln.Addr().String(), "klarna_url", o.klarnaURL, "test_mode", cfg.TestMode != nil)
		select {
		case err = <-errc:
		case <-ctx.Done():
		}
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = errors.Join(err, srv.Shutdown(shutdown), a.Close(shutdown))
	logger.Info("acquirer stopped")
	return err
}

// ready finishes the start once the acquirer listens: it registers the Klarna webhook if asked
// to, and warns when Klarna's webhooks could not be verified, because then no step-up ever ends.
func ready(ctx context.Context, a *app.App, o *options, base string, logger *slog.Logger) error {
	if o.registerWebhook != "" {
		url := o.registerWebhook
		if url == registerSelf {
			url = base + "/klarna/webhooks"
		}
		if _, err := a.RegisterKlarnaWebhook(ctx, url); err != nil {
			return err
		}
	}
	if a.KlarnaKeys.Empty() {
		logger.Warn("no Klarna webhook signing secret: every Klarna webhook will be refused and step-ups never complete; set -klarna-webhook-secret or -register-webhook")
	}
	return nil
}

// help writes acquirer --help: what the acquirer is and its flags fs.
func help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `acquirer runs the reference Acquiring Partner: the Partner API and the listener for Klarna's
webhooks, against klarna-mock by default or real Klarna by configuration.

Usage: acquirer [flags]

Without -partners the acquirer runs in test mode: any "Authorization: Bearer ap_test_..." key is
a Partner of its own, and every such Partner's webhooks go to -partner-webhook-url. Secrets are
best given in the environment.

Flags:
`)
	cli.PrintFlags(w, fs)
}
