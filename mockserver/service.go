// Package mockserver is the domain of the Klarna simulator: the resources Klarna keeps for an
// Acquiring Partner (payment requests, payment transactions, customer tokens, network session
// tokens), their state machines, and the Service that carries out the Payment Authorize API and
// the Purchase Journey. HTTP and storage live at the edges (mockserver/http, mockserver/memdb).
package mockserver

import (
	"errors"
	"log/slog"
	"sync"

	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// Region is the region part of every id the mock issues.
const Region = "eu1"

// Id prefixes of the resources the mock issues.
const (
	PrefixPaymentRequest     = "krn:payment:" + Region + ":request:"
	PrefixPaymentTransaction = "krn:payment:" + Region + ":transaction:"
	PrefixCustomerToken      = "krn:customer-token:" + Region + ":"
	PrefixNetworkSession     = "krn:payment:" + Region + ":klarna-network-session-token:"
	PrefixPaymentCapture     = "krn:payment:" + Region + ":capture:"
)

// Config holds what a Service depends on.
type Config struct {
	Store Store
	// Rules are the default outcome rules; SetDefaultRules replaces them and SetTenantRules sets
	// a tenant's own.
	Rules *rules.Set
	// Clock is the base clock; each tenant's data runs on the tenant's clock, Clock.Tenant(id).
	Clock     *clock.Clock
	Publisher Publisher // nil: events are dropped
	// Outbox says the store keeps a durable outbox (Tx.Emit): each write transaction records the
	// events of its change, which the publisher takes from the store rather than from Publish.
	Outbox bool
	Logger *slog.Logger
}

// Service carries out the simulator's operations. It is safe for concurrent use.
type Service struct {
	store     Store
	ruleSets  ruleSets
	clock     *clock.Clock
	publisher Publisher
	outbox    bool
	log       *slog.Logger
	timers    requestTimers
	// txTimers holds the one timer of each payment transaction that still has a timed
	// transition ahead (transaction.go).
	txTimers requestTimers
}

// NewService returns a Service with cfg's dependencies.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, clock: cfg.Clock, publisher: cfg.Publisher, outbox: cfg.Outbox, log: cfg.Logger}
	s.ruleSets.defaults.Store(cfg.Rules)
	s.ruleSets.byTenant = map[string]*RulesDocument{}
	if s.publisher == nil {
		s.publisher = PublisherFunc(func(Event) {})
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.timers.byTenant = map[string]map[string]requestTimer{}
	s.txTimers.byTenant = map[string]map[string]requestTimer{}
	return s
}

// Clock returns the base clock the service runs on; ClockOf gives a tenant's.
func (s *Service) Clock() *clock.Clock { return s.clock }

// ClockOf returns the clock of the tenant that accountID belongs to: accountID is a scope (see
// Scope) or a tenant id. Every time the service reads or schedules for a tenant's data is on this
// clock, so a tenant moving its clock moves nobody else's.
func (s *Service) ClockOf(accountID string) *clock.Clock {
	tenant, _ := SplitScope(accountID)
	return s.clock.Tenant(tenant)
}

// ForgetTenant stops the timers the service keeps for the tenant's Payment Requests and payment
// transactions and drops them, and drops the tenant's own rules, for when the tenant's data and
// clock are dropped (the store's and the clock's ForgetTenant).
func (s *Service) ForgetTenant(tenant string) {
	s.SetTenantRules(tenant, nil)
	s.timers.forget(tenant)
	s.txTimers.forget(tenant)
}

// forget stops and drops every timer kept for the tenant.
func (rt *requestTimers) forget(tenant string) {
	rt.mu.Lock()
	pending := rt.byTenant[tenant]
	delete(rt.byTenant, tenant)
	rt.mu.Unlock()
	for _, t := range pending {
		t.stop()
	}
}

// requestTimers holds the timers of the Payment Requests that can still expire, by tenant and
// id: each is stopped and dropped when its request reaches a state it cannot expire from, so the
// timers are bounded by the live requests and none keeps a finished request's ids alive.
type requestTimers struct {
	mu       sync.Mutex
	byTenant map[string]map[string]requestTimer
}

// requestTimer is what a Payment Request has scheduled: its expiry and, when a rule scripts the
// simulated customer, the customer's action (nil otherwise).
type requestTimer struct{ expiry, customer *clock.Timer }

func (t requestTimer) stop() {
	t.expiry.Stop()
	if t.customer != nil {
		t.customer.Stop()
	}
}

// schedule runs add, which schedules a request's timers, and keeps what it returns under tenant
// and id, stopping the timers it replaces. It holds the lock while add runs, so a timer that
// fires at once and ends the request finds its entry to drop.
func (rt *requestTimers) schedule(tenant, id string, add func() requestTimer) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	ids := rt.byTenant[tenant]
	if ids == nil {
		ids = map[string]requestTimer{}
		rt.byTenant[tenant] = ids
	}
	if old, ok := ids[id]; ok {
		old.stop()
	}
	ids[id] = add()
}

// done stops and drops the timers of a request that can no longer expire.
func (rt *requestTimers) done(tenant, id string) {
	rt.mu.Lock()
	t, ok := rt.byTenant[tenant][id]
	if ok {
		delete(rt.byTenant[tenant], id)
		if len(rt.byTenant[tenant]) == 0 {
			delete(rt.byTenant, tenant)
		}
	}
	rt.mu.Unlock()
	if ok {
		t.stop()
	}
}

// pending reports how many Payment Requests have timers kept.
func (rt *requestTimers) pending() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	n := 0
	for _, ids := range rt.byTenant {
		n += len(ids)
	}
	return n
}

// emit records the events of a write transaction's change in the store's outbox, when it keeps
// one; otherwise it does nothing, and publish alone hands them on.
func (s *Service) emit(tx Tx, events ...Event) error {
	if !s.outbox {
		return nil
	}
	for _, e := range events {
		if err := tx.Emit(e); err != nil {
			return err
		}
	}
	return nil
}

// publish hands events to the publisher, after the change they report is stored. With an outbox
// (Config.Outbox) the events are in the store already, whose commit woke the publisher.
func (s *Service) publish(events ...Event) {
	for _, e := range events {
		s.publisher.Publish(e)
	}
}

// view reads one object in a read transaction, the store's cheaper one for one read when it has
// one (SingleReader).
func view[T any](s *Service, get func(Tx) (T, error)) (T, error) {
	var v T
	err := s.readOne(func(tx Tx) (err error) {
		v, err = get(tx)
		return err
	})
	return v, err
}

// readOne runs read, which makes one read, in a read transaction, the store's cheaper one for
// that when it has one (SingleReader). A caller on every request's path calls it rather than
// view, whose get is a closure more.
func (s *Service) readOne(read func(Tx) error) error {
	if one, ok := s.store.(SingleReader); ok {
		return one.ViewOne(read)
	}
	return s.store.View(read)
}

// lookup reads one object in a read transaction; a missing one is a 404 naming what and id.
func lookup[T any](s *Service, what, id string, get func(Tx) (T, error)) (T, error) {
	v, err := view(s, get)
	return v, notFound(err, what, id)
}

// notFound turns ErrNotFound from a Tx lookup into a 404 naming what and id; other errors, and
// nil, pass through.
func notFound(err error, what, id string) error {
	if errors.Is(err, ErrNotFound) {
		return NotFound(what, id)
	}
	return err
}
