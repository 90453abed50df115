package webhook

import (
	"cmp"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// The mock is shared, so its workers are shared fairly. Each tenant has its own FIFOs, its own
// bound on pending deliveries (Config.MaxPendingPerTenant) and at most
// Config.MaxInFlightPerTenant attempts running; workers serve the tenants that have an attempt to
// make in turn, one attempt each. A tenant whose receiver hangs therefore holds at most
// MaxInFlightPerTenant workers, the others stay free for everyone else, and a tenant with
// thousands of deliveries queued gets one attempt per turn like a tenant with one.

// fifoKey names one FIFO of a tenant: the deliveries of one subject to one webhook, or those of
// one Send or redelivery (send is its Delivery.SendID, empty for the events' own deliveries).
type fifoKey struct{ webhook, subject, send string }

// item is a queued delivery; d is replaced (under Notifier.mu) as the delivery changes.
type item struct {
	seq uint64
	d   *Delivery
}

// queue is one FIFO. Only its head is ever attempted.
type queue struct {
	owner   *tenantQueues
	key     fifoKey
	items   []*item
	running bool // a worker owns the head: attempting it or storing the outcome
	due     bool // the head wants an attempt as soon as no worker owns it
	inReady bool // the queue is in owner.ready
	timer   *clock.Timer
	// hurry asks the worker that owns the head to retry at once rather than on schedule: the
	// webhook was deleted during the attempt.
	hurry bool
}

// tenantQueues is what the Notifier holds for one tenant. It exists while the tenant has a
// delivery queued, being attempted or being created, and is dropped when it has none, so an idle
// tenant costs nothing here. ForgetTenant drops it at once, busy or not.
type tenantQueues struct {
	id     string
	queues map[fifoKey]*queue
	// ready lists the queues whose head waits for a worker, in the order they became ready.
	ready    []*queue
	inFlight int  // attempts running
	pending  int  // deliveries queued or waiting for a retry, and room reserved for new ones
	inRing   bool // the tenant is in Notifier.ring
	// forgotten is set by ForgetTenant: nothing of these queues is attempted, retried or stored
	// any more. It is atomic so that a store transaction can read it without taking
	// Notifier.mu.
	forgotten atomic.Bool
}

// tenantLocked returns the tenant's queues, creating them; n.mu is held.
func (n *Notifier) tenantLocked(id string) *tenantQueues {
	t := n.tenants[id]
	if t == nil {
		t = &tenantQueues{id: id, queues: make(map[fifoKey]*queue)}
		n.tenants[id] = t
	}
	return t
}

// dropIdleLocked forgets t once it has nothing left; n.mu is held.
func (n *Notifier) dropIdleLocked(t *tenantQueues) {
	if len(t.queues) == 0 && t.inFlight == 0 && t.pending == 0 && n.tenants[t.id] == t {
		delete(n.tenants, t.id)
	}
}

// ForgetTenant drops everything the Notifier keeps of a tenant, for a reset of the tenant or when
// an idle one is forgotten: its webhooks, its events not yet turned into deliveries, its queues
// with their retry timers, and its turn among the tenants the workers serve. An attempt in flight
// runs to its end, but its outcome is neither recorded nor retried. The tenant's signing keys and
// deliveries are left to the store's ForgetTenant; call this first, so that nothing the Notifier
// does afterwards stores a delivery of the tenant again. Calls of the tenant made meanwhile may
// take effect before or after it.
func (n *Notifier) ForgetTenant(id string) error {
	// The webhooks are deleted here, not left to the store, so that the count Publish relies on
	// loses exactly the ones deleted. A shared store (Config.Claims) is not counted, and the
	// tenant may be forgotten here because another process reset it: webhooks registered since
	// are not this process's to delete, and the store's ForgetTenant removes the rest.
	var deleted int
	err := n.store.Update(func(tx Tx) error {
		if n.cfg.Claims != nil {
			return nil // nothing to count, nothing of another process's to delete
		}
		hooks, err := tx.Webhooks(id)
		if err != nil {
			return err
		}
		for _, w := range hooks {
			if err := tx.DeleteWebhook(id, w.WebhookID); err != nil {
				return err
			}
		}
		deleted = len(hooks)
		return nil
	})
	if err != nil {
		return fmt.Errorf("webhook: forgetting tenant %s: %w", id, err)
	}
	n.webhooks.Add(-int64(deleted))
	n.forgetEvents(id)

	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.tenants[id]
	delete(n.paused, id)
	if t == nil {
		return nil
	}
	t.forgotten.Store(true)
	delete(n.tenants, id)
	for _, q := range t.queues {
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
	}
	t.ready = nil
	n.leaveRingLocked(t)
	return nil
}

// leaveRingLocked takes t out of the ring, so that no worker takes a queue of it until it is
// offered again; n.mu is held.
func (n *Notifier) leaveRingLocked(t *tenantQueues) {
	if t.inRing {
		n.ring = slices.DeleteFunc(n.ring, func(r *tenantQueues) bool { return r == t })
		t.inRing = false
	}
}

// forgetEvents drops the tenant's events not yet turned into deliveries. An event the dispatcher
// is working on is waited for (it stores and queues its deliveries without I/O), so that its
// deliveries are in the queues ForgetTenant drops next rather than made after them.
func (n *Notifier) forgetEvents(id string) {
	n.inboxMu.Lock()
	defer n.inboxMu.Unlock()
	for n.dispatching == id {
		n.dispatched.Wait()
	}
	if _, ok := n.inbox[id]; ok {
		delete(n.inbox, id)
		n.inboxTurns = slices.DeleteFunc(n.inboxTurns, func(o string) bool { return o == id })
	}
	if n.cfg.Outbox == nil {
		// On an outbox the count goes with the drain it woke (outboxLoop), which takes what the
		// store did not remove with the tenant.
		delete(n.undispatched, id)
	}
}

// enqueueLocked appends d to its FIFO; n.mu is held and d's room in t.pending is reserved.
func (n *Notifier) enqueueLocked(t *tenantQueues, d *Delivery) {
	key := fifoKey{webhook: d.WebhookID, subject: d.Subject, send: d.SendID}
	q := t.queues[key]
	if q == nil {
		q = &queue{owner: t, key: key}
		t.queues[key] = q
	}
	n.seq++
	q.items = append(q.items, &item{seq: n.seq, d: d})
	if len(q.items) == 1 {
		q.due = true
		n.pushReadyLocked(q)
	}
}

// pushReadyLocked offers q's head to the workers if it is due and nobody owns it; n.mu is held.
func (n *Notifier) pushReadyLocked(q *queue) {
	if !q.due || q.running || q.inReady || n.closing || len(q.items) == 0 || q.owner.forgotten.Load() {
		return
	}
	q.inReady = true
	q.owner.ready = append(q.owner.ready, q)
	n.offerLocked(q.owner)
}

// offerLocked puts t at the back of the ring if it has a queue ready and may start another
// attempt; n.mu is held. A paused tenant is kept out of the ring, so its ready queues wait in
// t.ready, in the order their heads fell due, until Resume offers it again.
func (n *Notifier) offerLocked(t *tenantQueues) {
	if t.inRing || len(t.ready) == 0 || t.inFlight >= n.cfg.MaxInFlightPerTenant || n.closing || t.forgotten.Load() || n.paused[t.id] {
		return
	}
	t.inRing = true
	n.ring = append(n.ring, t)
	n.cond.Signal()
}

// takeLocked takes the queue that was ready first of the tenant whose turn it is and counts its
// attempt; the tenant goes to the back of the ring if it may start yet another. The ring is not
// empty; n.mu is held.
func (n *Notifier) takeLocked() *queue {
	t := n.ring[0]
	n.ring[0] = nil
	n.ring = n.ring[1:]
	t.inRing = false
	q := t.ready[0]
	t.ready[0] = nil
	t.ready = t.ready[1:]
	t.inFlight++
	q.inReady, q.running, q.due = false, true, false
	n.offerLocked(t)
	return q
}

// worker attempts the heads of ready queues, tenant by tenant in turn, until Close.
func (n *Notifier) worker() {
	defer n.wg.Done()
	n.mu.Lock()
	for {
		for len(n.ring) == 0 && !n.closing {
			n.cond.Wait()
		}
		if n.closing {
			n.mu.Unlock()
			return
		}
		q := n.takeLocked()
		head := q.items[0]
		n.mu.Unlock()

		n.process(q, head)

		n.mu.Lock()
		t := q.owner
		q.running = false
		t.inFlight--
		if len(q.items) == 0 {
			delete(t.queues, q.key)
		} else {
			n.pushReadyLocked(q)
		}
		n.offerLocked(t)
		n.dropIdleLocked(t)
	}
}

// retryDue runs on the tenant's clock when a head's retry falls due. t points at the variable the
// timer was stored in; it is read under n.mu, after the scheduling code (which holds n.mu) set it.
func (n *Notifier) retryDue(q *queue, t **clock.Timer) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if q.timer != *t {
		return // stopped and replaced meanwhile
	}
	q.timer = nil
	q.due = true
	n.pushReadyLocked(q)
}

// expedite makes the waiting heads of a deleted webhook's queues due now, so they end as FAILED
// instead of waiting for their retry.
func (n *Notifier) expedite(accountID, webhookID string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	t := n.tenants[accountID]
	if t == nil {
		return
	}
	for key, q := range t.queues {
		if key.webhook != webhookID {
			continue
		}
		switch {
		case q.timer != nil:
			q.timer.Stop()
			q.timer = nil
			q.due = true
			n.pushReadyLocked(q)
		case q.running:
			q.hurry = true
		}
	}
}

// DueReport is what the mock will still do for an account's webhooks without its clock moving.
type DueReport struct {
	// Now is the account's clock when the report was made.
	Now time.Time `json:"now"`
	// Count is how many deliveries are due: len(DeliveryIDs).
	Count int `json:"count"`
	// DeliveryIDs are the due deliveries, oldest first. Per FIFO (one webhook and subject, or one
	// Send) only the oldest pending delivery can be due: when it is queued for an attempt, being
	// attempted, or waiting for a retry whose time has come. The deliveries behind it wait for it.
	DeliveryIDs []string `json:"delivery_ids"`
	// EventsPending counts the account's events published and not yet turned into deliveries.
	EventsPending int `json:"events_pending"`
}

// Due reports the account's deliveries that are due now on its clock and its events not yet
// turned into deliveries; once both are zero, nothing more happens to the account's webhooks
// until its clock moves or a new event comes. After Close nothing is due: no attempt is made.
// While the account is paused only its attempts under way are due, the others wait for Resume.
func (n *Notifier) Due(accountID string) DueReport {
	// The events are counted first: an event stops counting only after its deliveries are
	// queued, so reading the queues afterwards may count it twice but never misses it.
	n.inboxMu.Lock()
	events := n.undispatched[accountID]
	n.inboxMu.Unlock()

	n.mu.Lock()
	defer n.mu.Unlock()
	r := DueReport{Now: n.now(accountID), DeliveryIDs: []string{}}
	if n.closing {
		return r
	}
	var heads []*item
	if t := n.tenants[accountID]; t != nil {
		paused := n.paused[accountID]
		for _, q := range t.queues {
			if q.headDue(r.Now, paused) {
				heads = append(heads, q.items[0])
			}
		}
	}
	slices.SortFunc(heads, func(a, b *item) int { return cmp.Compare(a.seq, b.seq) })
	for _, it := range heads {
		r.DeliveryIDs = append(r.DeliveryIDs, it.d.DeliveryID)
	}
	r.Count, r.EventsPending = len(r.DeliveryIDs), events
	return r
}

// Pending reports how many deliveries of all tenants are queued, being attempted or waiting for
// a retry.
func (n *Notifier) Pending() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, t := range n.tenants {
		total += t.pending
	}
	return total
}

// headDue reports whether q's head is being attempted, waits for a worker, or waits for a retry
// due at or before now (its timer fires as the clock gets there); Notifier.mu is held. While its
// tenant is paused only an attempt under way is due: nothing else happens until the resume.
func (q *queue) headDue(now time.Time, paused bool) bool {
	if len(q.items) == 0 {
		return false
	}
	if q.running {
		return true
	}
	if paused {
		return false
	}
	if q.due || q.inReady {
		return true
	}
	next := q.items[0].d.NextAttemptAt
	return next != nil && !next.After(now)
}
