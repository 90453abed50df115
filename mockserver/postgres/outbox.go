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

// Emit writes the event into the outbox in the transaction of its change, under the tenant's
// lock, so that the tenant's events are numbered in the order of its changes. The row goes to the
// server with the transaction's next statement or its commit.
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
	return dbError(t.c.hold(`INSERT INTO outbox (tenant, body) VALUES ($1, $2)`, owner, body))
}

// Outbox returns the store's outbox, which the notifier of every mock on the database takes its
// events from.
func (s *Store) Outbox() webhook.Outbox { return outbox{s: s} }

type outbox struct{ s *Store }

// Take takes the oldest event under a lock that every process on the database takes to take
// one, so that the events go in the order of their rows, one at a time. The row is then locked
// (FOR UPDATE) under its tenant's lock, in the order a tenant's deletion takes them, and read
// again: a tenant deleted meanwhile took its events along, and the caller looks again. fn's
// deliveries and the row's removal commit together; an event fn's store refuses is removed on
// its own.
func (o outbox) Take(fn func(webhook.Tx, mockserver.Event) error) (bool, error) {
	var seq int64
	taken := false
	var refused error
	err := o.s.run(true, func(t *tx) error {
		if err := t.c.hold(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, t.s.lockspace+"\noutbox"); err != nil {
			return dbError(err)
		}
		var owner string
		err := t.c.queryRow(`SELECT seq, tenant FROM outbox ORDER BY seq LIMIT 1`).Scan(&seq, &owner)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbError(err)
		}
		taken = true
		if _, err := t.lock(owner); err != nil {
			return err
		}
		var body []byte
		err = t.c.queryRow(`SELECT body FROM outbox WHERE seq = $1 FOR UPDATE`, seq).Scan(&body)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbError(err)
		}
		var w outboxEvent
		if err := msgpack.Unmarshal(body, &w); err != nil {
			return fmt.Errorf("postgres: decoding an event of the outbox: %w", err)
		}
		e := mockserver.Event{Type: w.Type, Tenant: w.Tenant, AccountID: w.AccountID, Subject: w.Subject, OccurredAt: w.OccurredAt.UTC()}
		if w.Payload != nil {
			e.Payload = json.RawMessage(w.Payload)
		}
		if err := fn(notificationTx{t: t}, e); err != nil {
			if webhook.Refused(err) {
				refused = err
			}
			return err
		}
		return dbError(t.c.exec(`DELETE FROM outbox WHERE seq = $1`, seq))
	})
	if refused != nil {
		// Another process may have taken the event since the rollback, and deleted it.
		if err := o.s.run(true, func(t *tx) error {
			return dbError(t.c.exec(`DELETE FROM outbox WHERE seq = $1`, seq))
		}); err != nil {
			return true, err
		}
	}
	return taken, err
}
