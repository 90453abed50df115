package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	mockhttp "github.com/klarna-mock/klarna-mock/mockserver/http"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// backend is what the mock needs of its store, in memory (memdb) or on PostgreSQL.
type backend interface {
	mockserver.Store
	Notifications() webhook.Store
	// ViewAll and UpdateAll run one transaction seen as both the simulator's and the webhook
	// package's (state export and import).
	ViewAll(fn func(mockserver.Tx, webhook.Tx) error) error
	UpdateAll(fn func(mockserver.Tx, webhook.Tx) error) error
	Prune() (int, error)
	ForgetTenant(tenant string) error
	// Count reports how many objects of each kind the tenant holds; Totals the same for all
	// tenants, for the metrics, nil when it cannot tell.
	Count(tenant string) (map[string]int, error)
	Totals() map[string]int
	// tenants lists the tenants holding objects, whose timers a starting mock resumes and whose
	// settings it saves: none in a fresh memory store.
	tenants() ([]string, error)
	// shared returns what the mock agreed with a store that other mocks may share (a
	// database) of each tenant's settings, nil for a store of the process's own (memory).
	shared() *sharedSettings
	// claims is the webhook.Claimer of a shared store, nil otherwise.
	claims() webhook.Claimer
	// outbox is the durable outbox of a store that keeps one (PostgreSQL), nil otherwise.
	outbox() webhook.Outbox
	// faults keeps the tenants' faults in a store other mocks may share, nil otherwise.
	faults() faults.Backing
	// journal keeps the journal in a store other mocks may share, nil otherwise (the server then
	// keeps its own in memory).
	journal() mockhttp.JournalStore
	// readyCheck is the store's part of /readyz.
	readyCheck() mockhttp.ReadyCheck
	// close releases the store once nothing uses it any more.
	close()
}

// openStore opens the store cfg chooses: PostgreSQL at cfg.DatabaseURL, or memory.
func openStore(cfg Config, retention time.Duration, base *clock.Clock, logger *slog.Logger) (backend, error) {
	if cfg.DatabaseURL == "" {
		s, err := memdb.New(memdb.Config{MaxObjectsPerTenant: cfg.MaxObjectsPerTenant, MaxObjectsTotal: cfg.MaxObjectsTotal, Retention: retention, Clock: base})
		if err != nil {
			return nil, err
		}
		return memBackend{s}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), postgres.DefaultTimeout)
	defer cancel()
	s, err := postgres.Open(ctx, postgres.Config{
		URL: cfg.DatabaseURL, PoolSize: cfg.DatabasePoolSize,
		MaxObjectsPerTenant: cfg.MaxObjectsPerTenant, Retention: retention, Clock: base,
	})
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	return pgBackend{Store: s, log: logger, sync: newSharedSettings(s), journals: s.Journal(logger)}, nil
}

// resume takes up what the store holds, as an import does: the tenants' clocks and rules as
// saved (syncSettings), then, the timers of the process that stored it being gone, the
// expiries and timed transaction states scheduled again, and the notifier counting the
// tenant's webhooks and queueing its pending deliveries, each attempted when due, a retry on
// the tenant's clock, and the events left in the outbox delivered. The clocks go first, so that
// what is already due on the tenant's restored time goes at once.
func (m *Mock) resume() error {
	if err := m.syncSettings(); err != nil {
		return err
	}
	tenants, err := m.store.tenants()
	if err != nil {
		return err
	}
	for _, tenant := range tenants {
		var objs []mockserver.Retained
		var hooks []*webhook.Webhook
		var pending []*webhook.Delivery
		err := m.store.ViewAll(func(tx mockserver.Tx, wtx webhook.Tx) error {
			var err error
			if objs, err = tx.Objects(tenant); err != nil {
				return err
			}
			if hooks, err = wtx.Webhooks(tenant); err != nil {
				return err
			}
			deliveries, err := wtx.AccountDeliveries(tenant)
			for _, d := range deliveries {
				if d.State == webhook.DeliveryPending {
					pending = append(pending, d)
				}
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("resuming tenant %s: %w", tenant, err)
		}
		m.Service.Resume(objs)
		m.Notifier.Restore(tenant, len(hooks), pending)
	}
	// Events whose change committed but whose deliveries were not made yet, by a process that
	// died in between, become deliveries now, after those stored already.
	m.Notifier.DrainOutbox()
	return nil
}

// memBackend is the memory store, whose counts cannot fail.
type memBackend struct{ *memdb.Store }

func (b memBackend) Count(tenant string) (map[string]int, error) { return b.Store.Count(tenant), nil }

func (memBackend) tenants() ([]string, error) { return nil, nil }

func (memBackend) shared() *sharedSettings { return nil }

func (memBackend) claims() webhook.Claimer { return nil }

func (memBackend) outbox() webhook.Outbox { return nil }

func (memBackend) faults() faults.Backing { return nil }

func (memBackend) journal() mockhttp.JournalStore { return nil }

func (b memBackend) readyCheck() mockhttp.ReadyCheck {
	return mockhttp.ReadyCheck{
		Name: "store",
		// go-memdb's reads never wait for a writer, so the read needs no deadline of its own.
		Check: func(context.Context) error { return b.View(func(mockserver.Tx) error { return nil }) },
	}
}

func (memBackend) close() {}

// pgBackend is the PostgreSQL store, which other mocks may share.
type pgBackend struct {
	*postgres.Store
	log      *slog.Logger
	sync     *sharedSettings
	journals *postgres.Journal
}

func (b pgBackend) shared() *sharedSettings { return b.sync }

func (b pgBackend) claims() webhook.Claimer { return b.Claims() }

func (b pgBackend) outbox() webhook.Outbox { return b.Outbox() }

func (b pgBackend) faults() faults.Backing { return b.Faults() }

// Totals logs what keeps it from counting: a scrape must not fail for the database.
func (b pgBackend) Totals() map[string]int {
	totals, err := b.Store.Totals()
	if err != nil {
		b.log.Warn("counting stored objects for the metrics", "err", err)
	}
	return totals
}

func (b pgBackend) tenants() ([]string, error) { return b.Tenants() }

func (b pgBackend) journal() mockhttp.JournalStore { return b.journals }

func (b pgBackend) readyCheck() mockhttp.ReadyCheck {
	return mockhttp.ReadyCheck{Name: "database", Check: b.Ping}
}

// close stores the journal entries still waiting before it closes the pool.
func (b pgBackend) close() {
	b.journals.Close()
	b.Close()
}
