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

// memOutbox is an outbox over a memdb store, as webhook.Outbox describes one: an event taken
// goes when its transaction commits or its taker is refused.
type memOutbox struct {
	store  webhook.Store
	mu     sync.Mutex
	events []mockserver.Event
}

func (o *memOutbox) Take(fn func(webhook.Tx, mockserver.Event) error) (bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.events) == 0 {
		return false, nil
	}
	err := o.store.Update(func(tx webhook.Tx) error { return fn(tx, o.events[0]) })
	if err == nil || webhook.Refused(err) {
		o.events = o.events[1:]
	}
	return true, err
}

func (o *memOutbox) waiting() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.events)
}

// TestEventsFromTheOutbox runs a Notifier on an outbox: a published event only makes it drain
// the outbox, whose events become deliveries in order, and an event whose deliveries the store
// refuses (its quota) is dropped rather than blocking the ones behind it.
func TestEventsFromTheOutbox(t *testing.T) {
	t.Parallel()
	store, err := memdb.New(memdb.Config{MaxObjectsPerTenant: 3})
	require.NoError(t, err)
	outbox := &memOutbox{store: store.Notifications()}
	cfg := webhook.Config{Clock: clock.NewManual(start), Logger: slog.New(slog.DiscardHandler), Outbox: outbox}
	n := startNotifier(t, store.Notifications(), cfg)
	// The receiver fails every attempt, so that the deliveries stay pending and fill the quota.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	f := &fixture{t: t, clock: cfg.Clock, n: n}
	w, _ := f.hook(acctA, failing.URL, "*")

	const subject = "krn:payment:eu1:request:outbox"
	outbox.mu.Lock()
	for seq := range 4 {
		outbox.events = append(outbox.events, event(acctA, mockserver.EventRequestSubmitted, subject, seq))
	}
	outbox.mu.Unlock()
	n.Publish(event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:ignored", 99))
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
