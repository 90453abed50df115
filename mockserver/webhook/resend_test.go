package webhook_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// TestRedeliverSendsAgainNow redelivers a delivery still waiting for its retry: the new delivery
// carries the same event, is attempted at once without waiting for the old one, and is signed
// with the webhook's current key. The old delivery is left as it was.
func TestRedeliverSendsAgainNow(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rcv := newReceiver(t, f.clock, failingHit(1))
	hook, _ := f.hook("a", rcv.URL(), "*")
	f.n.Publish(event("a", mockserver.EventRequestCompleted, "s1", 1))
	old := f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 1 && len(ds[0].Attempts) == 1
	})[0]
	require.Equal(t, webhook.DeliveryPending, old.State, "waiting 10 s for its retry")

	// A new signing key from now on.
	keyID, secret := f.key("a")
	_, err := f.n.UpdateWebhook("a", hook.WebhookID, webhook.WebhookPatch{SigningKeyID: &keyID})
	require.NoError(t, err)

	again, err := f.n.Redeliver("a", old.DeliveryID)
	require.NoError(t, err)
	require.Equal(t, webhook.DeliveryPending, again.State)
	require.Equal(t, webhook.VariantRedelivery, again.Variant)
	require.Equal(t, old.DeliveryID, again.ResentFrom)
	require.Equal(t, again.DeliveryID, again.SendID)
	require.Equal(t, old.Event, again.Event)
	require.Equal(t, "s1", again.Subject)

	require.Eventually(t, func() bool { return rcv.count() == 2 }, waitFor, tick, "attempted without the clock moving")
	h := rcv.got()[1]
	require.Equal(t, old.Event.EventID, h.env.Metadata.EventID)
	require.Equal(t, keyID, h.header.Get(webhook.HeaderSigningKeyID))
	require.True(t, webhook.Verify([]byte(secret), h.body, h.header.Get(webhook.HeaderSignature)))
	ds := f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 2 && ds[0].State == webhook.DeliveryDelivered
	})
	require.Equal(t, again.DeliveryID, ds[0].DeliveryID, "newest first")
	require.Equal(t, webhook.DeliveryPending, ds[1].State, "the old delivery keeps its schedule")
	require.Len(t, ds[1].Attempts, 1)

	// A delivered one can be redelivered too, and it is the tenant's own only.
	_, err = f.n.Redeliver("a", again.DeliveryID)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return rcv.count() == 3 }, waitFor, tick)
	_, err = f.n.Redeliver("b", old.DeliveryID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	_, err = f.n.Redeliver("a", webhook.DeliveryIDPrefix+"00000000-0000-4000-8000-000000000000")
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)

	// Not once the webhook is gone.
	require.NoError(t, f.n.DeleteWebhook("a", hook.WebhookID))
	_, err = f.n.Redeliver("a", old.DeliveryID)
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
}

// TestRedeliverWaitsWhilePaused holds a redelivery like any delivery of a paused tenant.
func TestRedeliverWaitsWhilePaused(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rcv := newReceiver(t, f.clock, nil)
	hook, _ := f.hook("a", rcv.URL(), "*")
	d, err := f.n.Simulate("a", hook.WebhookID, mockserver.EventRequestSubmitted, "")
	require.NoError(t, err)
	f.waitDeliveries("a", hook.WebhookID, allIn(webhook.DeliveryDelivered, 1))
	f.n.Pause("a")
	_, err = f.n.Redeliver("a", d.DeliveryID)
	require.NoError(t, err)
	time.Sleep(settle)
	require.Equal(t, 1, rcv.count())
	f.n.Resume("a")
	f.waitDeliveries("a", hook.WebhookID, allIn(webhook.DeliveryDelivered, 2))
}

// tolerance is how old an event the careful receiver accepts.
const tolerance = 5 * time.Minute

// careful is a receiver as an Acquiring Partner should write one: it checks the signature and the
// age of occurred_at (answering 400 to either), processes each event id once, and never moves a
// resource back to an older state. It records what it made of every webhook.
type careful struct {
	*receiver
	mu        sync.Mutex
	processed map[string]int // by event id, how often it was processed
	state     map[string]int // by subject, the seq of the newest event processed
	verdicts  []string       // for every webhook, in order
}

func newCareful(t *testing.T, clk *clock.Clock, secret string) *careful {
	c := &careful{processed: map[string]int{}, state: map[string]int{}}
	c.receiver = newReceiver(t, clk, func(h hit) int {
		c.mu.Lock()
		defer c.mu.Unlock()
		verdict, status := c.judge(t, h, secret)
		c.verdicts = append(c.verdicts, verdict)
		return status
	})
	return c
}

// judge decides about one webhook; c.mu is held.
func (c *careful) judge(t *testing.T, h hit, secret string) (string, int) {
	m := h.env.Metadata
	switch {
	case !webhook.Verify([]byte(secret), h.body, h.header.Get(webhook.HeaderSignature)):
		return "bad signature", http.StatusBadRequest
	case h.at.Sub(m.OccurredAt) > tolerance:
		return "stale", http.StatusBadRequest
	case c.processed[m.EventID] > 0:
		return "duplicate", http.StatusOK
	}
	c.processed[m.EventID]++
	var p struct {
		PaymentRequestID string `json:"payment_request_id"`
	}
	require.NoError(t, json.Unmarshal(h.env.Payload, &p))
	seq := seqOf(t, h)
	if last, ok := c.state[p.PaymentRequestID]; ok && seq < last {
		return "older", http.StatusOK
	}
	c.state[p.PaymentRequestID] = seq
	return "processed", http.StatusOK
}

func (c *careful) said() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.verdicts...)
}

// TestSendVariantsAsAReceiverSeesThem sends a resource's events again in every variant to a
// careful receiver: a normal send and a duplicate are processed once, out of order does not move
// the resource back, and the forgeries are refused, each FAILED after its one attempt; a
// receiver that checks nothing accepts them, and they are DELIVERED. Every delivery is in the
// log with its variant.
func TestSendVariantsAsAReceiverSeesThem(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	keyID, secret := f.key("a")
	rcv := newCareful(t, f.clock, secret)
	hook, err := f.n.CreateWebhook("a", webhook.WebhookInput{URL: rcv.URL(), EventTypes: []string{"*"}, SigningKeyID: keyID})
	require.NoError(t, err)
	for seq, typ := range []string{mockserver.EventRequestSubmitted, mockserver.EventRequestInProgress, mockserver.EventRequestCompleted} {
		f.n.Publish(event("a", typ, "pr1", seq+1))
	}
	own := f.waitDeliveries("a", hook.WebhookID, allIn(webhook.DeliveryDelivered, 3))
	submitted, inProgress, completed := own[2], own[1], own[0]
	require.Equal(t, []string{"processed", "processed", "processed"}, rcv.said())

	send := func(in webhook.SendInput) []*webhook.Delivery {
		t.Helper()
		before := len(rcv.said())
		ds, err := f.n.Send("a", hook.WebhookID, in)
		require.NoError(t, err)
		for _, d := range ds {
			require.Equal(t, in.Variant, d.Variant)
			require.Equal(t, ds[0].DeliveryID, d.SendID)
			require.Equal(t, "pr1", d.Subject)
		}
		require.Eventually(t, func() bool { return len(rcv.said()) == before+len(ds) }, waitFor, tick)
		return ds
	}
	lastSaid := func(n int) []string { s := rcv.said(); return s[len(s)-n:] }

	ds := send(webhook.SendInput{EventID: submitted.Event.EventID, Variant: webhook.VariantNormal})
	require.Equal(t, submitted.Event, ds[0].Event, "the same event, to the same webhook")
	require.Equal(t, []string{"duplicate"}, lastSaid(1))

	ds = send(webhook.SendInput{DeliveryID: completed.DeliveryID, Variant: webhook.VariantDuplicate})
	require.Len(t, ds, 2)
	require.Equal(t, completed.Event.EventID, ds[1].Event.EventID)
	require.Equal(t, []string{"duplicate", "duplicate"}, lastSaid(2))

	ds = send(webhook.SendInput{Resource: "pr1", Variant: webhook.VariantOutOfOrder})
	require.Equal(t, []string{completed.DeliveryID, inProgress.DeliveryID}, []string{ds[0].ResentFrom, ds[1].ResentFrom},
		"the latest event, then the one before it")
	ds = send(webhook.SendInput{EventID: submitted.Event.EventID, Variant: webhook.VariantOutOfOrder})
	require.Equal(t, []string{completed.DeliveryID, submitted.DeliveryID}, []string{ds[0].ResentFrom, ds[1].ResentFrom})
	require.Equal(t, 3, seqOf(t, rcv.got()[len(rcv.got())-2]))
	require.Equal(t, 1, seqOf(t, rcv.got()[len(rcv.got())-1]), "the older event arrives after the newer")

	ds = send(webhook.SendInput{Resource: "pr1", Variant: webhook.VariantBadSignature})
	require.NotEqual(t, completed.Event.EventID, ds[0].Event.EventID, "a new event id: de-duplication cannot stop it")
	require.Equal(t, []string{"bad signature"}, lastSaid(1))

	ds = send(webhook.SendInput{Resource: "pr1", Variant: webhook.VariantStaleTimestamp})
	require.NotEqual(t, completed.Event.EventID, ds[0].Event.EventID)
	require.Equal(t, start.Add(-webhook.DefaultStaleBy), ds[0].Event.OccurredAt)
	last := rcv.got()[len(rcv.got())-1]
	require.True(t, webhook.Verify([]byte(secret), last.body, last.header.Get(webhook.HeaderSignature)), "correctly signed")
	require.Equal(t, []string{"stale"}, lastSaid(1))
	ds = send(webhook.SendInput{Resource: "pr1", Variant: webhook.VariantStaleTimestamp, StaleBy: "10m"})
	require.Equal(t, start.Add(-10*time.Minute), ds[0].Event.OccurredAt)

	// Every event was processed once, and the resource never went back.
	for id, n := range rcv.processed {
		require.Equal(t, 1, n, id)
	}
	require.Equal(t, 3, rcv.state["pr1"])

	// The log: the forgeries FAILED after their one attempt, the rest DELIVERED.
	log := f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool {
		for _, d := range ds {
			if d.State == webhook.DeliveryPending {
				return false
			}
		}
		return len(ds) == 3+1+2+2+2+1+1+1
	})
	variants := map[string]int{}
	for _, d := range log {
		variants[d.Variant]++
		switch d.Variant {
		case webhook.VariantBadSignature, webhook.VariantStaleTimestamp:
			require.Equal(t, webhook.DeliveryFailed, d.State)
			require.Len(t, d.Attempts, 1)
			require.Equal(t, http.StatusBadRequest, d.Attempts[0].StatusCode)
			require.Contains(t, d.FailureReason, "forged")
		default:
			require.Equal(t, webhook.DeliveryDelivered, d.State, d.Variant)
		}
	}
	require.Equal(t, map[string]int{"": 3, webhook.VariantNormal: 1, webhook.VariantDuplicate: 2, webhook.VariantOutOfOrder: 4,
		webhook.VariantBadSignature: 1, webhook.VariantStaleTimestamp: 2}, variants)

	// A receiver that checks nothing takes the forgeries in: DELIVERED, as it should not be.
	naive := newReceiver(t, f.clock, nil)
	other, _ := f.hook("a", naive.URL(), "payment.*")
	for _, v := range []string{webhook.VariantBadSignature, webhook.VariantStaleTimestamp} {
		_, err := f.n.Send("a", other.WebhookID, webhook.SendInput{DeliveryID: completed.DeliveryID, Variant: v})
		require.NoError(t, err)
	}
	f.waitDeliveries("a", other.WebhookID, allIn(webhook.DeliveryDelivered, 2))
	require.Equal(t, other.WebhookID, naive.got()[0].env.Metadata.WebhookID, "the envelope names the webhook it goes to")
}

// TestSendDoesNotWaitForTheResourcesPendingDeliveries sends while the resource's own delivery
// waits for its retry: the send goes out at once.
func TestSendDoesNotWaitForTheResourcesPendingDeliveries(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rcv := newReceiver(t, f.clock, failingHit(2))
	hook, _ := f.hook("a", rcv.URL(), "*")
	f.n.Publish(event("a", mockserver.EventRequestSubmitted, "pr1", 1))
	f.n.Publish(event("a", mockserver.EventRequestInProgress, "pr1", 2))
	f.waitDeliveries("a", hook.WebhookID, func(ds []*webhook.Delivery) bool {
		return len(ds) == 2 && len(ds[0].Attempts) == 1 && ds[0].State == webhook.DeliveryPending
	})
	_, err := f.n.Send("a", hook.WebhookID, webhook.SendInput{Resource: "pr1", Variant: webhook.VariantDuplicate})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return rcv.count() == 4 }, waitFor, tick)
	require.Equal(t, []int{2, 2}, []int{seqOf(t, rcv.got()[2]), seqOf(t, rcv.got()[3])})
}

// TestSendRefusesBadInput answers 400 for input it cannot act on and 404 for what the tenant
// does not have.
func TestSendRefusesBadInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	rcv := newReceiver(t, f.clock, nil)
	hook, _ := f.hook("a", rcv.URL(), "*")
	f.n.Publish(event("a", mockserver.EventRequestSubmitted, "pr1", 1))
	d := f.waitDeliveries("a", hook.WebhookID, allIn(webhook.DeliveryDelivered, 1))[0]

	for _, c := range []struct {
		in    webhook.SendInput
		param string
	}{
		{webhook.SendInput{}, "delivery_id"},
		{webhook.SendInput{DeliveryID: d.DeliveryID, Resource: "pr1"}, "resource"},
		{webhook.SendInput{Resource: "pr1", Variant: "evil"}, "variant"},
		{webhook.SendInput{Resource: "pr1", StaleBy: "1h"}, "stale_by"},
		{webhook.SendInput{Resource: "pr1", Variant: webhook.VariantStaleTimestamp, StaleBy: "soon"}, "stale_by"},
		{webhook.SendInput{Resource: "pr1", Variant: webhook.VariantStaleTimestamp, StaleBy: "9000h"}, "stale_by"},
		{webhook.SendInput{Resource: "pr1", Variant: webhook.VariantOutOfOrder}, "variant"}, // only one event
	} {
		_, err := f.n.Send("a", hook.WebhookID, c.in)
		ke := klarnaError(t, err, http.StatusBadRequest, mockserver.CodeValidation)
		require.Equal(t, c.param, ke.Errors[0].Parameter, "%+v", c.in)
	}
	for _, c := range []struct {
		tenant, webhookID string
		in                webhook.SendInput
	}{
		{"a", webhook.WebhookIDPrefix + "nope", webhook.SendInput{Resource: "pr1"}},
		{"b", hook.WebhookID, webhook.SendInput{Resource: "pr1"}},
		{"a", hook.WebhookID, webhook.SendInput{Resource: "pr2"}},
		{"a", hook.WebhookID, webhook.SendInput{EventID: "00000000-0000-4000-8000-000000000000"}},
		{"a", hook.WebhookID, webhook.SendInput{DeliveryID: webhook.DeliveryIDPrefix + "00000000-0000-4000-8000-000000000000"}},
	} {
		_, err := f.n.Send(c.tenant, c.webhookID, c.in)
		klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	}
	// Another tenant's delivery is unknown to this one.
	otherHook, _ := f.hook("b", rcv.URL(), "payment.*")
	_, err := f.n.Send("b", otherHook.WebhookID, webhook.SendInput{DeliveryID: d.DeliveryID})
	klarnaError(t, err, http.StatusNotFound, mockserver.CodeNotFound)
	require.Equal(t, 1, rcv.count(), "nothing was sent")
}
