package webhook_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// fairBound is how long another tenant's delivery may take to arrive while one tenant's receiver
// misbehaves: the design allows about a second, and the race detector slows everything down.
const fairBound = 1500 * time.Millisecond

// gauge counts the requests a handler is serving at once and the most it ever served.
type gauge struct{ now, peak atomic.Int32 }

func (g *gauge) enter() {
	n := g.now.Add(1)
	for {
		p := g.peak.Load()
		if n <= p || g.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

func (g *gauge) leave() { g.now.Add(-1) }

// publishMany publishes n events of the account, each about its own subject, so that none waits
// for another in its FIFO.
func (f *fixture) publishMany(account string, n int) {
	for i := range n {
		f.n.Publish(event(account, mockserver.EventRequestSubmitted, fmt.Sprintf("krn:payment:eu1:request:%s-%d", account, i), i))
	}
}

// arrivalAfterPublish publishes one event of the account and returns how long its receiver r
// took to get it.
func (f *fixture) arrivalAfterPublish(account string, r *receiver) time.Duration {
	f.t.Helper()
	before := r.count()
	began := time.Now()
	f.n.Publish(event(account, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:b", 1))
	require.Eventually(f.t, func() bool { return r.count() > before }, waitFor, time.Millisecond)
	return time.Since(began)
}

func TestHangingReceiverDoesNotDelayAnotherTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil) // default workers, in-flight limit and a 10 s attempt timeout
	var g gauge
	gate := make(chan struct{})
	hanging := newReceiver(t, f.clock, func(hit) int {
		g.enter()
		defer g.leave()
		<-gate // until the test ends
		return http.StatusOK
	})
	t.Cleanup(func() { close(gate) }) // before the receiver's cleanup, which waits for its requests
	other := newReceiver(t, f.clock, nil)
	f.hook(acctA, hanging.URL(), "*")
	f.hook(acctB, other.URL(), "*")

	// More deliveries than there are workers: shared first-come workers would all hang here.
	f.publishMany(acctA, 3*webhook.DefaultWorkers)
	require.Eventually(t, func() bool { return hanging.count() == webhook.DefaultMaxInFlightPerTenant }, waitFor, tick)

	took := f.arrivalAfterPublish(acctB, other)
	t.Logf("B's delivery arrived %s after it was published", took)
	require.Less(t, took, fairBound, "A's hanging receiver holds up B")
	require.Equal(t, int32(webhook.DefaultMaxInFlightPerTenant), g.peak.Load(), "A never runs more attempts than its limit")
	require.Equal(t, webhook.DefaultMaxInFlightPerTenant, hanging.count())
}

func TestFailingReceiverDoesNotDelayAnotherTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var g gauge
	failing := newReceiver(t, f.clock, func(hit) int {
		g.enter()
		defer g.leave()
		time.Sleep(100 * time.Millisecond) // a slow failure: 300 of them keep 8 workers busy almost 4 s
		return http.StatusInternalServerError
	})
	other := newReceiver(t, f.clock, nil)
	f.hook(acctA, failing.URL(), "*")
	f.hook(acctB, other.URL(), "*")

	f.publishMany(acctA, 300)
	require.Eventually(t, func() bool { return failing.count() > 0 }, waitFor, tick)

	took := f.arrivalAfterPublish(acctB, other)
	t.Logf("B's delivery arrived %s after it was published", took)
	require.Less(t, took, fairBound, "A's failing receiver holds up B")
	require.LessOrEqual(t, g.peak.Load(), int32(webhook.DefaultMaxInFlightPerTenant))
}

func TestPendingLimitIsPerTenant(t *testing.T) {
	t.Parallel()
	const limit = 3
	f := newFixture(t, func(c *webhook.Config) { c.MaxPendingPerTenant = limit })
	held, _ := f.heldReceiver()
	other := newReceiver(t, f.clock, nil)
	wA, _ := f.hook(acctA, held.URL(), "*")
	wB, _ := f.hook(acctB, other.URL(), "*")

	f.publishMany(acctA, 2*limit)
	ds := f.waitDeliveries(acctA, wA.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 2*limit })
	var refused int
	for _, d := range ds {
		if d.State == webhook.DeliveryFailed {
			refused++
			require.Contains(t, d.FailureReason, fmt.Sprintf("already had %d deliveries pending", limit))
			require.Empty(t, d.Attempts, "refused at once, never attempted")
			require.Nil(t, d.NextAttemptAt)
		}
	}
	require.Equal(t, limit, refused, "what is beyond A's limit fails at once")

	f.publishMany(acctB, limit)
	f.waitDeliveries(acctB, wB.WebhookID, allIn(webhook.DeliveryDelivered, limit))
}

func TestRetriesRunOnTheTenantsClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, func(h hit) int {
		if h.n <= 2 { // the first attempts, one per tenant: retries wait for a clock to move
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	wA, _ := f.hook(acctA, r.URL(), "*")
	wB, _ := f.hook(acctB, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "a", 1))
	f.n.Publish(event(acctB, mockserver.EventRequestSubmitted, "b", 1))
	failedOnce := func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 }
	f.waitDeliveries(acctA, wA.WebhookID, failedOnce)
	f.waitDeliveries(acctB, wB.WebhookID, failedOnce)
	require.Eventually(t, func() bool { return f.n.Due(acctA).Count == 0 }, waitFor, tick)

	later := start.Add(10 * time.Second)
	f.clock.Tenant(acctA).Advance(10 * time.Second)
	ds := f.waitDeliveries(acctA, wA.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, later, ds[0].Attempts[1].StartedAt, "A's retry ran on A's clock")
	require.Equal(t, later, ds[0].UpdatedAt)
	require.Equal(t, later, f.n.Due(acctA).Now)

	time.Sleep(20 * time.Millisecond)
	b := f.deliveries(acctB, wB.WebhookID)[0]
	require.Len(t, b.Attempts, 1, "B's clock did not move, so B's retry is not due")
	require.Equal(t, webhook.DeliveryPending, b.State)
	require.Equal(t, later, *b.NextAttemptAt)
	require.Equal(t, start, f.n.Due(acctB).Now)

	k, err := f.n.CreateSigningKey(acctA)
	require.NoError(t, err)
	require.Equal(t, later, k.CreatedAt, "what A creates is stamped with A's time")
}

func TestRegistrationRefusesInternalAddresses(t *testing.T) {
	t.Parallel()
	// These addresses are only ever registered or refused: no event is published here, so
	// nothing is sent to any of them.
	alwaysRefused := []string{
		"http://169.254.169.254/latest/meta-data/",
		"http://169.254.0.1:8080/hook",
		"http://[fe80::1]/hook",
		"http://[fe80::1%25eth0]:8080/hook",
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://100.100.100.200/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/",
	}
	privateAddrs := []string{
		"http://127.0.0.1:9/hook",
		"http://10.0.0.1/hook",
		"http://192.168.1.10/hook",
		"http://172.16.0.1/hook",
		"http://[::1]:9/hook",
		"http://[fd12:3456::1]/hook",
		"http://0.0.0.0:9/hook",
	}
	for _, refusePrivate := range []bool{false, true} {
		t.Run(fmt.Sprintf("refuse private %v", refusePrivate), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *webhook.Config) { c.RefusePrivate = refusePrivate })
			keyID, _ := f.key(acctA)
			create := func(u string) (*webhook.Webhook, error) {
				return f.n.CreateWebhook(acctA, webhook.WebhookInput{URL: u, EventTypes: []string{"*"}, SigningKeyID: keyID, Status: webhook.StatusDisabled})
			}
			refused := func(u string, err error) {
				t.Helper()
				ke := klarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
				require.Equal(t, []string{"url"}, params(ke), u)
				require.Contains(t, ke.ErrorMessage, "does not send webhooks there", u)
			}
			for _, u := range alwaysRefused {
				_, err := create(u)
				refused(u, err)
			}
			for _, u := range privateAddrs {
				_, err := create(u)
				if refusePrivate {
					refused(u, err)
					require.Contains(t, err.Error(), "--webhook-refuse-private")
				} else {
					require.NoError(t, err, "local development sends webhooks to %s", u)
				}
			}
			// A name is not resolved at registration: it is checked where it resolves, at every attempt.
			w, err := create("http://receiver.example:8080/hook")
			require.NoError(t, err)
			bad := alwaysRefused[0]
			_, err = f.n.UpdateWebhook(acctA, w.WebhookID, webhook.WebhookPatch{URL: &bad})
			refused(bad, err)
		})
	}
}

func TestStaticURLRefusedAtStart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url           string
		refusePrivate bool
	}{
		{"http://169.254.169.254/latest/meta-data/", false},
		{"http://[fe80::1]:8080/", false},
		{"http://127.0.0.1:9/", true},
		{"http://10.0.0.1/", true},
	} {
		store, err := memdb.New(memdb.Config{})
		require.NoError(t, err)
		_, err = webhook.New(store.Notifications(), webhook.Config{StaticURL: tc.url, StaticSecret: "s", RefusePrivate: tc.refusePrivate})
		require.ErrorContains(t, err, "does not send webhooks there", tc.url)
	}
}

func TestNewRefusesWorkersOneTenantCouldFill(t *testing.T) {
	t.Parallel()
	store, err := memdb.New(memdb.Config{})
	require.NoError(t, err)
	_, err = webhook.New(store.Notifications(), webhook.Config{Workers: 2, MaxInFlightPerTenant: 2})
	require.ErrorContains(t, err, "one tenant's slow receiver")
}

// TestDeliveryRefusedWhereTheNameResolves registers a host name, which passes registration, and
// finds the attempt refused once the name resolves to a refused address: the dialer checks the
// resolved address before it connects, so the receiver (on 127.0.0.1) never hears of it.
func TestDeliveryRefusedWhereTheNameResolves(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.RefusePrivate = true })
	r := newReceiver(t, f.clock, nil)
	u, err := url.Parse(r.URL())
	require.NoError(t, err)
	w, _ := f.hook(acctA, "http://localhost:"+u.Port()+"/hook", "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })
	a := ds[0].Attempts[0]
	require.True(t, strings.HasPrefix(a.Error, "refused: "), a.Error)
	require.Contains(t, a.Error, "a loopback address")
	require.Zero(t, a.StatusCode)
	require.Equal(t, webhook.DeliveryPending, ds[0].State, "a refused attempt is a failure like any other")
	require.Zero(t, r.count(), "no connection was made")
}

func TestResponseExcerpt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	long := strings.Repeat("x", 10*webhook.MaxResponseExcerpt)
	var mu sync.Mutex
	answers := map[string]struct {
		status int
		body   string
	}{
		"/long":  {http.StatusInternalServerError, long},
		"/exact": {http.StatusBadGateway, long[:webhook.MaxResponseExcerpt]},
		"/ok":    {http.StatusOK, `{"received":true}`},
		"/empty": {http.StatusNoContent, ""},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		a := answers[req.URL.Path]
		mu.Unlock()
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(srv.Close)
	attempt := func(path string) webhook.Attempt {
		t.Helper()
		w, _ := f.hook(acctA, srv.URL+path, "*")
		f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, path, 1))
		ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })
		return ds[0].Attempts[0]
	}

	a := attempt("/long")
	require.Equal(t, long[:webhook.MaxResponseExcerpt], a.ResponseExcerpt, "the first 512 bytes")
	require.True(t, a.ResponseTruncated, "labelled as cut")
	require.NotContains(t, a.Error, "xxx", "the answer is not copied into the error")
	body, err := json.Marshal(a)
	require.NoError(t, err)
	require.Contains(t, string(body), `"response_truncated":true`)
	require.Contains(t, string(body), `"response_excerpt":"xxx`)

	a = attempt("/exact")
	require.Len(t, a.ResponseExcerpt, webhook.MaxResponseExcerpt)
	require.False(t, a.ResponseTruncated, "512 bytes fit whole")

	a = attempt("/ok")
	require.Equal(t, `{"received":true}`, a.ResponseExcerpt, "a successful answer is kept too")
	require.False(t, a.ResponseTruncated)

	a = attempt("/empty")
	require.Empty(t, a.ResponseExcerpt)
	body, err = json.Marshal(a)
	require.NoError(t, err)
	require.NotContains(t, string(body), "response_", "no answer, no excerpt fields")
}
