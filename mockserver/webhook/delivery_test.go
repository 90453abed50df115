package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

func TestSignVerify(t *testing.T) {
	t.Parallel()
	secret := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	body := []byte(`{"metadata":{"event_type":"payment.request.state-change.completed"},"payload":{}}`)
	sig := webhook.Sign(secret, body)
	require.Len(t, sig, 64)
	require.Equal(t, strings.ToLower(sig), sig)
	require.True(t, webhook.Verify(secret, body, sig))
	require.True(t, webhook.Verify(secret, body, strings.ToUpper(sig)), "hex case does not matter")
	require.False(t, webhook.Verify([]byte("wrong"), body, sig))
	tampered := bytes.Replace(body, []byte("completed"), []byte("declined!"), 1)
	require.False(t, webhook.Verify(secret, tampered, sig))
	require.False(t, webhook.Verify(secret, body, sig[:62]))
	require.False(t, webhook.Verify(secret, body, "zz"+sig[2:]))
	require.False(t, webhook.Verify(secret, body, ""))
	// A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	require.Equal(t, "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8",
		webhook.Sign([]byte("key"), []byte("The quick brown fox jumps over the lazy dog")))
}

func TestSignedDelivery(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) {
		c.ProductInstanceID = func(account string) string { return "pi-" + account }
	})
	// The receiver knows the right secret of key 1 and a wrong one for key 2; it answers 400 on a
	// mismatch, as Klarna asks receivers to.
	var mu sync.Mutex
	secrets := map[string][]byte{}
	r := newReceiver(t, f.clock, func(h hit) int {
		mu.Lock()
		secret, ok := secrets[h.header.Get(webhook.HeaderSigningKeyID)]
		mu.Unlock()
		if !ok || !webhook.Verify(secret, h.body, h.header.Get(webhook.HeaderSignature)) {
			return http.StatusBadRequest
		}
		return http.StatusOK
	})
	good, goodSecret := f.hook(acctA, r.URL()+"/good", "*")
	bad, _ := f.hook(acctA, r.URL()+"/bad", "*")
	mu.Lock()
	secrets[good.SigningKeyID] = []byte(goodSecret)
	secrets[bad.SigningKeyID] = []byte("not-the-secret")
	mu.Unlock()

	e := event(acctA, mockserver.EventRequestCompleted, "krn:payment:eu1:request:s", 7)
	e.OccurredAt = start.Add(-time.Second)
	f.n.Publish(e)

	okDs := f.waitDeliveries(acctA, good.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	badDs := f.waitDeliveries(acctA, bad.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })
	require.Equal(t, webhook.DeliveryPending, badDs[0].State)
	require.Equal(t, http.StatusBadRequest, badDs[0].Attempts[0].StatusCode, "the receiver detected the mismatch")
	require.Contains(t, badDs[0].Attempts[0].Error, "400")

	var goodHit hit
	for _, h := range r.got() {
		if h.env.Metadata.WebhookID == good.WebhookID {
			goodHit = h
		}
	}
	require.NotNil(t, goodHit.body)
	require.Equal(t, "application/json", goodHit.header.Get("Content-Type"))
	require.Equal(t, good.SigningKeyID, goodHit.header.Get(webhook.HeaderSigningKeyID))
	require.Equal(t, webhook.Sign([]byte(goodSecret), goodHit.body), goodHit.header.Get(webhook.HeaderSignature))
	require.Equal(t, okDs[0].Body, goodHit.body, "the delivery records the exact body")

	// Tampering with the body is detected.
	tampered := bytes.Replace(goodHit.body, []byte(`"seq":7`), []byte(`"seq":8`), 1)
	require.NotEqual(t, goodHit.body, tampered)
	require.False(t, webhook.Verify([]byte(goodSecret), tampered, goodHit.header.Get(webhook.HeaderSignature)))

	// The envelope, exactly.
	md := goodHit.env.Metadata
	_, err := uuid.Parse(md.EventID)
	require.NoError(t, err)
	require.JSONEq(t, fmt.Sprintf(`{"metadata":{"event_type":"payment.request.state-change.completed","event_id":%q,
		"event_version":"v2","occurred_at":"2025-02-28T11:59:59Z","subject_account_id":%q,"recipient_account_id":%q,
		"product_instance_id":%q,"webhook_id":%q,"live":false},
		"payload":{"payment_request_id":"krn:payment:eu1:request:s","seq":7}}`,
		md.EventID, acctA, acctA, "pi-"+acctA, good.WebhookID), string(goodHit.body))
	require.Equal(t, md, okDs[0].Event)
	require.Equal(t, "krn:payment:eu1:request:s", okDs[0].Subject)
	require.Equal(t, md.EventID, badDs[0].Event.EventID, "one event, one event_id across webhooks")
}

func TestRetryScheduleWalkedByClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, func(hit) int { return http.StatusInternalServerError })
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:r", 1))

	attempts := func(n int) func([]*webhook.Delivery) bool {
		return func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == n }
	}
	ds := f.waitDeliveries(acctA, w.WebhookID, attempts(1))
	want := []time.Duration{10 * time.Second, 2 * time.Minute, 15 * time.Minute, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour}
	require.Equal(t, want, webhook.RetryDelays())
	expectedAt := start
	require.Equal(t, expectedAt, ds[0].Attempts[0].StartedAt)
	for i, delay := range want {
		d := ds[0]
		require.Equal(t, webhook.DeliveryPending, d.State)
		require.NotNil(t, d.NextAttemptAt)
		require.Equal(t, expectedAt.Add(delay), *d.NextAttemptAt, "retry %d is due %s after failure %d", i+1, delay, i+1)

		// One millisecond early: nothing happens.
		f.clock.Advance(delay - time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		require.Equal(t, i+1, r.count(), "attempt %d came early", i+2)
		f.clock.Advance(time.Millisecond)
		expectedAt = expectedAt.Add(delay)

		ds = f.waitDeliveries(acctA, w.WebhookID, attempts(i+2))
		require.Equal(t, expectedAt, ds[0].Attempts[i+1].StartedAt)
		require.Equal(t, expectedAt, r.got()[i+1].at, "the receiver saw attempt %d at clock time %s", i+2, expectedAt)
	}
	d := ds[0]
	require.Equal(t, webhook.DeliveryFailed, d.State, "FAILED after the 7th failure")
	require.Nil(t, d.NextAttemptAt)
	require.Len(t, d.Attempts, webhook.MaxAttempts)
	require.Equal(t, 7, webhook.MaxAttempts)
	require.Contains(t, d.FailureReason, "7 attempts")
	for i, a := range d.Attempts {
		require.Equal(t, i+1, a.Attempt)
		require.Equal(t, http.StatusInternalServerError, a.StatusCode)
		require.Contains(t, a.Error, "500")
		require.GreaterOrEqual(t, a.LatencyMS, int64(0))
		require.Equal(t, r.URL(), a.URL)
	}
	require.Equal(t, start.Add(10*time.Second+2*time.Minute+15*time.Minute+21*time.Hour), d.Attempts[6].StartedAt)

	f.clock.Advance(48 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, 7, r.count(), "no attempt after FAILED")
}

func TestRecoversOnThirdAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		switch calls.Add(1) {
		case 1: // transport error: the connection drops without an answer
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("busy, come back later"))
		default:
			time.Sleep(30 * time.Millisecond)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(srv.Close)
	w, _ := f.hook(acctA, srv.URL, "payment.request.*")
	f.n.Publish(event(acctA, mockserver.EventRequestExpired, "krn:payment:eu1:request:3", 1))

	ds := f.pump(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	d := ds[0]
	require.Nil(t, d.NextAttemptAt)
	require.Empty(t, d.FailureReason)
	require.Len(t, d.Attempts, 3)

	a1, a2, a3 := d.Attempts[0], d.Attempts[1], d.Attempts[2]
	require.Equal(t, 1, a1.Attempt)
	require.Equal(t, start, a1.StartedAt)
	require.Zero(t, a1.StatusCode, "no answer, no status")
	require.NotEmpty(t, a1.Error)

	require.Equal(t, 2, a2.Attempt)
	require.Equal(t, start.Add(10*time.Second), a2.StartedAt)
	require.Equal(t, http.StatusServiceUnavailable, a2.StatusCode)
	require.Contains(t, a2.Error, "503")
	require.Equal(t, "busy, come back later", a2.ResponseExcerpt, "the answer is kept beside the error")
	require.False(t, a2.ResponseTruncated)

	require.Equal(t, 3, a3.Attempt)
	require.Equal(t, start.Add(10*time.Second+2*time.Minute), a3.StartedAt)
	require.Equal(t, http.StatusNoContent, a3.StatusCode)
	require.Empty(t, a3.Error)
	require.GreaterOrEqual(t, a3.LatencyMS, int64(30))
	require.Equal(t, int32(3), calls.Load())
	require.Equal(t, start.Add(10*time.Second+2*time.Minute), d.UpdatedAt)
}

func TestSuccessCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		ok     bool
	}{
		{200, true}, {201, true}, {202, true}, {204, true},
		{203, false}, {206, false}, {301, false}, {302, false}, {307, false}, {400, false}, {404, false}, {500, false},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, nil)
			target := newReceiver(t, f.clock, nil) // a redirect must not reach it
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.status/100 == 3 {
					w.Header().Set("Location", target.URL())
				}
				w.WriteHeader(tc.status)
			}))
			t.Cleanup(srv.Close)
			w, _ := f.hook(acctA, srv.URL, "*")
			f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "krn:payment:eu1:request:c", 1))
			ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })
			a := ds[0].Attempts[0]
			require.Equal(t, tc.status, a.StatusCode, a.Error)
			if tc.ok {
				require.Equal(t, webhook.DeliveryDelivered, ds[0].State)
				require.Empty(t, a.Error)
			} else {
				require.Equal(t, webhook.DeliveryPending, ds[0].State)
				require.Contains(t, a.Error, fmt.Sprint(tc.status))
				require.Equal(t, start.Add(10*time.Second), *ds[0].NextAttemptAt)
			}
			require.Zero(t, target.count(), "redirects are not followed")
		})
	}
}

func TestOrderingPerSubject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	var mu sync.Mutex
	failed := map[string]bool{}
	// Slow and flaky: every event's first attempt fails after a random pause.
	r := newReceiver(t, f.clock, func(h hit) int {
		time.Sleep(time.Duration(rand.IntN(5)) * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if !failed[h.env.Metadata.EventID] {
			failed[h.env.Metadata.EventID] = true
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	w, _ := f.hook(acctA, r.URL(), "*")
	const subject = "krn:payment:eu1:request:ordered"
	types := []string{mockserver.EventRequestSubmitted, mockserver.EventRequestInProgress, mockserver.EventRequestSubmitted,
		mockserver.EventRequestInProgress, mockserver.EventRequestCompleted}
	for i, typ := range types {
		f.n.Publish(event(acctA, typ, subject, i+1))
	}
	ds := f.pump(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 5))

	var order []int
	for _, h := range r.got() {
		order = append(order, seqOf(t, h))
	}
	require.Equal(t, []int{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}, order,
		"a later event is not attempted before the earlier one is delivered")
	for i, d := range ds { // newest first
		require.Len(t, d.Attempts, 2)
		require.Equal(t, types[len(types)-1-i], d.Event.EventType)
	}
}

func TestSubjectsDoNotBlockEachOther(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	release := make(chan struct{})
	const subjA, subjB = "krn:payment:eu1:request:A", "krn:payment:eu1:request:B"
	r := newReceiver(t, f.clock, func(h hit) int {
		var p struct {
			ID string `json:"payment_request_id"`
		}
		_ = json.Unmarshal(h.env.Payload, &p)
		if p.ID == subjA {
			<-release
		}
		return http.StatusOK
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, subjA, 1))
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, subjB, 1))
	f.n.Publish(event(acctA, mockserver.EventRequestInProgress, subjA, 2))
	f.n.Publish(event(acctA, mockserver.EventRequestInProgress, subjB, 2))
	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, subjB, 3))

	bySubject := func() map[string][]int {
		out := map[string][]int{}
		for _, h := range r.got() {
			var p struct {
				ID  string `json:"payment_request_id"`
				Seq int    `json:"seq"`
			}
			require.NoError(t, json.Unmarshal(h.env.Payload, &p))
			out[p.ID] = append(out[p.ID], p.Seq)
		}
		return out
	}
	require.Eventually(t, func() bool {
		got := bySubject()
		return len(got[subjB]) == 3 && len(got[subjA]) == 1
	}, waitFor, tick, "B's events are delivered while A's first one hangs")
	time.Sleep(20 * time.Millisecond)
	got := bySubject()
	require.Equal(t, []int{1, 2, 3}, got[subjB])
	require.Equal(t, []int{1}, got[subjA], "A's second event waits for its first")

	close(release)
	f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 5))
	require.Equal(t, []int{1, 2}, bySubject()[subjA])
}

func TestWildcards(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, nil)
	hooks := map[string]*webhook.Webhook{}
	patterns := map[string][]string{
		"all":      {"*"},
		"payment":  {"payment.*"},
		"request":  {"payment.request.*"},
		"state":    {"payment.request.state-change.*"},
		"exact":    {mockserver.EventRequestCompleted},
		"customer": {"identity.*"},
		"mixed":    {mockserver.EventRequestDeclined, "payment.transaction.*"},
	}
	for name, p := range patterns {
		hooks[name], _ = f.hook(acctA, r.URL()+"/"+name, p...)
	}
	events := []string{mockserver.EventRequestCompleted, mockserver.EventTransactionAuthorized, mockserver.EventCustomerTokenRevoked, mockserver.EventRequestDeclined}
	for i, typ := range events {
		f.n.Publish(event(acctA, typ, fmt.Sprintf("subject-%d", i), i))
	}
	want := map[string][]string{
		"all":      events,
		"payment":  {mockserver.EventRequestCompleted, mockserver.EventTransactionAuthorized, mockserver.EventRequestDeclined},
		"request":  {mockserver.EventRequestCompleted, mockserver.EventRequestDeclined},
		"state":    {mockserver.EventRequestCompleted, mockserver.EventRequestDeclined},
		"exact":    {mockserver.EventRequestCompleted},
		"customer": {mockserver.EventCustomerTokenRevoked},
		"mixed":    {mockserver.EventTransactionAuthorized, mockserver.EventRequestDeclined},
	}
	// The dispatcher stores every delivery of an event before it takes the next one: once "all"
	// has the last event, every webhook has all it will get.
	f.waitDeliveries(acctA, hooks["all"].WebhookID, allIn(webhook.DeliveryDelivered, len(events)))
	for name, types := range want {
		ds := f.waitDeliveries(acctA, hooks[name].WebhookID, allIn(webhook.DeliveryDelivered, len(types)))
		var got []string
		for _, d := range ds {
			got = append(got, d.Event.EventType)
		}
		require.ElementsMatch(t, types, got, name)
	}
}

func TestDisabledWebhookGetsNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	on := newReceiver(t, f.clock, nil)
	off := newReceiver(t, f.clock, nil)
	wOn, _ := f.hook(acctA, on.URL(), "*")
	keyID, _ := f.key(acctA)
	wOff, err := f.n.CreateWebhook(acctA, webhook.WebhookInput{URL: off.URL(), EventTypes: []string{"*"}, SigningKeyID: keyID, Status: webhook.StatusDisabled})
	require.NoError(t, err)

	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s1", 1))
	f.waitDeliveries(acctA, wOn.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Empty(t, f.deliveries(acctA, wOff.WebhookID))
	require.Zero(t, off.count())

	enabled := webhook.StatusEnabled
	_, err = f.n.UpdateWebhook(acctA, wOff.WebhookID, webhook.WebhookPatch{Status: &enabled})
	require.NoError(t, err)
	f.n.Publish(event(acctA, mockserver.EventRequestInProgress, "s1", 2))
	ds := f.waitDeliveries(acctA, wOff.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, mockserver.EventRequestInProgress, ds[0].Event.EventType)
	require.Equal(t, 1, off.count())
}

func TestStaticWebhook(t *testing.T) {
	t.Parallel()
	const secret = "ci-static-secret"
	var static *receiver
	f := newFixture(t, func(c *webhook.Config) {
		static = newReceiver(t, c.Clock, func(h hit) int {
			if h.header.Get(webhook.HeaderSigningKeyID) != webhook.StaticSigningKeyID ||
				!webhook.Verify([]byte(secret), h.body, h.header.Get(webhook.HeaderSignature)) {
				return http.StatusBadRequest
			}
			return http.StatusOK
		})
		c.StaticURL, c.StaticSecret = static.URL(), secret
	})
	require.True(t, f.n.Static())
	own := newReceiver(t, f.clock, nil)
	wA, _ := f.hook(acctA, own.URL(), "payment.*")

	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "a1", 1))
	f.n.Publish(event(acctB, mockserver.EventCustomerTokenRevoked, "b1", 2))
	tenanted := event(acctB, mockserver.EventTransactionAuthorized, "b2", 3)
	tenanted.Tenant = "key-feedfacefeedface"
	f.n.Publish(tenanted)

	f.waitDeliveries(acctA, webhook.StaticWebhookID, allIn(webhook.DeliveryDelivered, 1))
	f.waitDeliveries(acctB, webhook.StaticWebhookID, allIn(webhook.DeliveryDelivered, 1))
	ds := f.waitDeliveries(tenanted.Tenant, webhook.StaticWebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, acctB, ds[0].Event.SubjectAccountID)
	f.waitDeliveries(acctA, wA.WebhookID, allIn(webhook.DeliveryDelivered, 1))

	hits := static.got()
	require.Len(t, hits, 3)
	var seqs []int
	for _, h := range hits {
		require.Equal(t, webhook.StaticWebhookID, h.env.Metadata.WebhookID)
		seqs = append(seqs, seqOf(t, h))
	}
	require.ElementsMatch(t, []int{1, 2, 3}, seqs)

	_, err := f.n.ReadWebhook(acctA, webhook.StaticWebhookID)
	require.Error(t, err, "the static webhook is configuration, not an account's webhook")
	list, err := f.n.ListWebhooks(acctB)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestStaticWebhookEventTypes(t *testing.T) {
	t.Parallel()
	var static *receiver
	f := newFixture(t, func(c *webhook.Config) {
		static = newReceiver(t, c.Clock, nil)
		c.StaticURL, c.StaticSecret, c.StaticEventTypes = static.URL(), "s", []string{"identity.*"}
	})
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "a1", 1))
	f.n.Publish(event(acctA, mockserver.EventCustomerTokenRevoked, "t1", 2))
	ds := f.waitDeliveries(acctA, webhook.StaticWebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, mockserver.EventCustomerTokenRevoked, ds[0].Event.EventType)
}

func TestPublishDoesNotBlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.Workers = 3 })
	release := make(chan struct{})
	r := newReceiver(t, f.clock, func(hit) int {
		<-release // never answers while the test runs
		return http.StatusOK
	})
	t.Cleanup(func() { close(release) })
	w, _ := f.hook(acctA, r.URL(), "*")

	// The receiver never answers: if Publish waited for delivery, it would never return.
	const events = 2000
	published := make(chan time.Duration, 1)
	go func() {
		began := time.Now()
		for i := range events {
			f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, fmt.Sprintf("subject-%d", i), i))
		}
		published <- time.Since(began)
	}()
	select {
	case took := <-published:
		t.Logf("%d events published in %s", events, took)
	case <-time.After(waitFor):
		t.Fatal("Publish blocked while the receiver hangs")
	}
	require.Eventually(t, func() bool { return r.count() == 2 }, waitFor, tick, "the tenant's two attempts are stuck in the receiver")
	require.NotEmpty(t, f.deliveries(acctA, w.WebhookID))

	// Close cannot wait for the hanging receiver forever: its context bounds the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	report, err := f.n.Close(ctx) // returns although the receiver never answers
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Len(t, report, events, "every event is reported, none dropped")
	interrupted := 0
	for _, d := range report {
		require.Equal(t, webhook.DeliveryPending, d.State)
		if len(d.Attempts) > 0 {
			interrupted++
			require.Contains(t, d.Attempts[0].Error, "closed")
		}
	}
	require.Equal(t, 2, interrupted)
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestCloseFinishesInFlightAndReports(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	f := newFixture(t, func(c *webhook.Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	release := make(chan struct{})
	const subjX, subjY = "krn:payment:eu1:request:X", "krn:payment:eu1:request:Y"
	r := newReceiver(t, f.clock, func(h hit) int {
		var p struct {
			ID string `json:"payment_request_id"`
		}
		_ = json.Unmarshal(h.env.Payload, &p)
		if p.ID == subjY {
			return http.StatusInternalServerError
		}
		<-release
		return http.StatusOK
	})
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, subjX, 1))
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, subjY, 2))
	f.n.Publish(event(acctA, mockserver.EventRequestInProgress, subjX, 3))
	ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 3 && len(ds[1].Attempts) == 1 && r.count() == 2
	})
	x1, y1, x2 := ds[2], ds[1], ds[0]
	require.Equal(t, subjY, y1.Subject)

	type result struct {
		report []*webhook.Delivery
		err    error
	}
	done := make(chan result, 1)
	go func() {
		report, err := f.n.Close(context.Background())
		done <- result{report, err}
	}()
	require.Never(t, func() bool { return len(done) > 0 }, 100*time.Millisecond, 5*time.Millisecond,
		"Close waits for the attempt in flight")
	close(release)
	var res result
	select {
	case res = <-done:
	case <-time.After(waitFor):
		t.Fatal("Close did not return")
	}
	require.NoError(t, res.err)
	require.Len(t, res.report, 2)
	require.Equal(t, y1.DeliveryID, res.report[0].DeliveryID, "reports come in creation order")
	require.Len(t, res.report[0].Attempts, 1)
	require.Equal(t, http.StatusInternalServerError, res.report[0].Attempts[0].StatusCode)
	require.Equal(t, start.Add(10*time.Second), *res.report[0].NextAttemptAt)
	require.Equal(t, x2.DeliveryID, res.report[1].DeliveryID)
	require.Empty(t, res.report[1].Attempts, "queued behind X1, never started")

	got, err := f.n.Delivery(acctA, x1.DeliveryID)
	require.NoError(t, err)
	require.Equal(t, webhook.DeliveryDelivered, got.State, "the in-flight attempt finished and was recorded")
	for _, id := range []string{y1.DeliveryID, x2.DeliveryID} {
		got, err := f.n.Delivery(acctA, id)
		require.NoError(t, err)
		require.Equal(t, webhook.DeliveryPending, got.State)
		require.Contains(t, logs.String(), id, "the undelivered delivery is logged")
	}
	require.Contains(t, logs.String(), "count=2")

	// After Close: nothing more is attempted, accepted or simulated.
	f.n.Publish(event(acctA, mockserver.EventRequestCompleted, subjX, 4))
	require.Contains(t, logs.String(), "published after Close")
	f.clock.Advance(24 * time.Hour)
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, 2, r.count())
	_, err = f.n.Simulate(acctA, w.WebhookID, mockserver.EventRequestCompleted, "v2")
	klarnaError(t, err, http.StatusServiceUnavailable, mockserver.CodeServiceUnavailable)
	_, err = f.n.Close(context.Background())
	require.Error(t, err)
}

func TestCloseWithNothingPending(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	report, err := f.n.Close(context.Background())
	require.NoError(t, err)
	require.Empty(t, report)
}

func TestDeleteWebhookEndsPendingDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, func(hit) int { return http.StatusInternalServerError })
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	f.n.Publish(event(acctA, mockserver.EventRequestInProgress, "s", 2))
	ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 2 && len(ds[1].Attempts) == 1 })
	require.NoError(t, f.n.DeleteWebhook(acctA, w.WebhookID))
	for _, d := range ds {
		require.Eventually(t, func() bool {
			got, err := f.n.Delivery(acctA, d.DeliveryID)
			require.NoError(t, err)
			return got.State == webhook.DeliveryFailed && got.FailureReason == "the webhook was deleted"
		}, waitFor, tick)
	}
	require.Equal(t, 1, r.count(), "no attempt after the deletion")
}

func TestDeleteWebhookDuringAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	arrived, release := make(chan struct{}, 1), make(chan struct{})
	r := newReceiver(t, f.clock, func(hit) int {
		arrived <- struct{}{}
		<-release
		return http.StatusInternalServerError
	})
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	<-arrived
	ds := f.deliveries(acctA, w.WebhookID)
	require.Len(t, ds, 1)
	require.NoError(t, f.n.DeleteWebhook(acctA, w.WebhookID))
	close(release)
	require.Eventually(t, func() bool {
		got, err := f.n.Delivery(acctA, ds[0].DeliveryID)
		require.NoError(t, err)
		return got.State == webhook.DeliveryFailed && got.FailureReason == "the webhook was deleted" && len(got.Attempts) == 1
	}, waitFor, tick, "the failed attempt is not retried on schedule once the webhook is gone")
	require.Equal(t, start, f.clock.Now())
}

// TestClockDoesNotCutOffAnAttempt moves the clock far past the attempt timeout while the
// receiver is still answering: the attempt is real I/O and completes.
func TestClockDoesNotCutOffAnAttempt(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	release := make(chan struct{})
	r := newReceiver(t, f.clock, func(hit) int {
		<-release
		return http.StatusOK
	})
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	require.Eventually(t, func() bool { return r.count() == 1 }, waitFor, tick)
	f.clock.Advance(time.Hour)
	close(release)
	ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 1 && ds[0].State == webhook.DeliveryDelivered
	})
	require.Len(t, ds[0].Attempts, 1)
	require.Equal(t, http.StatusOK, ds[0].Attempts[0].StatusCode)
}

func TestAttemptTimeoutInRealTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.AttemptTimeout = 50 * time.Millisecond })
	release := make(chan struct{})
	r := newReceiver(t, f.clock, func(hit) int {
		<-release
		return http.StatusOK
	})
	t.Cleanup(func() { close(release) })
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })
	require.Contains(t, ds[0].Attempts[0].Error, "no answer within 50ms")
	require.GreaterOrEqual(t, ds[0].Attempts[0].LatencyMS, int64(50))
}

func TestUpdatedURLTakesEffectOnRetry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadURL := "http://" + ln.Addr().String() + "/hook"
	require.NoError(t, ln.Close()) // nothing listens there any more
	w, _ := f.hook(acctA, deadURL, "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s", 1))
	f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 1 && len(ds[0].Attempts) == 1 })

	r := newReceiver(t, f.clock, nil)
	u := r.URL()
	_, err = f.n.UpdateWebhook(acctA, w.WebhookID, webhook.WebhookPatch{URL: &u})
	require.NoError(t, err)
	f.clock.Advance(10 * time.Second)
	ds := f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, deadURL, ds[0].Attempts[0].URL)
	require.NotEmpty(t, ds[0].Attempts[0].Error)
	require.Equal(t, u, ds[0].Attempts[1].URL)
}

func TestMaxPendingPerTenant(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *webhook.Config) { c.MaxPendingPerTenant = 1 })
	r := newReceiver(t, f.clock, func(hit) int { return http.StatusInternalServerError })
	w, _ := f.hook(acctA, r.URL(), "*")
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s1", 1))
	f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, "s2", 2))
	ds := f.waitDeliveries(acctA, w.WebhookID, func(ds []*webhook.Delivery) bool { return len(ds) == 2 && len(ds[1].Attempts) == 1 })
	require.Equal(t, webhook.DeliveryFailed, ds[0].State)
	require.Contains(t, ds[0].FailureReason, "pending")
	require.Empty(t, ds[0].Attempts)
	require.Equal(t, webhook.DeliveryPending, ds[1].State)
}

func TestSimulate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, nil)
	keyID, secret := f.key(acctA)
	w, err := f.n.CreateWebhook(acctA, webhook.WebhookInput{URL: r.URL(), EventTypes: []string{"identity.*"}, SigningKeyID: keyID, Status: webhook.StatusDisabled})
	require.NoError(t, err)

	d, err := f.n.Simulate(acctA, w.WebhookID, mockserver.EventRequestCompleted, "v2")
	require.NoError(t, err, "simulate ignores the webhook's status and event types")
	require.Equal(t, webhook.DeliveryPending, d.State)
	require.Equal(t, mockserver.EventRequestCompleted, d.Event.EventType)
	require.Equal(t, w.WebhookID, d.WebhookID)
	f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	h := r.got()[0]
	require.True(t, webhook.Verify([]byte(secret), h.body, h.header.Get(webhook.HeaderSignature)))
	var pr mockserver.PaymentRequest
	require.NoError(t, json.Unmarshal(h.env.Payload, &pr))
	require.Equal(t, mockserver.StateCompleted, pr.State)
	require.Equal(t, mockserver.StateInProgress, pr.PreviousState)
	require.True(t, strings.HasPrefix(pr.PaymentRequestID, "krn:payment:eu1:request:"))
	require.NotEmpty(t, pr.StateContext.KlarnaNetworkSessionToken)
	require.Equal(t, pr.PaymentRequestID, d.Subject)
	require.Equal(t, acctA, h.env.Metadata.SubjectAccountID)

	for _, typ := range webhook.EventTypes() {
		d, err := f.n.Simulate(acctA, w.WebhookID, typ, "")
		require.NoError(t, err, typ)
		require.NotEmpty(t, d.Subject)
	}
	f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 1+len(webhook.EventTypes())))

	_, err = f.n.Simulate(acctA, w.WebhookID, "payment.request.state-change.nope", "v2")
	ke := klarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
	require.Equal(t, []string{"event_type"}, params(ke))
	_, err = f.n.Simulate(acctA, w.WebhookID, "", "v1")
	ke = klarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
	require.Equal(t, []string{"event_type", "event_version"}, params(ke))
	_, err = f.n.Simulate(acctA, webhook.WebhookIDPrefix+"nope", mockserver.EventRequestCompleted, "v2")
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)

	// A tenant that is not a partner account gets a placeholder subject account.
	const tenant = "key-0011223344556677"
	wt, _ := f.hook(tenant, r.URL(), "*")
	_, err = f.n.Simulate(tenant, wt.WebhookID, mockserver.EventCustomerTokenRevoked, "v2")
	require.NoError(t, err)
	ds := f.waitDeliveries(tenant, wt.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	require.Equal(t, webhook.SimulatedAccountID, ds[0].Event.SubjectAccountID)
}

func TestDeliveriesLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	r := newReceiver(t, f.clock, nil)
	w, _ := f.hook(acctA, r.URL(), "*")
	for i := range 30 {
		f.n.Publish(event(acctA, mockserver.EventRequestSubmitted, fmt.Sprintf("s%d", i), i))
	}
	f.waitDeliveries(acctA, w.WebhookID, allIn(webhook.DeliveryDelivered, 30))
	ds, err := f.n.Deliveries(acctA, w.WebhookID, 5)
	require.NoError(t, err)
	require.Len(t, ds, 5)
	for i, d := range ds {
		require.Equal(t, fmt.Sprintf("s%d", 29-i), d.Subject, "newest first")
	}
	ds, err = f.n.Deliveries(acctA, w.WebhookID, 0)
	require.NoError(t, err)
	require.Len(t, ds, webhook.DefaultDeliveryLimit)
}
