package steps

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
)

// Suite runs scenarios against one configuration. It is safe for concurrent scenarios.
type Suite struct {
	cfg Config

	// skips are the scenarios the suite skipped, with the reason, for the report after the run.
	skipsMu sync.Mutex
	skips   []skipped

	// shared is the Partner's webhook endpoint when the Acquiring Partner runs elsewhere: it
	// sends every Partner's webhooks to one URL, so one endpoint serves all scenarios.
	sharedOnce sync.Once
	shared     *inbox
	sharedSrv  *http.Server
	sharedErr  error
}

// New returns a suite for cfg, or an error naming what is missing or contradictory.
func New(cfg Config) (*Suite, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Suite{cfg: cfg}, nil
}

// Config returns the configuration with its defaults filled in.
func (s *Suite) Config() Config { return s.cfg }

// Tags returns user, the tag filter to run with.
//
// Deprecated: the suite selects every scenario; those a setup cannot run are skipped and
// reported with the reason (see Config.Report). Pass the filter to godog directly.
func (s *Suite) Tags(user string) string { return user }

// Concurrency returns how many scenarios may run at once: want, or 1 when every scenario is the
// same tenant of a shared mock (Config.SharedTenant), where one scenario's clock moves would move
// the others' payments too.
func (s *Suite) Concurrency(want int) int {
	if s.cfg.SharedTenant() || want < 1 {
		return 1
	}
	return want
}

// InitializeTestSuite reports the scenarios skipped, with the reason, and stops the shared
// Partner endpoint after the suite.
func (s *Suite) InitializeTestSuite(ctx *godog.TestSuiteContext) {
	ctx.AfterSuite(func() {
		s.report()
		_ = s.Close()
	})
}

// skipped is a scenario the suite did not run, and why.
type skipped struct {
	uri, name, reason string
}

// skip records that scenario sc cannot run in this setup, for the report after the run, and
// returns the error that makes godog skip the rest of it. In strict mode too, a skip is no
// failure: the reason is what the report shows.
func (s *Suite) skip(sc *godog.Scenario, reason string) error {
	s.skipsMu.Lock()
	s.skips = append(s.skips, skipped{uri: sc.Uri, name: sc.Name, reason: reason})
	s.skipsMu.Unlock()
	return fmt.Errorf("%w: %s", godog.ErrSkip, reason)
}

// report writes the run's skipped scenarios with their reasons to Config.Report, and forgets
// them for a next run. godog's formatters show a skipped scenario's steps, but not why they
// were skipped.
func (s *Suite) report() {
	s.skipsMu.Lock()
	skips := s.skips
	s.skips = nil
	s.skipsMu.Unlock()
	if len(skips) == 0 {
		return
	}
	slices.SortFunc(skips, func(a, b skipped) int { return cmp.Or(cmp.Compare(a.uri, b.uri), cmp.Compare(a.name, b.name)) })
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d scenarios skipped: this setup cannot run them\n", len(skips))
	for _, sk := range skips {
		fmt.Fprintf(&b, "  %s: %s\n      skipped: %s\n", sk.uri, sk.name, sk.reason)
	}
	_, _ = io.WriteString(s.cfg.Report, b.String())
}

// interceptionTag marks the scenarios in which the suite stands between Klarna and the
// Acquiring Partner.
const interceptionTag = "@interception"

// interceptionSkip is why an @interception scenario cannot run against an Acquiring Partner the
// suite did not start.
const interceptionSkip = "@interception: the scenario stands between Klarna and the Acquiring Partner (it holds back, " +
	"loses or repeats Klarna's messages to it), which the suite can do only for an Acquiring Partner it starts itself, " +
	"not for the one at ACQUIRER_URL"

// cannotRun returns why sc cannot run in this setup, or "".
func (s *Suite) cannotRun(sc *godog.Scenario) string {
	if s.cfg.InProcessAcquirer() {
		return ""
	}
	for _, t := range sc.Tags {
		if t.Name == interceptionTag {
			return interceptionSkip
		}
	}
	return ""
}

// Close stops what the suite shares between scenarios.
func (s *Suite) Close() error {
	if s.sharedSrv == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.sharedSrv.Shutdown(ctx)
}

// sharedInbox starts the Partner's webhook endpoint for an external Acquiring Partner, once.
func (s *Suite) sharedInbox() (*inbox, error) {
	s.sharedOnce.Do(func() {
		u, err := url.Parse(s.cfg.PartnerWebhookURL)
		if err != nil {
			s.sharedErr = err
			return
		}
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			s.sharedErr = fmt.Errorf("the Partner's webhook endpoint cannot listen on %s (ACQUIRER_PARTNER_WEBHOOK_URL): %w", u.Host, err)
			return
		}
		s.shared = newInbox(s.cfg.PartnerWebhookSecret)
		mux := http.NewServeMux()
		mux.Handle("POST "+or(u.Path, "/"), s.shared)
		s.sharedSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = s.sharedSrv.Serve(ln) }()
	})
	return s.shared, s.sharedErr
}

// InitializeScenario gives a scenario a World of its own, starts its systems before its first
// step and stops them after its last, and binds every step to it. After the last step it
// checks what holds in every scenario: an idempotency key on every POST to Klarna, signed
// webhooks to the Partner, each outcome told once. On a shared klarna-mock, a scenario with a
// key of its own resets its tenant there once its systems have stopped, so that it leaves
// nothing behind (POST /mock/v1/reset); a failed reset fails the scenario.
func (s *Suite) InitializeScenario(sc *godog.ScenarioContext) {
	w := &World{id: randomHex(4), mode: "REDIRECT"}
	w.email = "jane.doe." + w.id + "@example.com"
	sc.Before(func(ctx context.Context, scenario *godog.Scenario) (context.Context, error) {
		w.skip = func(reason string) error { return s.skip(scenario, reason) }
		if reason := s.cannotRun(scenario); reason != "" {
			return ctx, w.skip(reason)
		}
		var shared *inbox
		if !s.cfg.InProcessAcquirer() {
			var err error
			if shared, err = s.sharedInbox(); err != nil {
				return ctx, err
			}
		}
		e, err := startEnv(s.cfg, shared)
		if err != nil {
			return ctx, fmt.Errorf("starting the scenario's systems: %w", err)
		}
		w.env = e
		return context.WithValue(ctx, worldKey{}, w), nil
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if w.env == nil {
			return ctx, nil
		}
		var vs Violations
		if err == nil {
			vs = w.sweep() // before close: it reads the journal of the scenario's tenant
		}
		closeErr := w.env.close()
		switch {
		case err != nil:
			return ctx, nil
		case len(vs) > 0:
			return ctx, fmt.Errorf("after the last step: %w", vs)
		}
		return ctx, closeErr
	})
	w.register(sc)
}

// errNoWorld is returned by steps of other suites that run outside InitializeScenario.
var errNoWorld = errors.New("steps: no scenario state in the context; register Suite.InitializeScenario")

// Must returns the World of ctx, or an error for a step that runs without one.
func Must(ctx context.Context) (*World, error) {
	if w := FromContext(ctx); w != nil {
		return w, nil
	}
	return nil, errNoWorld
}
