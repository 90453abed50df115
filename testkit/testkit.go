// Package testkit starts a complete klarna-mock inside a Go test, the way httptest.NewServer
// starts a handler: the same assembly the klarna-mock command runs (mockserver/app), served on a
// loopback port, with the outcome rules, clock, webhook and accounts the test chooses, and shut
// down when the test ends.
//
//	m := testkit.NewMock(t,
//		testkit.WithManualClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)),
//		testkit.WithWebhook(acquirerURL+"/klarna/webhooks", secret))
//	// point the code under test at m.URL, then act as the customer and move time:
//	pr, err := m.ForKey(apiKey).Approve(paymentRequestID)
//	m.Advance(61 * time.Minute)
//	entries, err := m.Journal(apiKey, account)
//
// The helpers go through the mock's HTTP control API (contracts/mock-control.yaml), so a
// [Control] does the same against a klarna-mock running elsewhere
// (testkit.Control{URL: ..., APIKey: ...}). That API is each tenant's own: it takes the API key
// of the tenant (the code under test's key) and acts only on that tenant's data and clock.
//
// Time has two levels. Each tenant has a clock of its own, the mock's base clock plus the moves
// that tenant made: [Control.AdvanceClockFor] (POST /mock/v1/clock/advance) moves one tenant,
// the way a test sharing a mock with others must. [Mock.Advance] moves the base clock of a mock
// the test owns, and with it every tenant's clock.
//
// Call SettleWebhooks before moving the clock while webhooks may be queued or in flight: an
// attempt that fails schedules its retry from the clock's time when it ends, so a move made
// before then does not walk past that retry. (Moving the clock never cuts an attempt off: its
// timeout runs in real time.)
package testkit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver/app"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// Option chooses how a mock started by NewMock or Start behaves.
type Option func(*options) error

type options struct {
	cfg app.Config
}

// WithFixtures adds outcome rules, written as in fixtures/README.md, merged over the default
// rules (they are tried first) unless the file says replace_defaults: true. A file that does not
// load makes NewMock fail the test, with the file:line reasons.
func WithFixtures(yaml []byte) Option {
	return func(o *options) error {
		over, err := rules.Load("testkit fixtures", yaml)
		if err != nil {
			return err
		}
		base, err := fixtures.DefaultSet()
		if err != nil {
			return err
		}
		o.cfg.Rules = rules.Merge(base, over)
		return nil
	}
}

// WithRules sets the outcome rules directly (rules.Load, fixtures.Load, rules.Merge).
func WithRules(set *rules.Set) Option {
	return func(o *options) error {
		o.cfg.Rules = set
		return nil
	}
}

// WithManualClock runs the mock on a clock frozen at start, which moves only when the test calls
// Advance (or POST /mock/v1/clock/advance): expiries and webhook retries fire exactly then.
func WithManualClock(start time.Time) Option {
	return WithClock(clock.NewManual(start))
}

// WithClock runs the mock on the given clock; the test may keep it to advance it directly.
func WithClock(c *clock.Clock) Option {
	return func(o *options) error {
		o.cfg.Clock = c
		return nil
	}
}

// WithWebhook makes the mock post every event, from the start, to url, signed with secret
// (headers Klarna-Signature and Klarna-Signing-Key-Id "krn:partner:global:notification:signing-key:static"),
// so the code under test need not register a webhook through the Notifications API first.
func WithWebhook(url, secret string) Option {
	return func(o *options) error {
		if url == "" || secret == "" {
			return errors.New("testkit.WithWebhook: url and secret are both required")
		}
		o.cfg.WebhookURL, o.cfg.WebhookSecret = url, secret
		return nil
	}
}

// WithAccounts maps API keys to partner accounts, as the --accounts file does: keys of one account
// share its state and its journal, and unknown keys are refused. Without it every test key
// (klarna_test_api_...) has its own isolated state.
func WithAccounts(yaml []byte) Option {
	return func(o *options) error {
		a, err := mockhttp.LoadAccounts("testkit accounts", yaml)
		if err != nil {
			return err
		}
		o.cfg.Accounts = a
		return nil
	}
}

// WithLogger sends the mock's logs to l (discarded by default).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		o.cfg.Logger = l
		return nil
	}
}

// Mock is a klarna-mock serving on a loopback port. Its Control methods (Approve, Advance,
// Journal, ...) act on it over HTTP.
type Mock struct {
	Control
	// Clock is the base clock the mock runs on, under every tenant's clock; advancing it directly
	// is the same as Advance.
	Clock *clock.Clock
	// App is the assembled mock, for tests that reach into its Service or Notifier.
	App *app.Mock
	srv *httptest.Server
}

// NewMock starts a mock for the test and closes it when the test ends. It fails the test if the
// options do not hold.
func NewMock(tb testing.TB, opts ...Option) *Mock {
	tb.Helper()
	m, err := Start(opts...)
	if err != nil {
		tb.Fatalf("testkit: %v", err)
	}
	tb.Cleanup(m.Close)
	return m
}

// Start starts a mock outside a test's lifetime (a godog suite, a TestMain); call Close to stop
// it.
func Start(opts ...Option) (*Mock, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	a, err := app.New(o.cfg)
	if err != nil {
		return nil, fmt.Errorf("starting the mock: %w", err)
	}
	srv := httptest.NewServer(a.Handler)
	return &Mock{Control: Control{URL: srv.URL}, Clock: a.Clock, App: a, srv: srv}, nil
}

// Close stops serving, then stops the webhook deliveries (attempts in flight get 5 seconds).
func (m *Mock) Close() {
	m.srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = m.App.Close(ctx)
}

// Advance moves the mock's base clock forward by d, and with it the clock of every tenant,
// firing every Payment Request expiry and webhook retry that falls due on the way, and returns
// the base's new time (a tenant that moved its own clock is ahead of it by its moves). Unlike
// Control.AdvanceClockFor, which moves one tenant over HTTP, it needs no key and cannot fail.
func (m *Mock) Advance(d time.Duration) time.Time {
	return m.Clock.Advance(d)
}
