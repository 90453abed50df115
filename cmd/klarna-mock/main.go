// Command klarna-mock runs the Klarna simulator, or drives a running one from the command line.
//
//	klarna-mock [flags]                          serve
//	klarna-mock journey ACTION PAYMENT_REQUEST_ID act as the customer: open, approve, decline, back-out, abandon
//	klarna-mock clock [advance DURATION]         read or move the API key's clock (-api-key)
//	klarna-mock rules [get | put FILE | delete]  read, set or drop the API key's own outcome rules
//	klarna-mock state export | import            print the API key's tenant as one document, or replace it from standard input
//	klarna-mock healthcheck [--url URL]          exit 0 if the mock is ready (GET /readyz), 1 if not
//	klarna-mock --version                        print the version
//
// klarna-mock --help lists the flags and the subcommands; klarna-mock COMMAND --help lists a
// subcommand's actions.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/internal/cli"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
)

func main() { cli.Main("klarna-mock", run) }

// version, when set at build time with -ldflags "-X main.version=v1.4.0", is the version the
// mock reports instead of the one its build information records (see app.Version). The linker
// sets it; nothing changes it at run time.
var version string

// mockVersion is the version --version prints and /readyz reports.
func mockVersion() string { return cmp.Or(version, app.Version()) }

// run is the whole program, with its environment passed in so tests can run it in-process. A
// first argument that is not a flag names a subcommand.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, ok := findCommand(args[0])
		if !ok {
			return cli.Usagef("unknown command %q: use %s, or only flags to serve (see klarna-mock --help)", args[0], commandNames())
		}
		return cmd.run(ctx, args[1:], getenv, stdout)
	}
	return serve(ctx, args, getenv, stdout, stderr)
}

// cpuProcs is the GOMAXPROCS the runtime chose at start, from the CPUs the process may use
// (its affinity and its cgroup's limit), before serve changed it.
var cpuProcs = runtime.GOMAXPROCS(0)

// maxProcs is the GOMAXPROCS serve sets for the --procs flag, 0 to leave the runtime's. Its
// default is twice the CPUs: the mock's clients (a test suite, a load generator) mostly run on
// its machine, and the kernel then queues a woken server thread behind the client thread that
// woke it, on its core, while the other core idles; with two CPUs, twice as many threads
// running Go code kept the cores busier, and served 13 to 22 % more authorizes a second with
// bench/load's clients (a Go program, as a test suite is) on the same cores, for 3 to 8 % more
// CPU each; with wrk's it made no clear difference (bench/README.md). A GOMAXPROCS the
// environment sets is kept.
func maxProcs(flagged int, getenv func(string) string) int {
	switch {
	case flagged > 0:
		return flagged
	case getenv("GOMAXPROCS") != "":
		return 0
	}
	return 2 * cpuProcs
}

// serve runs the mock until ctx is done.
func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("klarna-mock", flag.ContinueOnError)
	addr := fs.String("addr", cli.EnvOr(getenv, envAddr, defaultAddr), "listen address (env "+envAddr+")")
	logFormat := fs.String("log-format", cli.EnvOr(getenv, "KLARNA_MOCK_LOG_FORMAT", "text"), "log format: text or json (env KLARNA_MOCK_LOG_FORMAT)")
	logLevel := fs.String("log-level", cli.EnvOr(getenv, "KLARNA_MOCK_LOG_LEVEL", "info"), "log level: debug (logs every request), info, warn, error (env KLARNA_MOCK_LOG_LEVEL)")
	fixturesFile := fs.String("fixtures", getenv("KLARNA_MOCK_FIXTURES"), "outcome rules file, tried before the defaults unless it sets replace_defaults; SIGHUP reloads it (env KLARNA_MOCK_FIXTURES)")
	accountsFile := fs.String("accounts", getenv("KLARNA_MOCK_ACCOUNTS"), "file mapping API keys to partner accounts; default: any klarna_test_api_ key, isolated per key (env KLARNA_MOCK_ACCOUNTS)")
	publicURL := fs.String("public-url", getenv("KLARNA_MOCK_PUBLIC_URL"), "base URL customers reach the mock at, for payment_request_url; default: the request's host (env KLARNA_MOCK_PUBLIC_URL)")
	webhookURL := fs.String("webhook-url", getenv("KLARNA_MOCK_WEBHOOK_URL"), "a webhook receiving every event from the start, so a suite need not register one (env KLARNA_MOCK_WEBHOOK_URL)")
	webhookSecret := fs.String("webhook-secret", getenv("KLARNA_MOCK_WEBHOOK_SECRET"), "the HMAC secret that webhook's deliveries are signed with, key id krn:partner:global:notification:signing-key:static (env KLARNA_MOCK_WEBHOOK_SECRET)")
	webhookRefusePrivate := fs.Bool("webhook-refuse-private", false, "refuse webhooks to loopback and private addresses too, not only to link-local and cloud metadata ones, for a mock others reach over a network (env KLARNA_MOCK_WEBHOOK_REFUSE_PRIVATE)")
	maxObjects := fs.Int("max-objects", memdb.DefaultMaxPerTenant, "objects of each kind (payment requests, transactions, customer tokens, ...) one tenant may hold; at the limit its finished ones make room, else the call gets 429 QUOTA_EXCEEDED (env KLARNA_MOCK_MAX_OBJECTS)")
	maxObjectsTotal := fs.Int("max-objects-total", memdb.DefaultMaxTotal, "objects of all kinds all tenants together may hold in memory, so that the process's memory is bounded: a tenant beyond its fair share (this divided by the tenants holding objects, plus one) makes room from its own finished ones, else gets 429 QUOTA_EXCEEDED (env KLARNA_MOCK_MAX_OBJECTS_TOTAL)")
	retention := fs.Duration("retention", memdb.DefaultRetention, "how long a finished object stays readable, on its tenant's clock, before it is pruned; a tenant holding nothing that has not called for as long is forgotten (env KLARNA_MOCK_RETENTION)")
	maxTenants := fs.Int("max-tenants", mockhttp.DefaultMaxTenants, "tenants (API keys, or accounts of --accounts) served at once; a new one beyond gets 429 QUOTA_EXCEEDED until an idle one is forgotten (env KLARNA_MOCK_MAX_TENANTS)")
	undocumented := fs.String("undocumented-fields", cli.EnvOr(getenv, "KLARNA_MOCK_UNDOCUMENTED_FIELDS", string(mockhttp.WarnUndocumented)), "what a body field Klarna's API contracts do not describe gets: warn (accept it, noted in the journal) or refuse (400 VALIDATION_ERROR) (env KLARNA_MOCK_UNDOCUMENTED_FIELDS)")
	databaseURL := fs.String("database-url", getenv("KLARNA_MOCK_DATABASE_URL"), "PostgreSQL database (postgres://...) keeping the state across restarts; default: in memory (docs/storage.md) (env KLARNA_MOCK_DATABASE_URL)")
	databasePool := fs.Int("database-pool-size", postgres.DefaultPoolSize, "connections to --database-url kept open at most (env KLARNA_MOCK_DATABASE_POOL_SIZE)")
	if err := flagsFromEnv(fs, getenv, "KLARNA_MOCK", "max-objects", "max-objects-total", "retention", "max-tenants", "webhook-refuse-private", "database-pool-size"); err != nil {
		return err
	}
	memLimit := fs.Int64("memory-limit-mib", 100, "soft memory limit for the Go runtime in MiB, sized with --max-objects-total and the journal's bound so that the collector has room at the defaults and the process stays under 128 MiB (bench/README.md); raise the two together; 0 leaves the runtime's default")
	gcPercent := fs.Int("gc-percent", 200, "the Go runtime's GOGC; with the soft memory limit bounding the heap, collecting less often saves CPU under load")
	procs := fs.Int("procs", 0, "threads running Go code at once, the Go runtime's GOMAXPROCS; 0: the environment's GOMAXPROCS when set, else twice the CPUs the runtime found, since clients sharing the mock's machine otherwise leave a core idle (bench/README.md)")
	timeouts, err := httpserver.Flags(fs, getenv, "KLARNA_MOCK")
	if err != nil {
		return err
	}
	showVersion := fs.Bool("version", false, "print the version and exit")
	if helped, err := cli.Parse(fs, args, stdout, func(w io.Writer) { mainHelp(w, fs) }); helped || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return cli.Usagef("unexpected argument %q (see klarna-mock --help)", fs.Arg(0))
	}
	if *showVersion {
		_, err := fmt.Fprintln(stdout, "klarna-mock", mockVersion())
		return err
	}
	logger, err := cli.NewLogger(stderr, *logFormat, *logLevel)
	if err != nil {
		return err
	}
	if *memLimit > 0 {
		debug.SetMemoryLimit(*memLimit << 20)
	}
	debug.SetGCPercent(*gcPercent)
	if *procs < 0 {
		return cli.Usagef("--procs %d: give a positive number, or 0 for twice the CPUs", *procs)
	}
	if n := maxProcs(*procs, getenv); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	if *webhookURL != "" && *webhookSecret == "" {
		return cli.Usagef("--webhook-url needs --webhook-secret")
	}
	if *maxObjects < 1 {
		return cli.Usagef("--max-objects %d: a tenant must be able to hold at least 1 object of each kind", *maxObjects)
	}
	if *maxObjectsTotal < 1 {
		return cli.Usagef("--max-objects-total %d: the mock must be able to hold at least 1 object", *maxObjectsTotal)
	}
	if *retention <= 0 {
		return cli.Usagef("--retention %s: give a positive duration such as 24h", *retention)
	}
	if *databasePool < 1 {
		return cli.Usagef("--database-pool-size %d: the store needs at least 1 connection", *databasePool)
	}
	if *maxTenants < 1 {
		return cli.Usagef("--max-tenants %d: the mock must serve at least 1 tenant", *maxTenants)
	}
	fields, err := mockhttp.ParseFieldPolicy(*undocumented)
	if err != nil {
		return cli.Usagef("--undocumented-fields: %v", err)
	}
	cfg := app.Config{
		PublicURL: *publicURL, Logger: logger, WebhookURL: *webhookURL, WebhookSecret: *webhookSecret,
		MaxObjectsPerTenant: *maxObjects, MaxObjectsTotal: *maxObjectsTotal, Retention: *retention, MaxTenants: *maxTenants, WebhookRefusePrivate: *webhookRefusePrivate,
		UndocumentedFields: fields, Version: mockVersion(),
		DatabaseURL: *databaseURL, DatabasePoolSize: *databasePool,
	}
	if cfg.Rules, err = fixtures.Load(*fixturesFile); err != nil {
		return err
	}
	if *accountsFile != "" {
		data, err := os.ReadFile(*accountsFile)
		if err != nil {
			return err
		}
		if cfg.Accounts, err = mockhttp.LoadAccounts(*accountsFile, data); err != nil {
			return err
		}
	}
	mock, err := app.New(cfg)
	if err != nil {
		return err
	}
	// SIGHUP reloads the --fixtures file without a restart (rules.go).
	stopReloads := reloadOnHangup(ctx, *fixturesFile, mock.Service, logger)
	defer stopReloads()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := httpserver.New(mock.Handler, logger, *timeouts)
	// The dashboard's live streams stay open; Shutdown waits for open requests, so end them first.
	srv.RegisterOnShutdown(mock.Dashboard.Close)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "klarna-mock listening on http://%s\n", ln.Addr())
	logger.Info("klarna-mock started", "addr", ln.Addr().String(), "fixtures", fixturesName(*fixturesFile))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	undelivered, cerr := mock.Close(shutdown)
	logger.Info("klarna-mock stopped", "undelivered_webhooks", len(undelivered))
	return errors.Join(err, cerr)
}

// flagsFromEnv sets each named flag of fs from its environment variable (prefix_NAME, dashes as
// underscores) when that is set, parsed as the flag parses its value, so that a flag given on the
// command line still wins and --help shows the built-in default.
func flagsFromEnv(fs *flag.FlagSet, getenv func(string) string, prefix string, names ...string) error {
	for _, name := range names {
		env := prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				return cli.Usagef("%s=%q: %v", env, v, err)
			}
		}
	}
	return nil
}

func fixturesName(file string) string {
	if file == "" {
		return "defaults"
	}
	return file
}
