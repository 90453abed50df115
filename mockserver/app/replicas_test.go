package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// replicaWait bounds how long a test waits for one replica to take up what another did: many
// times app.SyncInterval, app.AdoptInterval and the second a replica refused an attempt waits
// before it reads the delivery again, for a loaded CI machine.
const replicaWait = 20 * time.Second

// replica starts a mock on the database behind an httptest server of its own, as one of several
// processes behind a load balancer, and returns a tenant calling it over HTTP. Each replica has
// its own manual clock, all at restartStart, as machines whose clocks agree.
func replica(t *testing.T, db, key string) (tenant, func()) {
	t.Helper()
	m, closeMock := openMock(t, db)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	stop := func() {
		srv.Close()
		closeMock()
	}
	return tenant{t: t, h: httputil.NewSingleHostReverseProxy(u), key: "klarna_test_api_" + key}, stop
}

// offset reads the tenant's clock offset.
func (tn tenant) offset() string {
	tn.t.Helper()
	return tn.ok(http.MethodGet, "/mock/v1/clock", nil).str("offset")
}

// TestReplicasServeAsOne runs two mocks on one database and calls them in turn, as a load
// balancer would: what one creates the other reads and acts on (a Payment Request approved,
// finalized and another one canceled on the other replica, a customer token charged there), a
// clock move and a rules upload on one are the other's too, the expiry a move on one causes is
// seen on both, and a reset on one resets the tenant on the other.
func TestReplicasServeAsOne(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	a, _ := replica(t, db, "replicas")
	b, _ := replica(t, db, "replicas")

	request := a.stepUp()
	require.Equal(t, "SUBMITTED", b.requestState(request))
	approved := b.ok(http.MethodPost, "/mock/v1/payment-requests/"+request+"/approve", nil)
	session := approved.str("state_context.klarna_network_session_token")
	require.NotEmpty(t, session)
	require.Equal(t, "COMPLETED", a.requestState(request))
	final := b.authorize(purchase(1000, false), "Klarna-Network-Session-Token", session)
	require.Equal(t, http.StatusOK, final.status, string(final.raw))
	transaction := final.str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, transaction)
	a.ok(http.MethodGet, "/v2/accounts/"+account+"/payment/transactions/"+transaction, nil)
	again := a.authorize(purchase(1000, false), "Klarna-Network-Session-Token", session)
	require.Equal(t, http.StatusBadRequest, again.status, "the session token B spent is spent on A: %s", again.raw)

	canceled := a.stepUp()
	require.Equal(t, http.StatusOK, b.do(http.MethodDelete, "/v2/accounts/"+account+"/payment/requests/"+canceled, nil).status)
	require.Equal(t, "CANCELED", a.requestState(canceled))

	token := a.subscriber(a.session())
	charged := b.authorize(purchase(2500, false), "Klarna-Customer-Token", token)
	require.Equal(t, "APPROVED", charged.str("payment_transaction_response.result"), string(charged.raw))

	expiring := b.stepUp()
	require.Equal(t, http.StatusOK, a.advance("PT30M").status)
	require.Equal(t, "30m0s", a.offset())
	require.Eventually(t, func() bool { return b.offset() == "30m0s" }, replicaWait, 10*time.Millisecond, "B takes up A's move")
	require.Equal(t, http.StatusOK, b.advance("PT3H").status)
	require.Eventually(t, func() bool { return a.offset() == "3h30m0s" }, replicaWait, 10*time.Millisecond, "the moves add up")
	// The request's expiry timer is B's, which made it; B's move fired it.
	require.Equal(t, "EXPIRED", b.requestState(expiring))
	require.Equal(t, "EXPIRED", a.requestState(expiring))

	rules := a.send(http.MethodPut, "/mock/v1/rules", []byte(restartRules), "Content-Type", "application/yaml")
	require.Equal(t, http.StatusOK, rules.Code, rules.Body.String())
	require.Eventually(t, func() bool {
		return strings.Contains(string(b.ok(http.MethodGet, "/mock/v1/rules", nil).raw), "restart-vip")
	}, replicaWait, 10*time.Millisecond, "B takes up A's rules")

	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/mock/v1/reset", nil).status)
	require.Eventually(t, func() bool { return b.offset() == "0s" }, replicaWait, 10*time.Millisecond, "B forgets the tenant A reset")
	require.Equal(t, http.StatusNotFound, b.do(http.MethodGet, "/v2/accounts/"+account+"/payment/requests/"+request, nil).status)
	require.NotContains(t, string(b.ok(http.MethodGet, "/mock/v1/rules", nil).raw), "restart-vip")
}

// TestReplicasHoldIdempotencyKeys sends the same purchase under one Klarna-Idempotency-Key to two
// mocks on one database at once: one transaction is created, and every duplicate, on either
// replica, gets its answer.
func TestReplicasHoldIdempotencyKeys(t *testing.T) {
	t.Parallel()
	db := storetest.Database(t)
	a, _ := replica(t, db, "duplicates")
	b, _ := replica(t, db, "duplicates")
	token := a.subscriber(a.session())

	const duplicates = 16
	answers := make([]answer, duplicates)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range duplicates {
		tn := a
		if i%2 == 1 {
			tn = b
		}
		wg.Go(func() {
			<-start
			answers[i] = tn.authorize(purchase(4200, false), "Klarna-Customer-Token", token, "Klarna-Idempotency-Key", "twice-sent")
		})
	}
	close(start)
	wg.Wait()
	first := answers[0].str("payment_transaction_response.payment_transaction.payment_transaction_id")
	require.NotEmpty(t, first, string(answers[0].raw))
	for i, ans := range answers {
		require.Equal(t, http.StatusOK, ans.status, "duplicate %d: %s", i, ans.raw)
		require.Equal(t, first, ans.str("payment_transaction_response.payment_transaction.payment_transaction_id"), "duplicate %d", i)
	}
	exported := b.ok(http.MethodGet, "/mock/v1/state", nil)
	require.Equal(t, 1, strings.Count(string(exported.raw), `"payment_transaction_id"`), "one transaction in the store: %s", exported.raw)
}

// TestReplicasDeliverEachAttemptOnce registers a webhook on one mock, causes events on both, and
// restarts one while every delivery waits for its retry, so that both hold every pending
// delivery in their queues: each delivery's attempts are made once each, by whichever replica
// claims them, with a receiver counting the attempts of each event.
func TestReplicasDeliverEachAttemptOnce(t *testing.T) {
	t.Parallel()
	p := webhookPair(t, "webhooks")
	counts, a, b := p.counts, p.a, p.b
	const events = 6
	for i := range events {
		if i%2 == 0 {
			a.stepUp()
		} else {
			b.stepUp() // B never saw the webhook registered: it is in the store
		}
	}
	requireAttempts(t, counts, events, 1)

	// A restarted B takes up every pending delivery, A's too, which A still holds.
	p.stopB()
	b, _ = replica(t, p.db, "webhooks")
	require.Equal(t, http.StatusOK, b.advance("PT10S").status)
	requireAttempts(t, counts, events, 2)
	require.Equal(t, http.StatusOK, a.advance("PT1H").status)
	requireAttempts(t, counts, events, 2)
}

// flakyReceiver is a webhook receiver that fails the first attempt of every event and accepts
// the others; counts reports how many attempts each event (by event_id) got.
func flakyReceiver(t *testing.T) (counts func() map[string]int, url string) {
	t.Helper()
	var mu sync.Mutex
	attempts := map[string]int{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var envelope struct {
			Metadata struct {
				EventID string `json:"event_id"`
			} `json:"metadata"`
		}
		_ = json.NewDecoder(r.Body).Decode(&envelope)
		mu.Lock()
		defer mu.Unlock()
		attempts[envelope.Metadata.EventID]++
		if attempts[envelope.Metadata.EventID] == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // every first attempt fails, for a retry
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)
	counts = func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := make(map[string]int, len(attempts))
		for k, v := range attempts {
			out[k] = v
		}
		return out
	}

	return counts, receiver.URL
}

// pair is two mocks on one database, a webhook registered on the first to a flakyReceiver.
type pair struct {
	db           string
	counts       func() map[string]int
	a, b         tenant
	stopA, stopB func()
}

// webhookPair starts a pair for the tenant key.
func webhookPair(t *testing.T, key string) pair {
	t.Helper()
	p := pair{db: storetest.Database(t)}
	var url string
	p.counts, url = flakyReceiver(t)
	p.a, p.stopA = replica(t, p.db, key)
	p.b, p.stopB = replica(t, p.db, key)
	webhookOn(p.a, url)
	return p
}

// webhookOn registers a webhook for submitted requests (or the event types given) to url, with
// its signing key, on a mock.
func webhookOn(tn tenant, url string, eventTypes ...string) {
	tn.t.Helper()
	if len(eventTypes) == 0 {
		eventTypes = []string{"payment.request.state-change.submitted"}
	}
	key := tn.do(http.MethodPost, "/v2/notification/signing-keys", nil)
	require.Equal(tn.t, http.StatusCreated, key.status, string(key.raw))
	hook := tn.do(http.MethodPost, "/v2/notification/webhooks", map[string]any{
		"url": url, "event_types": eventTypes, "signing_key_id": key.str("signing_key_id"),
	})
	require.Equal(tn.t, http.StatusCreated, hook.status, string(hook.raw))
}

// requireAttempts waits until every one of events events got n attempts, and checks none
// gets more once claimRecheck has passed.
func requireAttempts(t *testing.T, counts func() map[string]int, events, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		got := counts()
		for _, c := range got {
			if c != n {
				return false
			}
		}
		return len(got) == events
	}, replicaWait, 10*time.Millisecond, "every event gets %d attempts", n)
	time.Sleep(3 * time.Second) // past claimRecheck: a replica refused an attempt has read it again
	for id, c := range counts() {
		require.Equal(t, n, c, "event %s", id)
	}
}

// TestReplicaLeftForGood stops one of two mocks on a database while its deliveries wait for
// their retries, and does not start it again: the other takes them up and makes the retries.
func TestReplicaLeftForGood(t *testing.T) {
	t.Parallel()
	p := webhookPair(t, "leaving")
	counts, a, b := p.counts, p.a, p.b
	const events = 3
	for range events {
		a.stepUp()
	}
	requireAttempts(t, counts, events, 1)
	p.stopA()
	require.Equal(t, http.StatusOK, b.advance("PT10S").status)
	// B takes them up within AdoptInterval.
	requireAttempts(t, counts, events, 2)
}

// TestReplicasSharePause pauses a tenant's deliveries on one mock and causes an event on the
// other at once: no attempt is made, the other mock reports the pause too, and a resume on it
// lets the attempt go. A pause survives a restart.
func TestReplicasSharePause(t *testing.T) {
	t.Parallel()
	p := webhookPair(t, "pausing")
	counts, a, b := p.counts, p.a, p.b
	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/mock/v1/deliveries/pause", nil).status)
	b.stepUp()
	require.Eventually(t, func() bool {
		return b.ok(http.MethodGet, "/mock/v1/deliveries/status", nil).json["paused"] == true
	}, replicaWait, 10*time.Millisecond, "B keeps to A's pause")
	time.Sleep(1500 * time.Millisecond)
	require.Empty(t, counts(), "no attempt while paused")
	require.Equal(t, http.StatusOK, b.do(http.MethodPost, "/mock/v1/deliveries/resume", nil).status)
	requireAttempts(t, counts, 1, 1)
	require.Eventually(t, func() bool {
		return a.ok(http.MethodGet, "/mock/v1/deliveries/status", nil).json["paused"] == false
	}, replicaWait, 10*time.Millisecond, "A takes up B's resume")

	require.Equal(t, http.StatusOK, a.do(http.MethodPost, "/mock/v1/deliveries/pause", nil).status)
	p.stopB()
	b, _ = replica(t, p.db, "pausing")
	require.Equal(t, true, b.ok(http.MethodGet, "/mock/v1/deliveries/status", nil).json["paused"], "a restarted B starts paused")
}

// TestReplicasExpireOnce has both mocks hold the expiry timers of the same Payment Requests (the
// second started after they were created, resuming every timer from the database) and moves the
// clock past them: each request expires once, with one expired event each.
func TestReplicasExpireOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	expired := map[string]int{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var envelope struct {
			Payload struct {
				PaymentRequestID string `json:"payment_request_id"`
			} `json:"payload"`
		}
		_ = json.NewDecoder(r.Body).Decode(&envelope)
		mu.Lock()
		expired[envelope.Payload.PaymentRequestID]++
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)
	db := storetest.Database(t)
	a, _ := replica(t, db, "expiring")
	webhookOn(a, receiver.URL, "payment.request.state-change.expired")
	requests := []string{a.stepUp(), a.stepUp(), a.stepUp()}
	b, _ := replica(t, db, "expiring")
	require.Equal(t, http.StatusOK, b.advance("PT3H").status)
	for _, id := range requests {
		require.Equal(t, "EXPIRED", b.requestState(id))
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(expired) == len(requests)
	}, replicaWait, 10*time.Millisecond, "every expiry is delivered")
	time.Sleep(time.Second) // A takes up the move within app.SyncInterval, and its timers fire
	mu.Lock()
	defer mu.Unlock()
	for _, id := range requests {
		require.Equal(t, 1, expired[id], "request %s expired once", id)
	}
}
