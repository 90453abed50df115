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
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// errClosing is the error of an attempt interrupted by Close.
var errClosing = errors.New("interrupted: the notifier was closed")

// queueKey names one FIFO: the deliveries of one subject to one webhook of one account.
type queueKey struct{ account, webhook, subject string }

// item is a queued delivery; d is replaced (under Notifier.mu) as the delivery changes.
type item struct {
	seq uint64
	d   *Delivery
}

// queue is one FIFO. Only its head is ever attempted.
type queue struct {
	key     queueKey
	items   []*item
	running bool // a worker owns the head: attempting it or storing the outcome
	due     bool // the head wants an attempt as soon as no worker owns it
	inReady bool
	timer   *clock.Timer // the head's retry, if it waits for one
	// hurry asks the worker that owns the head to retry at once rather than on schedule: the
	// webhook was deleted during the attempt.
	hurry bool
}

// target is where and how a delivery is sent.
type target struct {
	url    string
	keyID  string
	secret []byte
}

// Publish queues the event for every matching webhook. It never blocks on delivery and does no
// I/O: the event is appended to an in-memory inbox that the dispatcher works off in order. Events
// published after Close are logged at warn level and dropped. While no webhook is registered and
// none is configured at start, there is nobody to tell and Publish returns at once.
func (n *Notifier) Publish(e mockserver.Event) {
	if n.static == nil && n.webhooks.Load() == 0 {
		return
	}
	n.inboxMu.Lock()
	if n.inboxClosed {
		n.inboxMu.Unlock()
		n.log.Warn("webhook: event published after Close is not delivered",
			"event_type", e.Type, "tenant", e.Tenant, "account_id", e.AccountID, "subject", e.Subject)
		return
	}
	n.inbox = append(n.inbox, e)
	n.undispatched[owner(e)]++
	n.inboxMu.Unlock()
	select {
	case n.inboxSignal <- struct{}{}:
	default:
	}
}

// dispatchLoop turns published events into queued deliveries, in publication order.
func (n *Notifier) dispatchLoop() {
	defer n.wg.Done()
	for {
		<-n.inboxSignal
		n.inboxMu.Lock()
		batch, closed := n.inbox, n.inboxClosed
		n.inbox = nil
		n.inboxMu.Unlock()
		for _, e := range batch {
			n.dispatch(e)
		}
		// Only now, with the batch's deliveries queued, do its events stop counting for Due.
		n.inboxMu.Lock()
		for _, e := range batch {
			o := owner(e)
			n.undispatched[o]--
			if n.undispatched[o] == 0 {
				delete(n.undispatched, o)
			}
		}
		n.inboxMu.Unlock()
		if closed {
			return // Publish refuses events once the inbox is closed: it stays empty
		}
	}
}

// owner returns whose webhooks receive e: its tenant, or its account for events without one.
func owner(e mockserver.Event) string {
	if e.Tenant != "" {
		return e.Tenant
	}
	return e.AccountID
}

// dispatch creates the deliveries of one event.
func (n *Notifier) dispatch(e mockserver.Event) {
	var routes []string
	err := n.store.View(func(tx Tx) error {
		hooks, err := tx.Webhooks(owner(e))
		if err != nil {
			return err
		}
		for _, w := range hooks {
			if w.Status == StatusEnabled && MatchEventType(w.EventTypes, e.Type) {
				routes = append(routes, w.WebhookID)
			}
		}
		return nil
	})
	if err != nil {
		n.log.Error("webhook: cannot list webhooks; event not delivered to them",
			"event_type", e.Type, "tenant", owner(e), "account_id", e.AccountID, "subject", e.Subject, "error", err)
	}
	if n.static != nil && MatchEventType(n.cfg.StaticEventTypes, e.Type) {
		routes = append(routes, StaticWebhookID)
	}
	if len(routes) == 0 {
		return
	}
	if _, err := n.deliver(e, routes); err != nil {
		n.log.Error("webhook: event not delivered",
			"event_type", e.Type, "account_id", e.AccountID, "subject", e.Subject, "error", err)
	}
}

// deliver creates, stores and queues one delivery of e per webhook and returns them in order.
// All deliveries of one event share its event_id. The deliveries belong to owner(e).
func (n *Notifier) deliver(e mockserver.Event, webhookIDs []string) ([]*Delivery, error) {
	payload := []byte("{}")
	if e.Payload != nil {
		var err error
		if payload, err = json.Marshal(e.Payload); err != nil {
			return nil, fmt.Errorf("webhook: marshal payload of %s: %w", e.Type, err)
		}
	}
	now := n.clock.Now()
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
		next := now
		ds[i] = &Delivery{
			AccountID:     owner(e),
			DeliveryID:    DeliveryIDPrefix + uuid.NewString(),
			WebhookID:     webhookID,
			State:         DeliveryPending,
			Event:         meta,
			Subject:       e.Subject,
			Attempts:      []Attempt{},
			NextAttemptAt: &next,
			CreatedAt:     now,
			UpdatedAt:     now,
			Body:          body,
		}
	}

	// Reserve room; what does not fit is recorded as FAILED at once, never dropped silently.
	accepted := make([]bool, len(ds))
	n.mu.Lock()
	for i := range ds {
		if n.pending < n.cfg.MaxPending {
			n.pending++
			accepted[i] = true
		}
	}
	n.mu.Unlock()
	for i, ok := range accepted {
		if !ok {
			d := ds[i]
			d.State, d.NextAttemptAt = DeliveryFailed, nil
			d.FailureReason = fmt.Sprintf("more than %d deliveries were pending", n.cfg.MaxPending)
			n.log.Warn("webhook: delivery refused, too many pending", "delivery_id", d.DeliveryID,
				"webhook_id", d.WebhookID, "event_type", e.Type, "event_id", eventID, "max_pending", n.cfg.MaxPending)
		}
	}
	if err := n.store.Update(func(tx Tx) error {
		for _, d := range ds {
			if err := tx.PutDelivery(d); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		n.log.Error("webhook: cannot store deliveries; delivering anyway", "event_type", e.Type, "event_id", eventID, "error", err)
	}
	n.mu.Lock()
	for i, d := range ds {
		if accepted[i] {
			n.enqueueLocked(d)
		}
	}
	n.mu.Unlock()
	return ds, nil
}

// enqueueLocked appends d to its FIFO; n.mu is held.
func (n *Notifier) enqueueLocked(d *Delivery) {
	key := queueKey{account: d.AccountID, webhook: d.WebhookID, subject: d.Subject}
	q := n.queues[key]
	if q == nil {
		q = &queue{key: key}
		n.queues[key] = q
	}
	n.seq++
	q.items = append(q.items, &item{seq: n.seq, d: d})
	if len(q.items) == 1 {
		q.due = true
		n.pushReadyLocked(q)
	}
}

// pushReadyLocked hands q to a worker if its head is due and nobody owns it; n.mu is held.
func (n *Notifier) pushReadyLocked(q *queue) {
	if !q.due || q.running || q.inReady || n.closing || len(q.items) == 0 {
		return
	}
	q.inReady = true
	n.ready = append(n.ready, q)
	n.cond.Signal()
}

// retryDue runs on the clock when a head's retry falls due. t points at the variable the timer
// was stored in; it is read under n.mu, after the scheduling code (which holds n.mu) set it.
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
	for key, q := range n.queues {
		if key.account != accountID || key.webhook != webhookID {
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
	// Now is the mock's clock when the report was made.
	Now time.Time `json:"now"`
	// Count is how many deliveries are due: len(DeliveryIDs).
	Count int `json:"count"`
	// DeliveryIDs are the due deliveries, oldest first. Per FIFO (one webhook, one subject) only
	// the oldest pending delivery can be due: when it is queued for an attempt, being attempted,
	// or waiting for a retry whose time has come. The deliveries behind it wait for it.
	DeliveryIDs []string `json:"delivery_ids"`
	// EventsPending counts the account's events published and not yet turned into deliveries.
	EventsPending int `json:"events_pending"`
}

// Due reports the account's deliveries that are due now on the mock's clock and its events not
// yet turned into deliveries; once both are zero, nothing more happens to the account's webhooks
// until the clock moves or a new event comes. After Close nothing is due: no attempt is made.
func (n *Notifier) Due(accountID string) DueReport {
	// The events are counted first: an event stops counting only after its deliveries are
	// queued, so reading the queues afterwards may count it twice but never misses it.
	n.inboxMu.Lock()
	events := n.undispatched[accountID]
	n.inboxMu.Unlock()

	n.mu.Lock()
	defer n.mu.Unlock()
	r := DueReport{Now: n.clock.Now(), DeliveryIDs: []string{}}
	if n.closing {
		return r
	}
	var heads []*item
	for key, q := range n.queues {
		if key.account == accountID && q.headDue(r.Now) {
			heads = append(heads, q.items[0])
		}
	}
	slices.SortFunc(heads, func(a, b *item) int { return cmp.Compare(a.seq, b.seq) })
	for _, it := range heads {
		r.DeliveryIDs = append(r.DeliveryIDs, it.d.DeliveryID)
	}
	r.Count, r.EventsPending = len(r.DeliveryIDs), events
	return r
}

// headDue reports whether q's head is being attempted, waits for a worker, or waits for a retry
// due at or before now (its timer fires as the clock gets there); Notifier.mu is held.
func (q *queue) headDue(now time.Time) bool {
	if len(q.items) == 0 {
		return false
	}
	if q.running || q.due || q.inReady {
		return true
	}
	next := q.items[0].d.NextAttemptAt
	return next != nil && !next.After(now)
}

// worker attempts the heads of ready queues until Close.
func (n *Notifier) worker() {
	defer n.wg.Done()
	n.mu.Lock()
	for {
		for len(n.ready) == 0 && !n.closing {
			n.cond.Wait()
		}
		if n.closing {
			n.mu.Unlock()
			return
		}
		q := n.ready[0]
		n.ready[0] = nil
		n.ready = n.ready[1:]
		q.inReady, q.running, q.due = false, true, false
		head := q.items[0]
		n.mu.Unlock()

		n.process(q, head)

		n.mu.Lock()
		q.running = false
		if len(q.items) == 0 {
			if n.queues[q.key] == q {
				delete(n.queues, q.key)
			}
		} else {
			n.pushReadyLocked(q)
		}
	}
}

// process makes one attempt of the queue's head and records the outcome. The retry timer is set
// before the outcome is stored, so whoever sees the stored attempt can rely on the timer.
func (n *Notifier) process(q *queue, it *item) {
	d := it.d
	next := d.clone()
	tgt, gone, resolveErr := n.resolve(d)
	if gone {
		next.State, next.NextAttemptAt = DeliveryFailed, nil
		next.FailureReason = "the webhook was deleted"
	} else {
		att := n.attempt(tgt, d, resolveErr)
		next.Attempts = append(next.Attempts, att)
		now := n.clock.Now()
		switch {
		case att.Error == "":
			next.State, next.NextAttemptAt = DeliveryDelivered, nil
		case len(next.Attempts) >= MaxAttempts:
			next.State, next.NextAttemptAt = DeliveryFailed, nil
			next.FailureReason = fmt.Sprintf("no successful answer in %d attempts", MaxAttempts)
		default:
			due := now.Add(retryDelays[len(next.Attempts)-1])
			next.NextAttemptAt = &due
		}
		if att.Error != "" {
			n.log.Info("webhook: delivery attempt failed", "delivery_id", d.DeliveryID, "webhook_id", d.WebhookID,
				"event_type", d.Event.EventType, "attempt", att.Attempt, "status", att.StatusCode, "error", att.Error,
				"next_attempt_at", next.NextAttemptAt)
		}
	}
	next.UpdatedAt = n.clock.Now()
	if next.State == DeliveryFailed {
		n.log.Warn("webhook: delivery failed", "delivery_id", d.DeliveryID, "webhook_id", d.WebhookID,
			"event_type", d.Event.EventType, "event_id", d.Event.EventID, "reason", next.FailureReason)
	}

	n.mu.Lock()
	if next.State == DeliveryPending {
		it.d = next
		switch {
		case n.closing:
		case q.hurry:
			q.hurry, q.due = false, true
		default:
			var t *clock.Timer
			t = n.clock.At(*next.NextAttemptAt, func() { n.retryDue(q, &t) })
			q.timer = t
		}
	} else {
		q.items[0] = nil
		q.items = q.items[1:]
		q.hurry = false
		n.pending--
		q.due = len(q.items) > 0
	}
	n.mu.Unlock()

	if err := n.store.Update(func(tx Tx) error { return tx.PutDelivery(next) }); err != nil {
		n.log.Error("webhook: cannot store delivery", "delivery_id", next.DeliveryID, "error", err)
	}
}

// resolve finds where d goes now: the webhook's current url and signing key. gone reports a
// deleted webhook; err a failure that counts as a failed attempt (a missing signing key).
func (n *Notifier) resolve(d *Delivery) (tgt target, gone bool, err error) {
	if d.WebhookID == StaticWebhookID && n.static != nil {
		return *n.static, false, nil
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
		tgt.url, tgt.keyID = w.URL, w.SigningKeyID
		k, err := tx.SigningKey(d.AccountID, w.SigningKeyID)
		if err != nil {
			return fmt.Errorf("signing key %s: %w", w.SigningKeyID, err)
		}
		tgt.secret = []byte(k.Secret)
		return nil
	})
	return tgt, gone, err
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
	att := Attempt{Attempt: len(d.Attempts) + 1, StartedAt: n.clock.Now(), URL: tgt.url}
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
	req.Header.Set(HeaderSignature, Sign(tgt.secret, d.Body))

	resp, err := n.client.Do(req)
	if err != nil {
		att.LatencyMS = time.Since(started).Milliseconds()
		if cause := context.Cause(ctx); cause != nil {
			att.Error = cause.Error()
		} else {
			att.Error = err.Error()
		}
		return att
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	att.LatencyMS = time.Since(started).Milliseconds()
	att.StatusCode = resp.StatusCode
	if !success(resp.StatusCode) {
		att.Error = fmt.Sprintf("the receiver answered %d; only 200, 201, 202 and 204 count as delivered", resp.StatusCode)
		if s := strings.TrimSpace(strings.ToValidUTF8(string(head), "")); s != "" {
			att.Error += ": " + s
		}
	}
	return att
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
	for _, q := range n.queues {
		if q.timer != nil {
			q.timer.Stop()
			q.timer = nil
		}
		q.inReady = false
	}
	n.ready = nil
	n.cond.Broadcast()
	n.mu.Unlock()
	n.inboxMu.Lock()
	n.inboxClosed = true
	n.inboxMu.Unlock()
	select {
	case n.inboxSignal <- struct{}{}:
	default:
	}

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
	for _, q := range n.queues {
		items = append(items, q.items...)
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
