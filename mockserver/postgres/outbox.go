package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// outboxEvent is a mockserver.Event as the outbox stores it: the payload as the JSON its
// deliveries carry, since the payload's type (a Payment Request, a transaction, a token) is not
// kept.
type outboxEvent struct {
	Type, Tenant, AccountID, Subject string
	OccurredAt                       time.Time
	Payload                          []byte
}

// eventOwner is whose webhooks receive e, and the tenant whose lock its row is written under:
// its tenant, or its account for events without one (as the webhook package routes them).
func eventOwner(e mockserver.Event) string {
	if e.Tenant != "" {
		return e.Tenant
	}
	return e.AccountID
}

// emission counts the events a transaction recorded in the outbox for one owner.
type emission struct {
	owner string
	rows  int64
}

// outboxWatch is what the notifier asked of the outbox (Outbox.Notify).
type outboxWatch struct {
	all  bool
	wake func(owner string, events int)
}

// emitSQL records an event unless nobody may receive it: with $3 false, only when its owner has a
// webhook. It runs under the owner's lock, which a webhook's registration takes too, so it sees
// every registration committed before the change took the lock, and a registration committed
// later waits for the change's commit.
const emitSQL = `
INSERT INTO outbox (tenant, body) SELECT $1, $2
WHERE $3 OR EXISTS (SELECT 1 FROM objects WHERE kind = $4 AND account = $1 AND ` + notificationKinds + `)`

// Emit writes the event into the outbox in the transaction of its change, under the tenant's
// lock, so that the tenant's events are numbered in the order of its changes; when the notifier
// asked for the events of owners with webhooks only (Outbox.Notify), an event of an owner without
// one is not written. The row goes to the server with the transaction's next statement or its
// commit, and the notifier is woken once the commit wrote one.
func (t *tx) Emit(e mockserver.Event) error {
	if !t.write {
		return errReadOnly
	}
	owner := eventOwner(e)
	if _, err := t.lock(owner); err != nil {
		return err
	}
	w := outboxEvent{Type: e.Type, Tenant: e.Tenant, AccountID: e.AccountID, Subject: e.Subject, OccurredAt: e.OccurredAt}
	if e.Payload != nil {
		var err error
		if w.Payload, err = json.Marshal(e.Payload); err != nil {
			return fmt.Errorf("postgres: marshal payload of %s: %w", e.Type, err)
		}
	}
	body, err := msgpack.Marshal(w)
	if err != nil {
		return fmt.Errorf("postgres: encoding an event: %w", err)
	}
	all := true
	if watch := t.s.watch.Load(); watch != nil {
		all = watch.all
	}
	return dbError(t.c.holdCounting(&t.emission(owner).rows, emitSQL, owner, body, all, kindWebhook.name))
}

// emission returns the count of the owner's events the transaction recorded.
func (t *tx) emission(owner string) *emission {
	for _, e := range t.emitted {
		if e.owner == owner {
			return e
		}
	}
	e := &emission{owner: owner}
	t.emitted = append(t.emitted, e)
	return e
}

// woke tells the notifier, once the transaction committed, of the events it recorded.
func (t *tx) woke() {
	watch := t.s.watch.Load()
	if watch == nil {
		return
	}
	for _, e := range t.emitted {
		if e.rows > 0 {
			watch.wake(e.owner, int(e.rows))
		}
	}
}

// Outbox returns the store's outbox, which the notifier of every mock on the database takes its
// events from.
func (s *Store) Outbox() webhook.Outbox { return outbox{s: s} }

type outbox struct{ s *Store }

// Notify records what the notifier asks for; see webhook.Outbox.
func (o outbox) Notify(all bool, wake func(owner string, events int)) {
	o.s.watch.Store(&outboxWatch{all: all, wake: wake})
}

// pickSQL picks the owner whose events to take: of the owners of the oldest events, the first
// whose lock it can take at once (so that takers on several processes work on different owners
// side by side), else the owner of the oldest event, locked false for the caller to wait for.
const pickSQL = `
WITH oldest AS (SELECT tenant FROM outbox ORDER BY seq LIMIT 16)
SELECT tenant, true FROM oldest WHERE pg_try_advisory_xact_lock(hashtextextended($1 || '/' || tenant, 0))
UNION ALL (SELECT tenant, false FROM oldest LIMIT 1)
LIMIT 1`

// waitingSQL reads, under the owner's lock, its oldest events (part 0) and its webhooks (part 1),
// each in the order of their rows.
const waitingSQL = `
SELECT 0, seq, body FROM (SELECT seq, body FROM outbox WHERE tenant = $1 ORDER BY seq LIMIT $2) e
UNION ALL
SELECT 1, seq, body FROM objects WHERE kind = $3 AND account = $1 AND ` + notificationKinds + `
ORDER BY 1, 2`

// Take takes the oldest events of one owner under the owner's lock, the lock a tenant's writes
// and its deletion take: the events read after it are all those the owner's committed changes
// left, in the order of their changes, and no other process takes them until the transaction
// ends. The owner's webhooks, read with them, serve every event of the batch. fn's deliveries and
// the rows' removal commit together; a single event the store refuses is removed on its own.
func (o outbox) Take(limit int, fn func(webhook.Tx, mockserver.Event) error) (bool, error) {
	var owner string
	var seqs []int64
	found := false
	err := o.s.run(true, func(t *tx) error {
		var locked bool
		err := t.c.queryRow(pickSQL, t.s.lockspace).Scan(&owner, &locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbError(err)
		}
		found = true
		if locked {
			t.locked = append(t.locked, owner)
		} else if _, err := t.lock(owner); err != nil {
			return err
		}
		var events []mockserver.Event
		var hooks []*webhook.Webhook
		if seqs, events, hooks, err = t.waiting(owner, limit); err != nil || len(events) == 0 {
			return err
		}
		taker := takenTx{notificationTx: notificationTx{t: t}, owner: owner, hooks: hooks}
		for _, e := range events {
			if err := fn(taker, e); err != nil {
				return err
			}
		}
		return dbError(t.c.hold(`DELETE FROM outbox WHERE seq = ANY($1)`, seqs))
	})
	if webhook.Refused(err) && len(seqs) == 1 {
		// Another process may have taken the event since the rollback, and deleted it.
		if err := o.s.run(true, func(t *tx) error {
			if _, err := t.lock(owner); err != nil {
				return err
			}
			return dbError(t.c.exec(`DELETE FROM outbox WHERE seq = $1`, seqs[0]))
		}); err != nil {
			return true, err
		}
	}
	return found, err
}

// waiting reads the owner's oldest events, at most limit, and its webhooks; the caller holds the
// owner's lock.
func (t *tx) waiting(owner string, limit int) ([]int64, []mockserver.Event, []*webhook.Webhook, error) {
	rows, err := t.c.query(waitingSQL, owner, max(limit, 1), kindWebhook.name)
	if err != nil {
		return nil, nil, nil, dbError(err)
	}
	defer rows.Close()
	var seqs []int64
	var events []mockserver.Event
	var hooks []*webhook.Webhook
	for rows.Next() {
		var part int
		var seq int64
		var body []byte
		if err := rows.Scan(&part, &seq, &body); err != nil {
			return nil, nil, nil, dbError(err)
		}
		if part == 1 {
			w, err := decode[webhook.Webhook](body)
			if err != nil {
				return nil, nil, nil, err
			}
			hooks = append(hooks, w)
			continue
		}
		e, err := decodeEvent(body)
		if err != nil {
			return nil, nil, nil, err
		}
		seqs, events = append(seqs, seq), append(events, e)
	}
	return seqs, events, hooks, dbError(rows.Err())
}

// decodeEvent reads an event as Emit wrote it.
func decodeEvent(body []byte) (mockserver.Event, error) {
	var w outboxEvent
	if err := msgpack.Unmarshal(body, &w); err != nil {
		return mockserver.Event{}, fmt.Errorf("postgres: decoding an event of the outbox: %w", err)
	}
	e := mockserver.Event{Type: w.Type, Tenant: w.Tenant, AccountID: w.AccountID, Subject: w.Subject, OccurredAt: w.OccurredAt.UTC()}
	if w.Payload != nil {
		e.Payload = json.RawMessage(w.Payload)
	}
	return e, nil
}

// takenTx is the transaction of a Take: the owner's webhooks are those read with its events,
// which its lock keeps as they are until the transaction ends.
type takenTx struct {
	notificationTx
	owner string
	hooks []*webhook.Webhook
}

func (w takenTx) Webhooks(accountID string) ([]*webhook.Webhook, error) {
	if accountID == w.owner {
		return w.hooks, nil
	}
	return w.notificationTx.Webhooks(accountID)
}
