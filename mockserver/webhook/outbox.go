package webhook

import (
	"errors"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// Outbox is a store's durable outbox of events (PostgreSQL's): the simulator's changes record
// their events in it in their own transactions (mockserver.Tx.Emit), and the notifier of any
// process on the store turns them into deliveries (Notifier.DrainOutbox).
type Outbox interface {
	// Take runs fn in one write transaction with the oldest event waiting, and removes the event
	// in that transaction when fn returns nil: what fn stores and the event's removal commit
	// together, so each event becomes its deliveries once, however many processes take from
	// the outbox. Takes are serialized across the processes, so the events of one tenant are
	// taken in the order of their changes. ok is false when no event was waiting (true, without
	// fn called, for one removed meanwhile with its tenant). When fn's
	// error is a refusal (Refused), the event is removed anyway, in a transaction of its own: an
	// event whose deliveries the store refuses is not delivered, as without an outbox.
	Take(fn func(tx Tx, e mockserver.Event) error) (ok bool, err error)
}

// Refused reports whether err is the store refusing what was asked of it (a Klarna-shaped error
// below 500, such as its quota's 429, or a tenant reset meanwhile), which a retry would meet
// again, rather than the store failing (a 503 while the database is away).
func Refused(err error) bool {
	var e *mockserver.Error
	return errors.As(err, &e) && e.Status < 500
}

// DrainOutbox turns the events waiting in the outbox (Config.Outbox) into deliveries, oldest
// first, until none waits: each event's deliveries are stored, and the event removed, in one
// transaction, then queued. It stops at a failure of the store, which it logs; the events left
// wait for the next drain. Each mock on a database drains after its own changes and now and
// then (for those of a mock that died between a change and its drain). Without an outbox it
// does nothing.
func (n *Notifier) DrainOutbox() {
	if n.cfg.Outbox == nil {
		return
	}
	for {
		var a admission
		var taken mockserver.Event
		ok, err := n.cfg.Outbox.Take(func(tx Tx, e mockserver.Event) error {
			taken, a = e, admission{}
			routes, err := n.routes(tx, e)
			if err != nil {
				return err
			}
			if routes = n.withStatic(e, routes); len(routes) == 0 {
				return nil
			}
			ds, err := n.newDeliveries(e, routes)
			if err != nil {
				return err
			}
			a = n.reserve(owner(e), ds)
			return a.put(tx)
		})
		if a.t != nil {
			n.settle(a, err)
		}
		switch {
		case Refused(err):
			n.notDelivered(taken, err)
		case err != nil:
			n.log.Error("webhook: cannot take events from the outbox; they wait for the next look", "error", err)
			return
		case !ok:
			return
		}
	}
}
