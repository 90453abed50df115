package webhook_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// memOutbox is an outbox over a memdb store, as webhook.Outbox describes one: the events taken
// go when their transaction commits, or when the one taken alone is refused.
type memOutbox struct {
	store  webhook.Store
	mu     sync.Mutex
	events []mockserver.Event
	wake   func(owner string, events int)
}

func (o *memOutbox) Take(limit int, fn func(webhook.Tx, mockserver.Event) error) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.events) == 0 {
		return false, nil
	}
	taken := o.events[:min(limit, len(o.events))]
	err := o.store.Update(func(tx webhook.Tx) error {
		for _, e := range taken {
			if err := fn(tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || webhook.Refused(err) && len(taken) == 1 {
		o.events = o.events[len(taken):]
	}
	return true, err
}

// newOutboxFixture starts a Notifier on a memOutbox over a fresh memdb store holding at most
// quota objects per tenant (0: memdb's default) and a manual clock; mod adjusts the config.
func newOutboxFixture(t *testing.T, quota int, mod func(*webhook.Config)) (*fixture, *memOutbox) {
	t.Helper()
	store, err := memdb.New(memdb.Config{MaxObjectsPerTenant: quota})
	require.NoError(t, err)
	outbox := &memOutbox{store: store.Notifications()}
	cfg := webhook.Config{Clock: clock.NewManual(start), Logger: slog.New(slog.DiscardHandler), Outbox: outbox}
	if mod != nil {
		mod(&cfg)
	}
	return &fixture{t: t, clock: cfg.Clock, n: startNotifier(t, store.Notifications(), cfg)}, outbox
}

func (o *memOutbox) Notify(_ bool, wake func(owner string, events int)) { o.wake = wake }

func (o *memOutbox) waiting() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.events)
}

// TestEventsFromTheOutbox runs a Notifier on an outbox: a published event is ignored, the store's
// wake makes it drain the outbox, whose events become deliveries in order, and an event whose
// deliveries the store refuses (its quota) is dropped rather than blocking the ones behind it or
// taking those of its batch along.
func TestEventsFromTheOutbox(t *testing.T) {
	t.Parallel()
	f, outbox := newOutboxFixture(t, 3, nil)
	n := f.n
	// The receiver fails every attempt, so that the deliveries stay pending and fill the quota.
	w, _ := f.hook(acctA, failingReceiver(t), "*")

	const subject = "krn:payment:eu1:request:outbox"
	outbox.mu.Lock()
	for seq := range 4 {
		outbox.events = append(outbox.events, event(acctA, mockserver.EventRequestSubmitted, subject, seq))
	}
	outbox.mu.Unlock()
	n.Publish(event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:ignored", 99))
	outbox.wake(acctA, 4)
	require.Eventually(t, func() bool { return outbox.waiting() == 0 }, waitFor, tick, "the outbox is drained")
	ds := f.deliveries(acctA, w.WebhookID)
	require.Len(t, ds, 3, "the fourth event is refused by the quota: %s", dump(ds))
	var seqs []int
	for _, d := range ds {
		require.Equal(t, subject, d.Subject, "the published event itself is not delivered")
		var env struct {
			Payload struct {
				Seq int `json:"seq"`
			} `json:"payload"`
		}
		require.NoError(t, json.Unmarshal(d.Body, &env))
		seqs = append(seqs, env.Payload.Seq)
	}
	require.Equal(t, []int{2, 1, 0}, seqs, "newest first: the outbox's order")
}

// TestOutboxBatchRefusedAtItsFirst checks a batch whose first event is refused (the tenant's quota
// is full already) is taken one event at a time, each refused one dropped, rather than taken
// whole again and again.
func TestOutboxBatchRefusedAtItsFirst(t *testing.T) {
	t.Parallel()
	f, outbox := newOutboxFixture(t, 1, nil)
	// The receiver fails every attempt, so that the first delivery stays pending and fills the
	// quota.
	w, _ := f.hook(acctA, failingReceiver(t), "*")

	drain := func(seqs ...int) {
		outbox.mu.Lock()
		for _, seq := range seqs {
			outbox.events = append(outbox.events, event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:full", seq))
		}
		outbox.mu.Unlock()
		outbox.wake(acctA, len(seqs))
		require.Eventually(t, func() bool { return outbox.waiting() == 0 }, waitFor, tick, "the outbox is drained")
	}
	drain(0)
	drain(1, 2)
	require.Len(t, f.deliveries(acctA, w.WebhookID), 1, "only the first event fits the quota")
}

// failingReceiver returns the url of a receiver that answers every attempt with a 503.
func failingReceiver(t *testing.T) string {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	return failing.URL
}
