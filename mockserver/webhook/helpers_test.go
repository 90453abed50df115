package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

var start = time.Date(2025, 2, 28, 12, 0, 0, 0, time.UTC)

const (
	waitFor = 10 * time.Second
	tick    = time.Millisecond
)

type fixture struct {
	t     *testing.T
	clock *clock.Clock
	n     *webhook.Notifier
}

// newFixture starts a Notifier on a fresh memdb store and a manual clock; mod adjusts the config.
func newFixture(t *testing.T, mod func(*webhook.Config)) *fixture {
	t.Helper()
	store, err := memdb.New(memdb.Config{})
	require.NoError(t, err)
	cfg := webhook.Config{Clock: clock.NewManual(start), Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	return &fixture{t: t, clock: cfg.Clock, n: startNotifier(t, store.Notifications(), cfg)}
}

// startNotifier starts a Notifier on store with cfg, closed when t ends.
func startNotifier(t *testing.T, store webhook.Store, cfg webhook.Config) *webhook.Notifier {
	t.Helper()
	n, err := webhook.New(store, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = n.Close(ctx)
	})
	return n
}

// key creates a signing key and returns its id and secret.
func (f *fixture) key(account string) (id, secret string) {
	f.t.Helper()
	k, err := f.n.CreateSigningKey(account)
	require.NoError(f.t, err)
	return k.SigningKeyID, k.SigningKey
}

// hook registers a webhook with a fresh key and returns it with the key's secret.
func (f *fixture) hook(account, url string, types ...string) (*webhook.Webhook, string) {
	f.t.Helper()
	keyID, secret := f.key(account)
	w, err := f.n.CreateWebhook(account, webhook.WebhookInput{URL: url, EventTypes: types, SigningKeyID: keyID})
	require.NoError(f.t, err)
	return w, secret
}

func (f *fixture) deliveries(account, webhookID string) []*webhook.Delivery {
	f.t.Helper()
	ds, err := f.n.Deliveries(account, webhookID, webhook.MaxDeliveryLimit)
	require.NoError(f.t, err)
	return ds
}

// waitDeliveries waits until the webhook's deliveries (newest first) satisfy cond and returns them.
func (f *fixture) waitDeliveries(account, webhookID string, cond func([]*webhook.Delivery) bool) []*webhook.Delivery {
	f.t.Helper()
	var ds []*webhook.Delivery
	deadline := time.Now().Add(waitFor)
	for {
		ds = f.deliveries(account, webhookID)
		if cond(ds) {
			return ds
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("deliveries of %s never reached the expected state:\n%s", webhookID, dump(ds))
		}
		time.Sleep(tick)
	}
}

// dump describes deliveries for a failure message.
func dump(ds []*webhook.Delivery) string {
	var b strings.Builder
	for _, d := range ds {
		fmt.Fprintf(&b, "%s %s %s subject=%s next=%v reason=%q\n", d.DeliveryID, d.Event.EventType, d.State, d.Subject, d.NextAttemptAt, d.FailureReason)
		for _, a := range d.Attempts {
			fmt.Fprintf(&b, "    #%d at %s status %d in %dms: %s\n", a.Attempt, a.StartedAt.Format(time.RFC3339Nano), a.StatusCode, a.LatencyMS, a.Error)
		}
	}
	return b.String()
}

// pump advances the clock to each pending retry of the webhook's deliveries until cond holds.
func (f *fixture) pump(account, webhookID string, cond func([]*webhook.Delivery) bool) []*webhook.Delivery {
	f.t.Helper()
	deadline := time.Now().Add(waitFor)
	for time.Now().Before(deadline) {
		ds := f.deliveries(account, webhookID)
		if cond(ds) {
			return ds
		}
		now := f.clock.Now()
		var next time.Time
		for _, d := range ds {
			if d.State == webhook.DeliveryPending && len(d.Attempts) > 0 && d.NextAttemptAt != nil && d.NextAttemptAt.After(now) {
				if next.IsZero() || d.NextAttemptAt.Before(next) {
					next = *d.NextAttemptAt
				}
			}
		}
		if !next.IsZero() {
			f.clock.Advance(next.Sub(now))
		}
		time.Sleep(tick)
	}
	f.t.Fatalf("deliveries of %s never reached the expected state:\n%s", webhookID, dump(f.deliveries(account, webhookID)))
	return nil
}

func allIn(state string, n int) func([]*webhook.Delivery) bool {
	return func(ds []*webhook.Delivery) bool {
		if len(ds) != n {
			return false
		}
		for _, d := range ds {
			if d.State != state {
				return false
			}
		}
		return true
	}
}

// hit is one request a receiver got.
type hit struct {
	n      int // 1-based arrival number
	body   []byte
	header http.Header
	env    webhook.Envelope
	at     time.Time // on the mock's clock
}

// receiver is a webhook endpoint that records every request and answers what respond says.
type receiver struct {
	srv     *httptest.Server
	clock   *clock.Clock
	respond func(h hit) int
	mu      sync.Mutex
	hits    []hit
}

func newReceiver(t *testing.T, clk *clock.Clock, respond func(h hit) int) *receiver {
	t.Helper()
	r := &receiver{clock: clk, respond: respond}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		h := hit{body: body, header: req.Header.Clone(), at: clk.Now()}
		_ = json.Unmarshal(body, &h.env)
		r.mu.Lock()
		h.n = len(r.hits) + 1
		r.hits = append(r.hits, h)
		r.mu.Unlock()
		status := http.StatusOK
		if r.respond != nil {
			status = r.respond(h)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) URL() string { return r.srv.URL }

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.hits)
}

// event builds a payment request event of account about subject.
func event(account, typ, subject string, seq int) mockserver.Event {
	return mockserver.Event{
		Type:       typ,
		AccountID:  account,
		Subject:    subject,
		OccurredAt: start,
		Payload:    map[string]any{"payment_request_id": subject, "seq": seq},
	}
}

// seqOf returns the payload's seq field.
func seqOf(t *testing.T, h hit) int {
	t.Helper()
	var p struct {
		Seq int `json:"seq"`
	}
	require.NoError(t, json.Unmarshal(h.env.Payload, &p))
	return p.Seq
}

// klarnaError asserts err is a Klarna error with the status and code and returns it.
func klarnaError(t *testing.T, err error, status int, code string) *mockserver.Error {
	t.Helper()
	require.Error(t, err)
	var ke *mockserver.Error
	require.ErrorAs(t, err, &ke)
	require.Equal(t, status, ke.Status, ke.Error())
	require.Equal(t, code, ke.ErrorCode)
	require.NotEmpty(t, ke.ErrorID)
	return ke
}

// params lists the parameters a Klarna error names.
func params(ke *mockserver.Error) []string {
	var out []string
	for _, f := range ke.Errors {
		out = append(out, f.Parameter)
	}
	return out
}
