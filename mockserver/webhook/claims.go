package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// Claimer lets several processes deliver from one shared store (PostgreSQL) without making an
// attempt twice: before each attempt the Notifier claims it, and only the process granted the
// claim makes it. The others take up what the store says of the delivery instead, so their
// queues follow the attempts made elsewhere. Without a Claimer (memdb) the store is the
// process's own and nothing is claimed.
type Claimer interface {
	// Claim claims the next attempt of d, attempt number len(d.Attempts)+1, for holder, until
	// ttl has passed in real time, and returns the delivery as the store holds it now (nil when
	// it no longer does). The claim is granted only when the stored delivery is still PENDING
	// with as many attempts as d, and no other holder's claim to that attempt is still running.
	// A granted claim also carries d's webhook and the account's signing keys as the claim's
	// transaction read them, so that the attempt needs no read of its own.
	Claim(d *Delivery, holder string, ttl time.Duration) (Claimed, error)
}

// Claimed is what a Claimer answers.
type Claimed struct {
	// Stored is the delivery as the store holds it, nil when it no longer does.
	Stored  *Delivery
	Granted bool
	// Webhook is the delivery's webhook when Granted, nil when it was deleted; Keys are the
	// account's signing keys.
	Webhook *Webhook
	Keys    []*SigningKey
}

// claimRecheck is how long, in real time, a process that was refused an attempt another
// process claimed waits before it reads the delivery again: by then the attempt has usually
// been made and its outcome stored, with the next attempt's time.
const claimRecheck = time.Second

// claimMargin is how long a claim outlives the attempt's own timeout, for storing its outcome:
// a claim older than both belongs to a process that died during the attempt, and the attempt
// is made again (deliveries are at least once, as Klarna's are).
const claimMargin = 10 * time.Second

// newHolder returns a name for this Notifier among the processes sharing the store.
func newHolder() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// claim claims the attempt of the queue's head it is about to make, when the store is shared
// (Config.Claims), and returns the granted claim (nil when the store is the process's own).
// When the claim is refused it takes up the stored delivery instead, as takeUp says, and
// reports false: the caller makes no attempt.
func (n *Notifier) claim(q *queue, it *item) (*Claimed, bool) {
	if n.cfg.Claims == nil {
		return nil, true
	}
	c, err := n.cfg.Claims.Claim(it.d, n.holder, n.cfg.AttemptTimeout+claimMargin)
	if err != nil {
		n.log.Error("webhook: cannot claim a delivery attempt; trying again shortly", "delivery_id", it.d.DeliveryID, "error", err)
		n.recheck(q)
		return nil, false
	}
	if c.Granted {
		return &c, true
	}
	n.takeUp(q, it, c.Stored)
	return nil, false
}

// takeUp replaces the queue's head by the delivery as another process left it: one that is
// gone or finished leaves the queue; one still pending waits for its next attempt on the
// tenant's clock or, while another process's claim to it runs, is read again claimRecheck
// later. The worker that owns the head calls it.
func (n *Notifier) takeUp(q *queue, it *item, stored *Delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if stored == nil || stored.State != DeliveryPending {
		q.items[0] = nil
		q.items = q.items[1:]
		q.owner.pending--
		q.due = len(q.items) > 0
		return
	}
	it.d = stored
	tenant := stored.AccountID
	if next := stored.NextAttemptAt; next != nil && next.After(n.now(tenant)) && !n.closing && !q.owner.forgotten.Load() {
		var t *clock.Timer
		t = n.clock.Tenant(tenant).At(*next, func() { n.retryDue(q, &t) })
		q.timer = t
		return
	}
	n.recheckLocked(q)
}

// recheck makes the queue's head due again claimRecheck from now, in real time.
func (n *Notifier) recheck(q *queue) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.recheckLocked(q)
}

// recheckLocked is recheck with n.mu held. A head made due twice is claimed twice, which is
// harmless: the claim decides.
func (n *Notifier) recheckLocked(q *queue) {
	time.AfterFunc(claimRecheck, func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		q.due = true
		n.pushReadyLocked(q)
	})
}
