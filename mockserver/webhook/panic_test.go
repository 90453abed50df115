package webhook_test

import (
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// The Notifier's background work (workers, dispatcher, outbox drains) runs in goroutines of its
// own: without the recovers these tests check, each panic below ends the test binary.

// errorLog is the errors a Notifier logged, for a test to read back.
type errorLog struct{ syncBuffer }

func (l *errorLog) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelError}))
}

// requirePanicLogged checks that a panic with the message msg was logged with its stack.
func (l *errorLog) requirePanicLogged(t *testing.T, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		s := l.String()
		return strings.Contains(s, msg) && strings.Contains(s, "panic=boom") && strings.Contains(s, "goroutine")
	}, waitFor, tick, "the panic was logged with its stack")
}

// panicsFor is a ProductInstanceID that panics for account: a bug one tenant's events run into.
func panicsFor(account string) func(string) string {
	return func(a string) string {
		if a == account {
			panic("boom")
		}
		return ""
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAttemptThatPanicsIsAFailedAttempt checks a panic during an attempt (here in the client's
// transport, for one tenant's webhook) counts as a failed attempt: logged with its stack, retried
// on the schedule and FAILED after MaxAttempts, while another tenant's deliveries go on.
func TestAttemptThatPanicsIsAFailedAttempt(t *testing.T) {
	t.Parallel()
	var log errorLog
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	f := newFixture(t, func(c *webhook.Config) { c.Client, c.Logger = client, log.logger() })
	r := newReceiver(t, f.clock, nil)
	bad, _ := f.hook(acctA, r.URL()+"/panic", "*")
	good, _ := f.hook(acctB, r.URL()+"/ok", "*")

	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:a", 1))
	ds := f.waitDeliveries(acctA, bad.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })
	require.Equal(t, webhook.DeliveryPending, ds[0].State)
	require.Contains(t, ds[0].Attempts[0].Error, "panic: boom")
	require.Equal(t, start.Add(webhook.RetryDelays()[0]), *ds[0].NextAttemptAt, "retried on its schedule")
	log.requirePanicLogged(t, "a delivery attempt panicked")

	f.n.Publish(event(acctB, mockserver.EventRequestCompleted, "krn:payment:eu1:request:b", 2))
	f.waitDeliveries(acctB, good.WebhookID, allIn(webhook.DeliveryDelivered, 1))

	ds = f.pump(acctA, bad.WebhookID, allIn(webhook.DeliveryFailed, 1))
	require.Len(t, ds[0].Attempts, webhook.MaxAttempts)
}

// TestDispatchThatPanicsDropsTheEvent checks an event whose dispatch panics is dropped with a log
// line, stops counting as pending, and does not hold up the events after it.
func TestDispatchThatPanicsDropsTheEvent(t *testing.T) {
	t.Parallel()
	var log errorLog
	f := newFixture(t, func(c *webhook.Config) { c.ProductInstanceID, c.Logger = panicsFor(acctA), log.logger() })
	r := newReceiver(t, f.clock, nil)
	a, _ := f.hook(acctA, r.URL(), "*")
	b, _ := f.hook(acctB, r.URL(), "*")

	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:a", 1))
	f.n.Publish(event(acctB, mockserver.EventRequestCompleted, "krn:payment:eu1:request:b", 2))
	f.waitDeliveries(acctB, b.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	log.requirePanicLogged(t, "dispatching an event panicked")
	require.Empty(t, f.deliveries(acctA, a.WebhookID))
	require.Zero(t, f.n.Due(acctA).EventsPending)
	require.NoError(t, f.n.ForgetTenant(acctA), "the dispatcher is not left working on the event")
}

// panickyStore is a store whose write transactions panic while boom is set.
type panickyStore struct {
	webhook.Store
	boom atomic.Bool
}

func (s *panickyStore) Update(fn func(webhook.Tx) error) error {
	if s.boom.Load() {
		panic("boom")
	}
	return s.Store.Update(fn)
}

// TestStoreThatPanics checks a store panicking on new deliveries gives their room back, and one
// panicking on an attempt's outcome leaves the worker and the delivery's queue going.
func TestStoreThatPanics(t *testing.T) {
	t.Parallel()
	mem, err := memdb.New(memdb.Config{})
	require.NoError(t, err)
	store := &panickyStore{Store: mem.Notifications()}
	var log errorLog
	cfg := webhook.Config{Clock: clock.NewManual(start), Logger: log.logger(), MaxPendingPerTenant: 1}
	f := &fixture{t: t, clock: cfg.Clock, n: startNotifier(t, store, cfg)}
	// The receiver sets boom once it has the first attempt: storing its outcome panics.
	var hits atomic.Int32
	r := newReceiver(t, f.clock, func(hit) int {
		if hits.Add(1) == 1 {
			store.boom.Store(true)
		}
		return http.StatusOK
	})
	w, _ := f.hook(acctA, r.URL(), "*")

	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:a", 1))
	log.requirePanicLogged(t, "storing a delivery's outcome panicked")
	require.Eventually(t, func() bool { return f.n.Pending() == 0 }, waitFor, tick, "the queue moved on")

	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:a", 2))
	log.requirePanicLogged(t, "dispatching an event panicked")
	require.Eventually(t, func() bool { return f.n.Due(acctA).EventsPending == 0 }, waitFor, tick)
	require.Zero(t, f.n.Pending(), "the panicked deliveries' room is given back")

	store.boom.Store(false)
	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:a", 3))
	require.Eventually(t, func() bool { return hits.Load() == 2 }, waitFor, tick, "the same queue delivers again")
	ds := f.deliveries(acctA, w.WebhookID)
	require.Len(t, ds, 2, "the second event was not delivered: %s", dump(ds))
}

// TestOutboxEventThatPanicsIsDropped checks an outbox event whose turn into deliveries panics is
// dropped, as a refused one is, without the events of its batch.
func TestOutboxEventThatPanicsIsDropped(t *testing.T) {
	t.Parallel()
	var log errorLog
	f, outbox := newOutboxFixture(t, 0, func(c *webhook.Config) { c.Logger, c.ProductInstanceID = log.logger(), panicsFor(acctA) })
	r := newReceiver(t, f.clock, nil)
	a, _ := f.hook(acctA, r.URL(), "*")
	b, _ := f.hook(acctB, r.URL(), "*")

	outbox.mu.Lock()
	outbox.events = append(outbox.events,
		event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:a", 1),
		event(acctB, mockserver.EventRequestCompleted, "krn:payment:eu1:request:b", 2))
	outbox.mu.Unlock()
	outbox.wake(acctA, 1)
	outbox.wake(acctB, 1)
	f.waitDeliveries(acctB, b.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	log.requirePanicLogged(t, "turning an outbox event into deliveries panicked")
	require.Zero(t, outbox.waiting(), "the event that panicked is dropped")
	require.Empty(t, f.deliveries(acctA, a.WebhookID))
}
