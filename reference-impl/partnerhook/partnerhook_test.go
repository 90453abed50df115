package partnerhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/partnerhook"
	"github.com/klarna-mock/klarna-mock/reference-impl/signature"
)

// receiver is a Partner's webhook endpoint answering with the scripted statuses (the last one
// repeats).
type receiver struct {
	mu       sync.Mutex
	statuses []int
	got      []http.Header
	bodies   [][]byte
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	n := len(r.got)
	r.got = append(r.got, req.Header.Clone())
	r.bodies = append(r.bodies, body)
	status := r.statuses[min(n, len(r.statuses)-1)]
	r.mu.Unlock()
	w.WriteHeader(status)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func start(t *testing.T, statuses ...int) (*receiver, string) {
	t.Helper()
	r := &receiver{statuses: statuses}
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func newSender(t *testing.T, cfg partnerhook.Config) *partnerhook.Sender {
	t.Helper()
	s := partnerhook.New(cfg)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

var fast = partnerhook.Config{InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func event() acquirer.PartnerEvent {
	return acquirer.PartnerEvent{
		EventID: "evt_1", EventType: acquirer.EventTokenCreated, PartnerID: "p1",
		CreatedAt: time.Date(2026, 1, 4, 12, 0, 0, 0, time.UTC),
		Data:      &acquirer.TokenResource{CustomerToken: "aptok_1", KlarnaCustomerToken: "krn:customer-token:eu1:1"},
	}
}

func TestDeliveriesAreSignedAndRetriedUnchanged(t *testing.T) {
	t.Parallel()
	r, url := start(t, 500, 503, 200)
	s := newSender(t, fast)

	s.Notify(acquirer.Partner{ID: "p1", WebhookURL: url, WebhookSecret: "whsec"}, event())
	require.Eventually(t, func() bool { return r.count() == 3 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, 3, r.count(), "a 2xx ends the delivery")

	r.mu.Lock()
	defer r.mu.Unlock()
	for i, h := range r.got {
		require.Equal(t, r.bodies[0], r.bodies[i], "every attempt sends the same bytes")
		require.True(t, signature.Verify("whsec", r.bodies[i], h.Get(partnerhook.HeaderSignature)))
		require.Equal(t, "evt_1", h.Get(partnerhook.HeaderEventID))
		require.Equal(t, "token.created", h.Get(partnerhook.HeaderEventType))
		require.Equal(t, "application/json", h.Get("Content-Type"))
	}
	var got map[string]any
	require.NoError(t, json.Unmarshal(r.bodies[0], &got))
	require.Equal(t, "evt_1", got["event_id"])
	require.Equal(t, "aptok_1", got["data"].(map[string]any)["customer_token"])
	require.False(t, signature.Verify("other", r.bodies[0], r.got[0].Get(partnerhook.HeaderSignature)))
}

func TestADeliveryGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	r, url := start(t, 500)
	cfg := fast
	cfg.MaxAttempts = 3
	s := newSender(t, cfg)

	s.Notify(acquirer.Partner{ID: "p1", WebhookURL: url, WebhookSecret: "whsec"}, event())
	require.Eventually(t, func() bool { return r.count() == 3 }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(30 * time.Millisecond)
	require.Equal(t, 3, r.count())
}

func TestPartnersWithoutAWebhookGetNothing(t *testing.T) {
	t.Parallel()
	s := newSender(t, fast)
	s.Notify(acquirer.Partner{ID: "p1"}, event())
	require.NoError(t, s.Close(context.Background()))
}

func TestCloseAbandonsWaitingRetries(t *testing.T) {
	t.Parallel()
	r, url := start(t, 500)
	s := partnerhook.New(partnerhook.Config{InitialBackoff: time.Hour, MaxBackoff: time.Hour})

	s.Notify(acquirer.Partner{ID: "p1", WebhookURL: url, WebhookSecret: "whsec"}, event())
	require.Eventually(t, func() bool { return r.count() == 1 }, 5*time.Second, 5*time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	require.NoError(t, s.Close(ctx))
	require.Less(t, time.Since(start), time.Second, "a delivery waiting an hour for its retry does not hold up Close")

	s.Notify(acquirer.Partner{ID: "p1", WebhookURL: url, WebhookSecret: "whsec"}, event())
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, 1, r.count(), "a closed sender sends nothing")
}
