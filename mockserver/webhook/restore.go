package webhook

import (
	"slices"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// CheckWebhook returns what CreateWebhook would refuse of w, each problem named by its field:
// its url (under Config.RefusePrivate too), event types, event version and status. An import
// checks the webhooks of a document with it before storing them; their signing key, which is in
// the document rather than in the store yet, is the importer's to check.
func (n *Notifier) CheckWebhook(w *Webhook) []mockserver.FieldError {
	fields := n.checkURLField(w.URL)
	fields = append(fields, checkEventTypes(w.EventTypes)...)
	fields = append(fields, checkVersion(w.EventVersion)...)
	return append(fields, checkStatus(w.Status)...)
}

// Restore takes up a tenant whose webhooks and deliveries an import (PUT /mock/v1/state) has
// just stored, after ForgetTenant dropped what the Notifier kept of its former state: the
// tenant's webhooks count for Publish from now on, and its pending deliveries, given oldest
// first, are queued as they were. A delivery whose next attempt is due goes to the workers at
// once; one waiting for a retry gets its retry timer on the tenant's clock. The caller keeps
// pending within Config.MaxPendingPerTenant.
func (n *Notifier) Restore(tenant string, webhooks int, pending []*Delivery) {
	n.webhooks.Add(int64(webhooks))
	n.Adopt(tenant, pending)
}

// Adopt queues, as Restore does, the tenant's pending deliveries, oldest first, that the
// Notifier does not hold yet: on a store shared with other processes (Config.Claims), those
// another process created and may no longer be there to make, since it stopped for good. While
// it is there both hold them, and the claims decide which makes each attempt.
func (n *Notifier) Adopt(tenant string, pending []*Delivery) {
	if len(pending) == 0 {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closing {
		return
	}
	t := n.tenantLocked(tenant)
	held := map[string]bool{}
	for _, q := range t.queues {
		for _, it := range q.items {
			held[it.d.DeliveryID] = true
		}
	}
	var heads []*queue
	for _, d := range pending {
		if held[d.DeliveryID] || t.pending >= n.cfg.MaxPendingPerTenant {
			continue
		}
		t.pending++
		n.enqueueLocked(t, d)
		if q := t.queues[fifoKey{webhook: d.WebhookID, subject: d.Subject, send: d.SendID}]; len(q.items) == 1 {
			heads = append(heads, q)
		}
	}
	// enqueueLocked offers every new head at once, as for a new event; a head waiting for a
	// retry is taken back and given its timer instead. n.mu is held throughout, so no worker
	// has taken one meanwhile.
	now := n.now(tenant)
	for _, q := range heads {
		next := q.items[0].d.NextAttemptAt
		if next == nil || !next.After(now) {
			continue
		}
		q.due = false
		if q.inReady {
			q.inReady = false
			t.ready = slices.DeleteFunc(t.ready, func(r *queue) bool { return r == q })
		}
		var tm *clock.Timer
		tm = n.clock.Tenant(tenant).At(*next, func() { n.retryDue(q, &tm) })
		q.timer = tm
	}
	if len(t.ready) == 0 {
		n.leaveRingLocked(t)
	}
	n.dropIdleLocked(t)
}
