// Package mockserver is the domain of the Klarna simulator: the resources Klarna keeps for an
// Acquiring Partner (payment requests, payment transactions, customer tokens, network session
// tokens), their state machines, and the Service that carries out the Payment Authorize API and
// the Purchase Journey. HTTP and storage live at the edges (mockserver/http, mockserver/memdb).
package mockserver

import (
	"errors"
	"log/slog"

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
	Store     Store
	Rules     *rules.Set
	Clock     *clock.Clock
	Publisher Publisher // nil: events are dropped
	Logger    *slog.Logger
}

// Service carries out the simulator's operations. It is safe for concurrent use.
type Service struct {
	store     Store
	rules     *rules.Set
	clock     *clock.Clock
	publisher Publisher
	log       *slog.Logger
}

// NewService returns a Service with cfg's dependencies.
func NewService(cfg Config) *Service {
	s := &Service{store: cfg.Store, rules: cfg.Rules, clock: cfg.Clock, publisher: cfg.Publisher, log: cfg.Logger}
	if s.publisher == nil {
		s.publisher = PublisherFunc(func(Event) {})
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// Clock returns the clock the service runs on.
func (s *Service) Clock() *clock.Clock { return s.clock }

// publish hands events to the publisher, after the change they report is stored.
func (s *Service) publish(events ...Event) {
	for _, e := range events {
		s.publisher.Publish(e)
	}
}

// view reads one object in a read transaction.
func view[T any](s *Service, get func(Tx) (T, error)) (T, error) {
	var v T
	err := s.store.View(func(tx Tx) error {
		var err error
		v, err = get(tx)
		return err
	})
	return v, err
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
