// Package app assembles a complete klarna-mock from its parts: store, clock, outcome rules,
// service and HTTP server. The klarna-mock command and the testkit both build the mock through
// it, so a test runs exactly what a user runs.
package app

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/dashboard"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/metrics"
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
	// MaxObjectsPerTenant is how many objects of each kind (payment requests, transactions,
	// customer tokens, ...) one tenant may hold; 0 means memdb.DefaultMaxPerTenant. A tenant at
	// its quota makes room by dropping its own finished objects, or gets a 429 QUOTA_EXCEEDED.
	MaxObjectsPerTenant int
	// MaxObjectsTotal is how many objects of all kinds the in-memory store holds for all tenants
	// together, shared fairly between them (see package memdb); 0 means memdb.DefaultMaxTotal.
	MaxObjectsTotal int
	// Retention is how long, on its tenant's clock, a finished object stays readable before the
	// prune loop removes it; 0 or less means memdb.DefaultRetention. A tenant that holds nothing
	// and has not called for as long is forgotten altogether: its clock, journal and timers.
	Retention time.Duration
	// MaxTenants is how many tenants the mock serves at once; 0 means
	// mockhttp.DefaultMaxTenants. A new tenant beyond it gets a 429 QUOTA_EXCEEDED until an idle
	// one is forgotten.
	MaxTenants int
	// UndocumentedFields is what a body field Klarna's API contracts do not describe gets
	// (mockhttp.FieldPolicy); empty means mockhttp.WarnUndocumented.
	UndocumentedFields mockhttp.FieldPolicy
	// PruneInterval is how often the prune loop runs, in real time; 0 or less means
	// DefaultPruneInterval.
	PruneInterval time.Duration
	// WebhookURL and WebhookSecret configure a webhook at start that receives every event, so a
	// CI suite need not register one first; WebhookEventTypes filters it (default "*").
	WebhookURL        string
	WebhookSecret     string
	WebhookEventTypes []string
	// WebhookRefusePrivate refuses webhooks to loopback and private addresses too, besides the
	// link-local and cloud metadata ones always refused (webhook.Config.RefusePrivate).
	WebhookRefusePrivate bool
	// WebhookClient sends webhooks; nil means the notifier's default client.
	WebhookClient *http.Client
	Logger        *slog.Logger
	// Version is the mock's version as /readyz and the metrics report it; empty means Version(),
	// the one the build recorded.
	Version string
	// DatabaseURL chooses PostgreSQL as the store (docs/storage.md): the state survives a
	// restart. Empty keeps it in memory (memdb). DatabasePoolSize bounds the connections; 0 means
	// postgres.DefaultPoolSize.
	DatabaseURL      string
	DatabasePoolSize int
	// Ready are checks /readyz makes besides the mock's own (the contracts compiled, the store
	// answering): a part the caller's setup cannot serve without, such as a database.
	Ready []mockhttp.ReadyCheck
}

// DefaultPruneInterval is how often the prune loop removes what retention no longer keeps:
// often enough that finished data does not pile up, rarely enough to cost nothing measurable.
const DefaultPruneInterval = 5 * time.Second

// Mock is an assembled mock.
type Mock struct {
	Handler  http.Handler
	Service  *mockserver.Service
	Notifier *webhook.Notifier
	Clock    *clock.Clock
	// Metrics are the mock's metrics, served at GET /metrics, in a registry of the mock's own;
	// the parts of the mock record into it (see package metrics).
	Metrics *metrics.Metrics
	// Faults are the tenants' faults (POST /mock/v1/faults); a reset removes the tenant's. On a
	// database they are kept there, for every mock on it (shared.go).
	Faults *faults.Registry
	// Dashboard is the dashboard at /dashboard; a server about to shut down closes it
	// (Dashboard.Close), so that its live streams do not hold the shutdown up.
	Dashboard *dashboard.Dashboard

	ownClock bool
	store    backend
	server   *mockhttp.Server
	// retention is Config.Retention with its default applied.
	retention time.Duration
	// maxObjects is Config.MaxObjectsPerTenant with its default applied; stateMu makes state
	// imports one at a time (state.go).
	maxObjects int
	stateMu    sync.Mutex
	log        *slog.Logger
	// stop ends the prune loop and the sync loop (shared.go), which close pruned and synced
	// when they have returned.
	stop, pruned, synced chan struct{}
	stopOnce             sync.Once
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
	// A timer that panics (a Payment Request's expiry, a webhook's retry) is a bug of the mock's:
	// logged, as net/http logs a handler's, rather than ending every tenant's sandbox.
	m.Clock.OnPanic(func(v any, stack []byte) {
		logger.Error("a timer panicked", "panic", fmt.Sprint(v), "stack", string(stack))
	})
	m.retention = positiveOr(cfg.Retention, memdb.DefaultRetention)
	m.maxObjects = cmp.Or(max(cfg.MaxObjectsPerTenant, 0), memdb.DefaultMaxPerTenant)
	store, err := openStore(cfg, m.retention, m.Clock, logger)
	if err != nil {
		return nil, err
	}
	m.store, m.log = store, logger
	m.Faults = faults.NewSharedRegistry(0, store.faults(), logger)
	version := cmp.Or(cfg.Version, Version())
	m.Metrics = metrics.New(version)
	// The dashboard's hub hears of every change the service, the notifier and the server make.
	hub := dashboard.NewHub()
	m.Notifier, err = webhook.New(hub.ObserveNotifications(store.Notifications()), webhook.Config{
		Outcome:          m.deliveryOutcome,
		Clock:            m.Clock,
		Client:           cfg.WebhookClient,
		Logger:           logger,
		StaticURL:        cfg.WebhookURL,
		StaticSecret:     cfg.WebhookSecret,
		StaticEventTypes: cfg.WebhookEventTypes,
		RefusePrivate:    cfg.WebhookRefusePrivate,
		Claims:           store.claims(),
		Outbox:           store.outbox(),
		PauseChanged:     m.pauseChanged,
	})
	if err != nil {
		return nil, err
	}
	m.Service = mockserver.NewService(mockserver.Config{Store: hub.ObserveStore(store), Rules: set, Clock: m.Clock, Publisher: m.Notifier, Outbox: store.outbox() != nil, Logger: logger})
	srv, err := mockhttp.NewServer(mockhttp.Deps{
		Service:            m.Service,
		Store:              store,
		Accounts:           cfg.Accounts,
		Logger:             logger,
		PublicURL:          cfg.PublicURL,
		MaxTenants:         cfg.MaxTenants,
		UndocumentedFields: cfg.UndocumentedFields,
		Reset:              m.Reset,
		State:              m,
		Metrics:            m.Metrics,
		Version:            version,
		Ready:              append(m.readyChecks(), cfg.Ready...),
		Faults:             m.Faults,
		Journal:            store.journal(),
		Journaled:          hub.Journaled,
		ClockMoved:         m.ClockMoved,
	})
	if err != nil {
		return nil, err
	}
	if err := srv.EnableNotifications(m.Notifier); err != nil {
		return nil, err
	}
	m.Handler, m.server = srv, srv
	m.Dashboard, err = dashboard.New(dashboard.Deps{Service: m.Service, Store: store, Server: srv, Notifier: m.Notifier, Hub: hub, Faults: m.Faults, Logger: logger})
	if err != nil {
		return nil, err
	}
	if err := srv.EnableDashboard(m.Dashboard); err != nil {
		return nil, err
	}
	if err := m.watch(); err != nil {
		return nil, err
	}
	if err := m.resume(); err != nil {
		store.close()
		return nil, err
	}
	m.stop, m.pruned, m.synced = make(chan struct{}), make(chan struct{}), make(chan struct{})
	go m.pruneLoop(positiveOr(cfg.PruneInterval, DefaultPruneInterval))
	if s := store.shared(); s != nil {
		go m.syncLoop(s.db)
	} else {
		close(m.synced)
	}
	// Last, so that compiling the contracts does not compete with the start-up (Server.WarmUp).
	srv.WarmUp()
	return m, nil
}

// positiveOr returns d, or def when d is not positive.
func positiveOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// pruneLoop runs Prune every interval, in real time, until Close. It is the one place retention
// is applied: the request path never prunes, so no call waits for a sweep.
func (m *Mock) pruneLoop(interval time.Duration) {
	defer close(m.pruned)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
			if err := m.Prune(); err != nil {
				m.log.Error("pruning finished objects", "err", err)
			}
		}
	}
}

// Prune does at once what the prune loop does every PruneInterval; a test on a manual clock
// calls it to apply retention without waiting for the loop. It removes every finished object
// whose retention has passed on its tenant's clock, then forgets each tenant that holds nothing
// and has not called for the retention (on the base clock, as the server times calls).
func (m *Mock) Prune() error {
	n, err := m.store.Prune()
	if n > 0 {
		m.log.Debug("pruned finished objects", "removed", n)
	}
	if err != nil {
		return err
	}
	for _, id := range m.server.IdleTenants(m.Clock.Now().Add(-m.retention)) {
		if held, err := m.store.Count(id); err != nil || len(held) > 0 {
			continue
		}
		if err := m.forgetTenant(id); err != nil {
			return err
		}
		m.log.Debug("forgot idle tenant", "tenant", id)
	}
	return nil
}

// Reset wipes a tenant, as POST /mock/v1/reset does for the caller's: its objects of every kind
// (live ones too: active customer tokens, webhooks, signing keys), idempotency records,
// deliveries with their queues, journal, faults, clock and timers, and its place among the
// tenants, so it no longer counts against MaxTenants and its next call admits it as a new one. It
// returns how many stored objects the tenant held as the reset began. Another tenant is not
// touched.
func (m *Mock) Reset(tenant string) (int, error) {
	held := 0
	counts, err := m.store.Count(tenant)
	if err != nil {
		return 0, err
	}
	for _, n := range counts {
		held += n
	}
	if err := m.forgetTenant(tenant); err != nil {
		return 0, err
	}
	m.log.Debug("reset tenant", "tenant", tenant, "objects_removed", held)
	return held, nil
}

// Tenants reports how many tenants the mock serves now, out of MaxTenants.
func (m *Mock) Tenants() int { return m.server.Tenants() }

// forgetTenant drops everything the mock keeps of a tenant. The notifier goes before the clock
// and the store: once it has forgotten the tenant, an attempt still in flight neither schedules
// a retry on the tenant's clock nor stores its delivery again. The store goes last: a call that
// slipped in since the tenant was found empty (or a reset began) may have stored objects whose
// timers ran on the clock just forgotten, and they go with the rest rather than linger without
// them.
func (m *Mock) forgetTenant(id string) error {
	if s := m.store.shared(); s != nil {
		// No sync runs meanwhile, which could take up the settings being removed again.
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.tenants, id)
	}
	if err := m.forgetLocally(id); err != nil {
		return err
	}
	return m.store.ForgetTenant(id)
}

// forgetLocally drops what the mock keeps of a tenant in memory, for forgetTenant and for a
// tenant another mock on the same database forgot (shared.go).
func (m *Mock) forgetLocally(id string) error {
	m.server.ForgetTenant(id)
	m.Service.ForgetTenant(id)
	m.Faults.ForgetTenant(id)
	m.Dashboard.Hub.ForgetTenant(id)
	if err := m.Notifier.ForgetTenant(id); err != nil {
		return err
	}
	m.Clock.ForgetTenant(id)
	return nil
}

// Close stops what the mock runs in the background: the prune loop, and the webhook attempts in
// flight, which it finishes, bounded by ctx. Deliveries still waiting (queued or for a retry) are
// not made; the notifier logs each of them, and Close returns them so a caller can report them
// too.
func (m *Mock) Close(ctx context.Context) ([]*webhook.Delivery, error) {
	m.stopOnce.Do(func() { close(m.stop) })
	m.Dashboard.Close()
	<-m.pruned
	<-m.synced
	undelivered, err := m.Notifier.Close(ctx)
	if serr := m.syncSettings(); serr != nil {
		m.log.Error("saving the tenants' settings at shutdown", "err", serr)
	}
	m.store.close()
	if m.ownClock {
		m.Clock.Close()
	}
	return undelivered, err
}
