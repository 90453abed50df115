package steps

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
)

// Suite runs scenarios against one configuration. It is safe for concurrent scenarios.
type Suite struct {
	cfg Config

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

// Tags returns the tag filter to run with: user (a godog tag expression, "" for all) minus the
// scenarios this setup cannot run. @interception scenarios stand between Klarna and the
// Acquiring Partner (they hold back, lose or repeat Klarna's messages), which the suite can only
// do for an Acquiring Partner it starts itself.
func (s *Suite) Tags(user string) string {
	if s.cfg.InProcessAcquirer() {
		return user
	}
	return andTags(user, "~@interception")
}

// andTags adds a condition to every alternative of a godog tag filter.
func andTags(filter, cond string) string {
	if strings.TrimSpace(filter) == "" {
		return cond
	}
	alts := strings.Split(filter, ",")
	for i, a := range alts {
		alts[i] = strings.TrimSpace(a) + " && " + cond
	}
	return strings.Join(alts, ",")
}

// Concurrency returns how many scenarios may run at once: want, or 1 when the mock (and its
// clock, which scenarios move) is shared.
func (s *Suite) Concurrency(want int) int {
	if s.cfg.SharedMock() || want < 1 {
		return 1
	}
	return want
}

// InitializeTestSuite stops the shared Partner endpoint after the suite.
func (s *Suite) InitializeTestSuite(ctx *godog.TestSuiteContext) {
	ctx.AfterSuite(func() { _ = s.Close() })
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
// webhooks to the Partner, each outcome told once.
func (s *Suite) InitializeScenario(sc *godog.ScenarioContext) {
	w := &World{id: randomHex(4), mode: "REDIRECT"}
	w.email = "jane.doe." + w.id + "@example.com"
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
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
		defer w.env.close()
		if err != nil {
			return ctx, nil
		}
		if vs := w.sweep(); len(vs) > 0 {
			return ctx, fmt.Errorf("after the last step: %w", vs)
		}
		return ctx, nil
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
