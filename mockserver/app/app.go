// Package app assembles a complete klarna-mock from its parts: store, clock, outcome rules,
// service and HTTP server. The klarna-mock command and the testkit both build the mock through
// it, so a test runs exactly what a user runs.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// Config chooses how the mock behaves. The zero value is the documented default: real clock,
// default rules, any test API key accepted.
type Config struct {
	// Rules are the outcome rules; nil means the defaults of fixtures/default.yaml.
	Rules *rules.Set
	// Clock is the clock every expiry and retry runs on; nil means a real clock.
	Clock *clock.Clock
	// Accounts maps API keys to partner accounts; nil accepts any test key.
	Accounts *mockhttp.Accounts
	// PublicURL is the base of payment_request_url; empty means each request's own host.
	PublicURL string
	// MaxObjectsPerTable bounds the store; 0 means memdb.DefaultMaxPerTable.
	MaxObjectsPerTable int
	// WebhookURL and WebhookSecret configure a webhook at start that receives every event, so a
	// CI suite need not register one first; WebhookEventTypes filters it (default "*").
	WebhookURL        string
	WebhookSecret     string
	WebhookEventTypes []string
	// WebhookClient sends webhooks; nil means the notifier's default client.
	WebhookClient *http.Client
	Logger        *slog.Logger
}

// Mock is an assembled mock.
type Mock struct {
	Handler  http.Handler
	Service  *mockserver.Service
	Notifier *webhook.Notifier
	Clock    *clock.Clock
	ownClock bool
}

// New assembles a mock.
func New(cfg Config) (*Mock, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	set := cfg.Rules
	if set == nil {
		var err error
		if set, err = fixtures.DefaultSet(); err != nil {
			return nil, fmt.Errorf("default fixtures: %w", err)
		}
	}
	m := &Mock{Clock: cfg.Clock}
	if m.Clock == nil {
		m.Clock, m.ownClock = clock.NewReal(), true
	}
	store, err := memdb.New(cfg.MaxObjectsPerTable)
	if err != nil {
		return nil, err
	}
	m.Notifier, err = webhook.New(store.Notifications(), webhook.Config{
		Clock:            m.Clock,
		Client:           cfg.WebhookClient,
		Logger:           logger,
		StaticURL:        cfg.WebhookURL,
		StaticSecret:     cfg.WebhookSecret,
		StaticEventTypes: cfg.WebhookEventTypes,
	})
	if err != nil {
		return nil, err
	}
	m.Service = mockserver.NewService(mockserver.Config{Store: store, Rules: set, Clock: m.Clock, Publisher: m.Notifier, Logger: logger})
	srv, err := mockhttp.NewServer(mockhttp.Deps{
		Service:   m.Service,
		Store:     store,
		Accounts:  cfg.Accounts,
		Logger:    logger,
		PublicURL: cfg.PublicURL,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.EnableNotifications(m.Notifier); err != nil {
		return nil, err
	}
	m.Handler = srv
	return m, nil
}

// Close stops what the mock runs in the background: it finishes the webhook attempts in flight,
// bounded by ctx. Deliveries still waiting (queued or for a retry) are not made; the notifier
// logs each of them, and Close returns them so a caller can report them too.
func (m *Mock) Close(ctx context.Context) ([]*webhook.Delivery, error) {
	undelivered, err := m.Notifier.Close(ctx)
	if m.ownClock {
		m.Clock.Close()
	}
	return undelivered, err
}
