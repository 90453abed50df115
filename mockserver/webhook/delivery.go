package webhook

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// errClosing is the error of an attempt interrupted by Close.
var errClosing = errors.New("interrupted: the notifier was closed")

// errAbandoned is the outcome of deliveries whose store call panicked: they are not made.
var errAbandoned = errors.New("webhook: the store call panicked")

// target is where and how a delivery is sent.
type target struct {
	url    string
	keyID  string
	secret []byte
}

// Publish queues the event for every matching webhook. It never blocks on delivery and does no
// I/O: the event is appended to its owner's inbox, which the dispatcher works off in order.
// Events published after Close are logged at warn level and dropped. While no webhook is
// registered and none is configured at start, there is nobody to tell and Publish returns at
// once; on a store shared with other processes (Config.Claims) a webhook may have been
// registered by another, so the store is asked. With an outbox (Config.Outbox) Publish does
// nothing: the event is in the outbox already if anyone may receive it, and the store's commit
// woke the dispatcher (Outbox.Notify).
func (n *Notifier) Publish(e mockserver.Event) {
	if n.cfg.Outbox != nil || n.static == nil && n.cfg.Claims == nil && n.webhooks.Load() == 0 {
		return
	}
	o := owner(e)
	n.inboxMu.Lock()
	if n.inboxClosed {
		n.inboxMu.Unlock()
		n.log.Warn("webhook: event published after Close is not delivered",
			"event_type", e.Type, "tenant", e.Tenant, "account_id", e.AccountID, "subject", e.Subject)
		return
	}
	if len(n.inbox[o]) == 0 {
		n.inboxTurns = append(n.inboxTurns, o)
	}
	n.inbox[o] = append(n.inbox[o], e)
	n.undispatched[o]++
	n.inboxMu.Unlock()
	n.signalInbox()
}

// signalInbox wakes the dispatcher, unless it is woken already.
func (n *Notifier) signalInbox() {
	select {
	case n.inboxSignal <- struct{}{}:
	default:
	}
}

// dispatchLoop turns published events into queued deliveries: each owner's in publication
// order, one event of each owner in turn, so that a burst of one tenant's events does not hold
// up another tenant's. Once the inbox is closed and empty it returns.
func (n *Notifier) dispatchLoop() {
	defer n.wg.Done()
	for {
		<-n.inboxSignal
		for {
			e, ok, closed := n.nextEvent()
			if closed {
				return // Publish refuses events once the inbox is closed: it stays empty
			}
			if !ok {
				break
			}
			n.dispatch(e)
			// Only now, with its deliveries queued, does the event stop counting for Due.
			o := owner(e)
			n.inboxMu.Lock()
			if n.undispatched[o]--; n.undispatched[o] == 0 {
				delete(n.undispatched, o)
			}
			n.dispatching = ""
			n.dispatched.Broadcast()
			n.inboxMu.Unlock()
		}
	}
}

// nextEvent takes the oldest event of the owner whose turn it is, and sends the owner to the back
// of the line if it has more. ok is false when the inbox is empty; closed reports that it is
// empty and closed.
func (n *Notifier) nextEvent() (e mockserver.Event, ok, closed bool) {
	n.inboxMu.Lock()
	defer n.inboxMu.Unlock()
	if len(n.inboxTurns) == 0 {
		return e, false, n.inboxClosed
	}
	o := n.inboxTurns[0]
	n.inboxTurns[0] = ""
	n.inboxTurns = n.inboxTurns[1:]
	n.dispatching = o
	events := n.inbox[o]
	e = events[0]
	if len(events) == 1 {
		delete(n.inbox, o)
	} else {
		events[0] = mockserver.Event{} // so the backing array does not keep the payload alive
		n.inbox[o] = events[1:]
		n.inboxTurns = append(n.inboxTurns, o)
	}
	return e, true, false
}

// owner returns whose webhooks receive e: its tenant, or its account for events without one.
func owner(e mockserver.Event) string {
	if e.Tenant != "" {
		return e.Tenant
	}
	return e.AccountID
}

// dispatch creates the deliveries of one event. A panic on the way (in the store, or on the
// event's payload) drops the event with a log line, as when the store refuses its deliveries:
// tried again it would most likely panic again, and the events behind it must not wait.
func (n *Notifier) dispatch(e mockserver.Event) {
	defer func() {
		if p := recover(); p != nil {
			n.panicked(p, "webhook: dispatching an event panicked; it is not delivered",
				"event_type", e.Type, "tenant", owner(e), "account_id", e.AccountID, "subject", e.Subject)
		}
	}()
	var routes []string
	err := n.store.View(func(tx Tx) error {
		var err error
		routes, err = n.routes(tx, e)
		return err
	})
	if err != nil {
		n.log.Error("webhook: cannot list webhooks; event not delivered to them",
			"event_type", e.Type, "tenant", owner(e), "account_id", e.AccountID, "subject", e.Subject, "error", err)
	}
	routes = n.withStatic(e, routes)
	if len(routes) == 0 {
		return
	}
	if _, err := n.deliver(e, routes); err != nil {
		n.notDelivered(e, err)
	}
}

// notDelivered logs an event whose deliveries the store refused or could not record.
func (n *Notifier) notDelivered(e mockserver.Event, err error) {
	n.log.Warn("webhook: event not delivered",
		"event_type", e.Type, "tenant", owner(e), "account_id", e.AccountID, "subject", e.Subject, "error", err)
}

// routes lists the enabled webhooks of e's owner, read in tx, whose event types match e's; the
// static webhook is the caller's to add.
func (n *Notifier) routes(tx Tx, e mockserver.Event) ([]string, error) {
	hooks, err := tx.Webhooks(owner(e))
	if err != nil {
		return nil, err
	}
	var routes []string
	for _, w := range hooks {
		if w.Status == StatusEnabled && MatchEventType(w.EventTypes, e.Type) {
			routes = append(routes, w.WebhookID)
		}
	}
	return routes, nil
}

// withStatic adds the static webhook to routes when it takes e's type.
func (n *Notifier) withStatic(e mockserver.Event, routes []string) []string {
	if n.static != nil && MatchEventType(n.cfg.StaticEventTypes, e.Type) {
		routes = append(routes, StaticWebhookID)
	}
	return routes
}

// deliver creates, stores and queues one delivery of e per webhook and returns them in order.
// The deliveries belong to owner(e); those beyond the owner's room for pending deliveries are
// stored as FAILED at once. When the store refuses them (its quota, say), none is queued and its
// error is returned.
func (n *Notifier) deliver(e mockserver.Event, webhookIDs []string) ([]*Delivery, error) {
	ds, err := n.newDeliveries(e, webhookIDs)
	if err != nil {
		return nil, err
	}
	if err := n.admit(owner(e), ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// newDeliveries returns one new delivery of e per webhook, in order. All deliveries of one event
// share its event_id.
func (n *Notifier) newDeliveries(e mockserver.Event, webhookIDs []string) ([]*Delivery, error) {
	payload := []byte("{}")
	if e.Payload != nil {
		var err error
		if payload, err = json.Marshal(e.Payload); err != nil {
			return nil, fmt.Errorf("webhook: marshal payload of %s: %w", e.Type, err)
		}
	}
	tenant := owner(e)
	now := n.now(tenant)
	occurred := e.OccurredAt.UTC()
	if e.OccurredAt.IsZero() {
		occurred = now
	}
	eventID := uuid.NewString()
	productInstance := ""
	if n.cfg.ProductInstanceID != nil {
		productInstance = n.cfg.ProductInstanceID(e.AccountID)
	}
	ds := make([]*Delivery, len(webhookIDs))
	for i, webhookID := range webhookIDs {
		meta := EventMetadata{
			EventType:          e.Type,
			EventID:            eventID,
			EventVersion:       EventVersion,
			OccurredAt:         occurred,
			SubjectAccountID:   e.AccountID,
			RecipientAccountID: e.AccountID,
			ProductInstanceID:  productInstance,
			WebhookID:          webhookID,
			Live:               n.cfg.Live,
		}
		body, err := json.Marshal(Envelope{Metadata: meta, Payload: payload})
		if err != nil {
			return nil, fmt.Errorf("webhook: marshal envelope of %s: %w", e.Type, err)
		}
		ds[i] = newDelivery(tenant, webhookID, e.Subject, meta, body, now)
	}
	return ds, nil
}

// newDelivery returns a new PENDING delivery of the tenant to the webhook, due now.
func newDelivery(tenant, webhookID, subject string, meta EventMetadata, body []byte, now time.Time) *Delivery {
	next := now
	return &Delivery{
		AccountID:     tenant,
		DeliveryID:    DeliveryIDPrefix + uuid.NewString(),
		WebhookID:     webhookID,
		State:         DeliveryPending,
		Event:         meta,
		Subject:       subject,
		Attempts:      []Attempt{},
		NextAttemptAt: &next,
		CreatedAt:     now,
		UpdatedAt:     now,
		Body:          body,
	}
}

// admit stores and queues new PENDING deliveries of the tenant, in order. Those beyond the
// tenant's room for pending deliveries are stored as FAILED at once instead. When the store
// refuses them (its quota, say), none is queued and its error is returned.
func (n *Notifier) admit(tenant string, ds []*Delivery) (err error) {
	a := n.reserve(tenant, ds)
	// Deferred, and failed unless the store returns, so that a panic in it gives the room back.
	err = errAbandoned
	defer func() { n.settle(a, err) }()
	return n.store.Update(a.put)
}

// admission is the new deliveries of one tenant on their way into the store and the queues, with
// the room reserved for them.
type admission struct {
	t    *tenantQueues
	ds   []*Delivery
	room int
}

// reserve reserves the tenant's room for ds; what does not fit is made FAILED at once, never
// dropped silently. The reservation also keeps the tenant's queues from being dropped meanwhile;
// settle ends it.
func (n *Notifier) reserve(tenant string, ds []*Delivery) admission {
	limit := n.cfg.MaxPendingPerTenant
	n.mu.Lock()
	t := n.tenantLocked(tenant)
	room := min(len(ds), max(limit-t.pending, 0))
	t.pending += room
	n.mu.Unlock()
	for _, d := range ds[room:] {
		d.State, d.NextAttemptAt = DeliveryFailed, nil
		d.FailureReason = fmt.Sprintf("not attempted: the tenant already had %d deliveries pending, the most one tenant may have", limit)
		n.log.Warn("webhook: delivery refused, too many pending", "delivery_id", d.DeliveryID, "tenant", tenant,
			"webhook_id", d.WebhookID, "event_type", d.Event.EventType, "event_id", d.Event.EventID, "max_pending_per_tenant", limit)
	}
	return admission{t: t, ds: ds, room: room}
}

// put stores the admission's deliveries in tx.
func (a admission) put(tx Tx) error {
	// As in process: after ForgetTenant nothing may add to what the store forgets.
	if a.t.forgotten.Load() {
		return errForgotten()
	}
	for _, d := range a.ds {
		if err := tx.PutDelivery(d); err != nil {
			return err
		}
	}
	return nil
}

// settle ends the reservation once the transaction that put the deliveries ended with err:
// committed, it queues those with room; otherwise it gives the room back.
func (n *Notifier) settle(a admission, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		// A delivery that cannot be recorded is not made: nobody could see what became of it.
		a.t.pending -= a.room
		n.dropIdleLocked(a.t)
		return
	}
	for _, d := range a.ds[:a.room] {
		n.enqueueLocked(a.t, d)
	}
	for range a.ds[a.room:] {
		n.outcome(DeliveryFailed)
	}
}

// outcome tells Config.Outcome, if any, the state a delivery was left in.
func (n *Notifier) outcome(state string) {
	if n.cfg.Outcome != nil {
		n.cfg.Outcome(state)
	}
}

// process makes one attempt of the queue's head and records the outcome. The retry timer is set
// before the outcome is stored, so whoever sees the stored attempt can rely on the timer.
func (n *Notifier) process(q *queue, it *item) {
	id := it.d.DeliveryID
	defer func() {
		// tryAttempt deals with its own panics. One here, in storing the outcome (the store,
		// Config.Outcome), comes after the queue moved on: the delivery stays as the store
		// holds it, as when the store fails, and the worker goes on to the next.
		if p := recover(); p != nil {
			n.panicked(p, "webhook: storing a delivery's outcome panicked; the store keeps it as it was", "delivery_id", id)
		}
	}()
	next, ok := n.tryAttempt(q, it)
	if !ok {
		return
	}
	next.UpdatedAt = n.now(next.AccountID)
	if next.State == DeliveryFailed {
		n.log.Warn("webhook: delivery failed", "delivery_id", next.DeliveryID, "webhook_id", next.WebhookID,
			"event_type", next.Event.EventType, "event_id", next.Event.EventID, "reason", next.FailureReason)
	}
	n.advance(q, it, next)

	// Checked in the transaction: once ForgetTenant has run, the store's ForgetTenant (which runs
	// after it) may already have removed the delivery, and it must not come back.
	err := n.store.Update(func(tx Tx) error {
		if q.owner.forgotten.Load() {
			return nil
		}
		return tx.PutDelivery(next)
	})
	if err != nil {
		n.log.Error("webhook: cannot store delivery", "delivery_id", next.DeliveryID, "error", err)
		return
	}
	n.outcome(next.State)
}

// tryAttempt claims and makes the attempt of the queue's head and returns the delivery as the
// attempt leaves it; ok is false when there is nothing to record (another process makes the
// attempt, or the tenant was forgotten meanwhile). A panic on the way (in the store, the claim or
// the client's transport: a bug the delivery's data may run into again) counts as a failed
// attempt, logged with its stack: the delivery is retried on its schedule and fails after
// MaxAttempts like any other, rather than ending the process or being attempted in a tight loop.
func (n *Notifier) tryAttempt(q *queue, it *item) (next *Delivery, ok bool) {
	d := it.d
	attempts := len(d.Attempts)
	defer func() {
		if p := recover(); p != nil {
			n.panicked(p, "webhook: a delivery attempt panicked; it counts as a failed attempt",
				"delivery_id", d.DeliveryID, "tenant", d.AccountID, "webhook_id", d.WebhookID)
			next, ok = d.clone(), true
			n.failedAttempt(next, Attempt{Attempt: attempts + 1, StartedAt: n.now(d.AccountID),
				Error: fmt.Sprintf("the mock failed while making the attempt (panic: %v)", p)})
		}
	}()
	claimed, ok := n.claim(q, it)
	if !ok {
		return nil, false // another process makes this attempt, or made it
	}
	next = d.clone()
	tgt, gone, resolveErr := n.resolve(d, claimed)
	if gone {
		next.State, next.NextAttemptAt = DeliveryFailed, nil
		next.FailureReason = "the webhook was deleted"
		return next, true
	}
	att := n.attempt(tgt, d, resolveErr)
	if q.owner.forgotten.Load() {
		return nil, false // the tenant was forgotten during the attempt, its deliveries with it
	}
	if att.Error == "" {
		next.Attempts = append(next.Attempts, att)
		next.State, next.NextAttemptAt = DeliveryDelivered, nil
		return next, true
	}
	n.failedAttempt(next, att)
	return next, true
}

// failedAttempt adds the failed attempt att to next and schedules next's retry, or fails it when
// it gets no more attempts.
func (n *Notifier) failedAttempt(next *Delivery, att Attempt) {
	next.Attempts = append(next.Attempts, att)
	switch {
	case forged(next.Variant):
		next.State, next.NextAttemptAt = DeliveryFailed, nil
		next.FailureReason = fmt.Sprintf("not accepted, and a forged (%s) delivery gets one attempt: %s", next.Variant, att.Error)
	case len(next.Attempts) >= MaxAttempts:
		next.State, next.NextAttemptAt = DeliveryFailed, nil
		next.FailureReason = fmt.Sprintf("no successful answer in %d attempts", MaxAttempts)
	default:
		due := n.now(next.AccountID).Add(retryDelays[len(next.Attempts)-1])
		next.NextAttemptAt = &due
	}
	n.log.Info("webhook: delivery attempt failed", "delivery_id", next.DeliveryID, "webhook_id", next.WebhookID,
		"event_type", next.Event.EventType, "attempt", att.Attempt, "status", att.StatusCode, "error", att.Error,
		"next_attempt_at", next.NextAttemptAt)
}

// advance moves the queue past the attempt of its head, which leaves the delivery as next: a
// pending one waits for its retry, a finished one leaves the queue.
func (n *Notifier) advance(q *queue, it *item, next *Delivery) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if next.State != DeliveryPending {
		q.items[0] = nil
		q.items = q.items[1:]
		q.hurry = false
		q.owner.pending--
		q.due = len(q.items) > 0
		return
	}
	it.d = next
	switch {
	case n.closing, q.owner.forgotten.Load():
	case q.hurry:
		q.hurry, q.due = false, true
	default:
		var t *clock.Timer
		t = n.clock.Tenant(next.AccountID).At(*next.NextAttemptAt, func() { n.retryDue(q, &t) })
		q.timer = t
	}
}

// panicked logs, at error level with its stack, a panic of the Notifier's own background work
// that the caller recovered from: a bug of the mock's, which one tenant's data may have run into,
// ends the piece of work it hit, not every tenant's sandbox.
func (n *Notifier) panicked(p any, msg string, args ...any) {
	n.log.Error(msg, append(args, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))...)
}

// resolve finds where d goes now: the webhook's current url and signing key, as the claim read
// them when there is one, else from the store. gone reports a deleted webhook; err a failure that
// counts as a failed attempt (a missing signing key).
func (n *Notifier) resolve(d *Delivery, claimed *Claimed) (tgt target, gone bool, err error) {
	if d.WebhookID == StaticWebhookID && n.static != nil {
		return *n.static, false, nil
	}
	if claimed != nil {
		return targetOf(claimed.Webhook, func(id string) (*SigningKey, error) {
			for _, k := range claimed.Keys {
				if k.SigningKeyID == id {
					return k, nil
				}
			}
			return nil, mockserver.ErrNotFound
		})
	}
	err = n.store.View(func(tx Tx) error {
		w, err := tx.Webhook(d.AccountID, d.WebhookID)
		if errors.Is(err, mockserver.ErrNotFound) {
			gone = true
			return nil
		}
		if err != nil {
			return err
		}
		tgt, gone, err = targetOf(w, func(id string) (*SigningKey, error) { return tx.SigningKey(d.AccountID, id) })
		return err
	})
	return tgt, gone, err
}

// targetOf is where a delivery to the webhook w goes (gone when w is nil: deleted), with the
// signing key that key finds.
func targetOf(w *Webhook, key func(id string) (*SigningKey, error)) (tgt target, gone bool, err error) {
	if w == nil {
		return tgt, true, nil
	}
	tgt.url, tgt.keyID = w.URL, w.SigningKeyID
	k, err := key(w.SigningKeyID)
	if err != nil {
		return tgt, false, fmt.Errorf("signing key %s: %w", w.SigningKeyID, err)
	}
	tgt.secret = []byte(k.Secret)
	return tgt, false, nil
}

// signature is the Klarna-Signature d is sent with: the body's under the target's key or, for
// VariantBadSignature, one under another key, well-formed but not verifying.
func signature(tgt target, d *Delivery) string {
	if d.Variant == VariantBadSignature {
		return Sign([]byte("not the signing key of "+tgt.keyID), d.Body)
	}
	return Sign(tgt.secret, d.Body)
}

// success reports whether a status counts as delivered (docs/klarna.md §8).
func success(status int) bool {
	switch status {
	case http.StatusOK, http.StatusCreated, http.StatusAccepted, http.StatusNoContent:
		return true
	}
	return false
}

// attempt posts d's body once and reports how it went.
func (n *Notifier) attempt(tgt target, d *Delivery, resolveErr error) Attempt {
	att := Attempt{Attempt: len(d.Attempts) + 1, StartedAt: n.now(d.AccountID), URL: tgt.url}
	if resolveErr != nil {
		att.Error = resolveErr.Error()
		return att
	}
	started := time.Now()
	timeout := n.cfg.AttemptTimeout
	errTimeout := fmt.Errorf("no answer within %s", timeout)
	// The timeout runs in real time only: an attempt is real network I/O, and moving the mock's
	// clock (to expire a request, say) must not cut off a delivery that is under way.
	ctx, cancelTimeout := context.WithTimeoutCause(n.runCtx, timeout, errTimeout)
	defer cancelTimeout()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, tgt.url, bytes.NewReader(d.Body))
	if err != nil {
		att.Error = err.Error()
		return att
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "klarna-mock-webhooks/1")
	req.Header.Set(HeaderSigningKeyID, tgt.keyID)
	req.Header.Set(HeaderSignature, signature(tgt, d))

	resp, err := n.client.Do(req)
	if err != nil {
		att.LatencyMS = time.Since(started).Milliseconds()
		var refused *refusedError
		switch cause := context.Cause(ctx); {
		case errors.As(err, &refused):
			att.Error = refused.Error()
		case cause != nil:
			att.Error = cause.Error()
		default:
			att.Error = err.Error()
		}
		return att
	}
	// One byte more than the excerpt holds tells whether the answer went on; the rest is never
	// read.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseExcerpt+1))
	_ = resp.Body.Close()
	att.LatencyMS = time.Since(started).Milliseconds()
	att.StatusCode = resp.StatusCode
	att.ResponseExcerpt, att.ResponseTruncated = excerpt(head)
	if !success(resp.StatusCode) {
		att.Error = fmt.Sprintf("the receiver answered %d; only 200, 201, 202 and 204 count as delivered", resp.StatusCode)
	}
	return att
}

// excerpt returns at most MaxResponseExcerpt bytes of the start of an answer as valid UTF-8, cut
// at a character boundary, and whether anything was cut off.
func excerpt(head []byte) (string, bool) {
	s := strings.ToValidUTF8(string(head), "\uFFFD")
	if len(head) <= MaxResponseExcerpt && len(s) <= MaxResponseExcerpt {
		return s, false
	}
	cut := min(len(s), MaxResponseExcerpt)
	for cut < len(s) && cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut], true
}

// Close stops the Notifier: it accepts no more events, starts no new attempt and cancels retry
// timers, then waits for the attempts in flight. If ctx ends first, those attempts are canceled
// (and waited for, which is prompt) and the returned error wraps the context's cause. Close
// returns every delivery that was not delivered — queued, waiting for a retry, or interrupted —
// in creation order, and logs each at warn level; they stay PENDING in the store. Calling Close
// again returns an error.
func (n *Notifier) Close(ctx context.Context) ([]*Delivery, error) {
	n.mu.Lock()
	if n.closing {
		n.mu.Unlock()
		return nil, errors.New("webhook: notifier already closed")
	}
	n.closing = true
	for _, t := range n.tenants {
		for _, q := range t.queues {
			if q.timer != nil {
				q.timer.Stop()
				q.timer = nil
			}
			q.inReady = false
		}
		t.ready, t.inRing = nil, false
	}
	n.ring = nil
	n.cond.Broadcast()
	n.mu.Unlock()
	n.inboxMu.Lock()
	n.inboxClosed = true
	n.inboxMu.Unlock()
	n.signalInbox()

	done := make(chan struct{})
	go func() {
		n.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("webhook: close: in-flight attempts interrupted: %w", context.Cause(ctx))
		n.abort(errClosing)
		<-done
	}
	n.abort(errClosing)
	if n.ownClock {
		n.clock.Close()
	}

	n.mu.Lock()
	var items []*item
	for _, t := range n.tenants {
		for _, q := range t.queues {
			items = append(items, q.items...)
		}
	}
	n.mu.Unlock()
	slices.SortFunc(items, func(a, b *item) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]*Delivery, len(items))
	for i, it := range items {
		d := it.d.clone()
		out[i] = d
		lastErr := ""
		if len(d.Attempts) > 0 {
			lastErr = d.Attempts[len(d.Attempts)-1].Error
		}
		n.log.Warn("webhook: delivery not delivered at shutdown", "delivery_id", d.DeliveryID,
			"account_id", d.AccountID, "webhook_id", d.WebhookID, "event_type", d.Event.EventType,
			"event_id", d.Event.EventID, "subject", d.Subject, "attempts", len(d.Attempts),
			"last_error", lastErr, "next_attempt_at", d.NextAttemptAt)
	}
	if len(out) > 0 {
		n.log.Warn("webhook: undelivered deliveries at shutdown", "count", len(out))
	}
	return out, err
}
