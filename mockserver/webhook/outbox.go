package webhook

import (
	"errors"
	"maps"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// Outbox is a store's durable outbox of events (PostgreSQL's): the simulator's changes record
// their events in it in their own transactions (mockserver.Tx.Emit), and the notifier of any
// process on the store turns them into deliveries (Notifier.DrainOutbox).
type Outbox interface {
	// Take runs fn, in one write transaction, for each of the oldest events waiting of one
	// owner, at most max, in the order of their changes, and removes them in that transaction
	// when fn returns nil for every one: what fn stores and the events' removal commit together,
	// so each event becomes its deliveries once, however many processes take from the outbox.
	// An owner's events are taken by one process at a time, in order; different owners' may be
	// taken side by side. ok is false when no event was waiting (true, without fn called, when
	// the events looked at were taken or removed meanwhile). When fn's error, or the commit's, is
	// a refusal (Refused) and one event was taken, the event is removed anyway, in a transaction
	// of its own: an event whose deliveries the store refuses is not delivered, as without an
	// outbox. A refused batch of several events stays whole, for the caller to take one at a
	// time, so that the others are not lost with the one refused.
	Take(max int, fn func(tx Tx, e mockserver.Event) error) (ok bool, err error)
	// Notify has the store call wake after each commit of this process that recorded events in
	// the outbox, with their owner and how many (before the change's call returns), and says
	// which events to record: every event when all is set (a static webhook takes every
	// owner's), otherwise those whose owner has a webhook registered when the change commits.
	// A webhook's registration and an owner's changes are serialized, so every change that
	// commits after the registration committed has its events recorded.
	Notify(all bool, wake func(owner string, events int))
}

// outboxBatch is how many events of one owner DrainOutbox takes in one transaction.
const outboxBatch = 64

// Refused reports whether err is the store refusing what was asked of it (a Klarna-shaped error
// below 500, such as its quota's 429, or a tenant reset meanwhile), which a retry would meet
// again, rather than the store failing (a 503 while the database is away). An event whose turn
// into deliveries panicked counts as refused too.
func Refused(err error) bool {
	var e *mockserver.Error
	return errors.As(err, &e) && e.Status < 500 || errors.Is(err, errEventPanicked)
}

// errEventPanicked is why an event is not delivered when turning it into deliveries panicked: a
// refusal (Refused), since taken again it would most likely panic again, and hold up the events
// behind it for good.
var errEventPanicked = errors.New("webhook: turning the event into deliveries panicked")

// outboxWoke counts events the store recorded in the outbox for the owner, which the
// dispatcher's next drain turns into deliveries, and wakes it.
func (n *Notifier) outboxWoke(owner string, events int) {
	n.inboxMu.Lock()
	if n.inboxClosed {
		n.inboxMu.Unlock()
		return // the outbox keeps them: the next mock to drain it delivers them
	}
	n.undispatched[owner] += events
	n.inboxMu.Unlock()
	n.signalInbox()
}

// outboxLoop is the dispatcher of a notifier on an outbox: woken by the store's commits, it
// drains the outbox, and only then stops counting the events it was woken for (Due), since
// those are taken by then, by this process or another. Once the inbox is closed it returns.
func (n *Notifier) outboxLoop() {
	defer n.wg.Done()
	for range n.inboxSignal {
		n.inboxMu.Lock()
		if n.inboxClosed {
			n.inboxMu.Unlock()
			return
		}
		woken := maps.Clone(n.undispatched)
		n.inboxMu.Unlock()
		n.DrainOutbox()
		n.inboxMu.Lock()
		for o, c := range woken {
			if n.undispatched[o] -= c; n.undispatched[o] <= 0 {
				delete(n.undispatched, o)
			}
		}
		n.dispatched.Broadcast()
		n.inboxMu.Unlock()
	}
}

// DrainOutbox turns the events waiting in the outbox (Config.Outbox) into deliveries, oldest
// first, until none waits: the deliveries of a batch of one owner's events are stored, and the
// events removed, in one transaction, then queued. It stops at a failure of the store, which it
// logs; the events left wait for the next drain. Each mock on a database drains after its own
// changes and now and then (for those of a mock that died between a change and its drain).
// Without an outbox it does nothing.
func (n *Notifier) DrainOutbox() {
	if n.cfg.Outbox == nil {
		return
	}
	// admitted holds the reservations of the deliveries of the batch being taken.
	var admitted []admission
	// A panic outside the events' own turn into deliveries (in the outbox's store) is taken as a
	// failure of the store: the batch's reservations are given back, its events wait for the
	// next drain, and the dispatcher goes on.
	defer func() {
		if p := recover(); p != nil {
			for _, a := range admitted {
				n.settle(a, errAbandoned)
			}
			n.panicked(p, "webhook: taking events from the outbox panicked; they wait for the next look")
		}
	}()
	// single counts the events still to take one at a time after a refused batch, so that only
	// the one refused is dropped.
	single := 0
	for {
		limit := outboxBatch
		if single > 0 {
			limit = 1
			single--
		}
		admitted = nil
		var taken []mockserver.Event
		ok, err := n.cfg.Outbox.Take(limit, func(tx Tx, e mockserver.Event) (err error) {
			taken = append(taken, e)
			defer func() {
				if p := recover(); p != nil {
					n.panicked(p, "webhook: turning an outbox event into deliveries panicked", "event_type", e.Type,
						"tenant", owner(e), "account_id", e.AccountID, "subject", e.Subject)
					err = errEventPanicked
				}
			}()
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
			a := n.reserve(owner(e), ds)
			admitted = append(admitted, a)
			return a.put(tx)
		})
		for _, a := range admitted {
			n.settle(a, err)
		}
		admitted = nil
		switch {
		case Refused(err) && limit > 1:
			// By the batch asked for, not the events fn saw: fn stops at the first refused, and
			// the outbox keeps a refused batch whole, so counting those would take the same batch
			// again and again when the first of several is refused (a quota already full).
			single = limit
		case Refused(err):
			n.notDelivered(taken[0], err)
		case err != nil:
			n.log.Error("webhook: cannot take events from the outbox; they wait for the next look", "error", err)
			return
		case !ok:
			return
		}
	}
}
