package dashboard

import (
	"sync"
	"sync/atomic"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// The bounds of the live updates: how many streams watch one tenant and all tenants together,
// and how many changes a stream may fall behind before it is dropped. A dropped browser
// reconnects by itself and reloads what it shows, so nothing is lost but a moment.
const (
	MaxWatchersPerTenant = 8
	MaxWatchers          = 256
	watcherBacklog       = 64
)

// Kinds of change the hub reports.
const (
	ChangeJournal  = "journal"
	ChangeRequest  = "payment_request"
	ChangeTx       = "payment_transaction"
	ChangeToken    = "customer_token"
	ChangeDelivery = "delivery"
	ChangeClock    = "clock"
	ChangeRules    = "rules"
	ChangeFaults   = "faults"
)

// Change is one thing that changed for a tenant: its kind and, where there is one, the id of
// the object. It carries no data: a browser told of it reloads what it shows, through the same
// checks as any page.
type Change struct {
	Kind string `json:"kind"`
	ID   string `json:"id,omitempty"`
}

// Hub tells the dashboards watching a tenant what changed: journal entries, stored objects and
// webhook deliveries. It also keeps the latest MaxTransitions state transitions of Payment
// Requests, all tenants together, which the timelines show. It costs one atomic load per change
// while nobody watches, and one append under a lock per state transition. Changes are
// never waited for: a watcher whose backlog is full is dropped, so a stalled browser cannot slow
// an API call. The zero value is not usable; call NewHub.
type Hub struct {
	watching atomic.Int64
	mu       sync.Mutex
	tenants  map[string]map[*watcher]struct{}
	closed   bool
	// history keeps the Payment Requests' state transitions for their timelines, watched or not.
	history *history
	// storeUpdates and notificationUpdates pool the observations of the two stores' write
	// transactions (observe).
	storeUpdates, notificationUpdates sync.Pool
}

// watcher is one stream's subscription: changes arrive on ch, which the hub closes when it
// drops the watcher (its backlog overflowed, or the hub closed).
type watcher struct {
	tenant string
	ch     chan Change
}

// NewHub returns a hub nobody watches yet.
func NewHub() *Hub {
	return &Hub{tenants: map[string]map[*watcher]struct{}{}, history: newHistory(MaxTransitions)}
}

// ForgetTenant drops the state transitions the hub keeps of the tenant, as the mock forgets the
// tenant (after a reset, or idle).
func (h *Hub) ForgetTenant(tenant string) { h.history.forget(tenant) }

// transitions returns the tenant's recorded state transitions of the Payment Request, oldest
// first.
func (h *Hub) transitions(tenant, requestID string) []transition {
	return h.history.of(tenant, requestID)
}

// watch subscribes to the tenant's changes, or reports false when the bounds are reached or the
// hub is closed.
func (h *Hub) watch(tenant string) (*watcher, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.tenants[tenant]
	if h.closed || len(set) >= MaxWatchersPerTenant || h.watching.Load() >= MaxWatchers {
		return nil, false
	}
	if set == nil {
		set = map[*watcher]struct{}{}
		h.tenants[tenant] = set
	}
	w := &watcher{tenant: tenant, ch: make(chan Change, watcherBacklog)}
	set[w] = struct{}{}
	h.watching.Add(1)
	return w, true
}

// unwatch ends w's subscription, if the hub has not dropped it already.
func (h *Hub) unwatch(w *watcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(w)
}

func (h *Hub) dropLocked(w *watcher) {
	set := h.tenants[w.tenant]
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	if len(set) == 0 {
		delete(h.tenants, w.tenant)
	}
	h.watching.Add(-1)
	close(w.ch)
}

// Notify tells the tenant's watchers of c, dropping those that fell too far behind.
func (h *Hub) Notify(tenant string, c Change) {
	if h.watching.Load() == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.tenants[tenant] {
		select {
		case w.ch <- c:
		default:
			h.dropLocked(w)
		}
	}
}

// Journaled is the mock server's hook for a new journal entry of the tenant
// (mockhttp.Deps.Journaled).
func (h *Hub) Journaled(tenant string) { h.Notify(tenant, Change{Kind: ChangeJournal}) }

// Close drops every watcher and refuses new ones, so open streams end (before a server shuts
// down, which waits for them).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for _, set := range h.tenants {
		for w := range set {
			h.dropLocked(w)
		}
	}
}

// ObserveStore returns store with every Payment Request, payment transaction and customer token
// it stores reported to the hub once its transaction commits: every state change, whatever
// caused it (an API call, the journey, a timer on the tenant's clock). The Payment Requests'
// state transitions are kept whether anyone watches or not.
func (h *Hub) ObserveStore(store mockserver.Store) mockserver.Store {
	return observedStore{Store: store, h: h}
}

type observedStore struct {
	mockserver.Store
	h *Hub
}

// ViewOne hands a single read to the store's cheaper transaction for one
// (mockserver.SingleReader), when it has one: reads are not observed.
func (s observedStore) ViewOne(fn func(mockserver.Tx) error) error {
	if one, ok := s.Store.(mockserver.SingleReader); ok {
		return one.ViewOne(fn)
	}
	return s.Store.View(fn)
}

// record collects what one write transaction stores: the changes to tell watchers (only when
// anyone watched as it began) and the Payment Requests' state transitions.
type record struct {
	notify  bool
	changes []tenantChange
	moves   []transition
	// readID and readState are the Payment Request the transaction read last and its state
	// then: a put of that request in another state is a transition from it. A put of a request
	// not read first (the authorize that creates it, an import) is none.
	readID, readState string
}

type tenantChange struct {
	tenant string
	c      Change
}

// change records a change of the object id of kind, stored for owner (a scope or a tenant).
func (r *record) change(owner, kind, id string) {
	if !r.notify {
		return
	}
	tenant, _ := mockserver.SplitScope(owner)
	r.changes = append(r.changes, tenantChange{tenant, Change{Kind: kind, ID: id}})
}

// read notes the state of a Payment Request the transaction read.
func (r *record) read(pr *mockserver.PaymentRequest) {
	r.readID, r.readState = pr.PaymentRequestID, pr.State
}

// put records the transitions a put of pr makes. pr names only its last move, from
// pr.PreviousState; when the state read was another, a move to pr.PreviousState came first in
// the same transaction (Service.Act opens the journey and approves at once).
func (r *record) put(pr *mockserver.PaymentRequest) {
	if pr.PaymentRequestID != r.readID || pr.State == r.readState {
		return
	}
	tenant, _ := mockserver.SplitScope(pr.AccountID)
	from := r.readState
	if pr.PreviousState != "" && pr.PreviousState != from {
		r.moves = append(r.moves, transition{tenant: tenant, requestID: pr.PaymentRequestID, from: from, to: pr.PreviousState, at: pr.UpdatedAt})
		from = pr.PreviousState
	}
	r.moves = append(r.moves, transition{tenant: tenant, requestID: pr.PaymentRequestID, from: from, to: pr.State, reason: pr.StateReason, at: pr.UpdatedAt})
	r.readState = pr.State
}

func (h *Hub) flush(r *record) {
	if len(r.moves) > 0 {
		h.history.add(r.moves)
	}
	for _, e := range r.changes {
		h.Notify(e.tenant, e.c)
	}
}

func (s observedStore) Update(fn func(mockserver.Tx) error) error {
	return observe(s.h, &s.h.storeUpdates, true, s.Store.Update, fn, func(w *observedTx, tx mockserver.Tx, r *record) mockserver.Tx {
		*w = observedTx{Tx: tx, r: r}
		return w
	})
}

// observation is what observing one write transaction takes: the record, the wrapper of the
// store's transaction, of type W, and the function the store runs. Each hub pools them by
// store (Hub.storeUpdates, Hub.notificationUpdates), so that a write, on every authorize, costs
// no allocation for being observed.
type observation[T, W any] struct {
	r       record
	wrapper W
	fn      func(T) error
	wrap    func(*W, T, *record) T
	// run is o.exec, bound once when o is made: a method value made per write would allocate.
	run func(T) error
}

// exec runs fn in the store's transaction tx, wrapped.
func (o *observation[T, W]) exec(tx T) error {
	// A store may run fn again.
	o.r = record{notify: o.r.notify, changes: o.r.changes[:0], moves: o.r.moves[:0]}
	return o.fn(o.wrap(&o.wrapper, tx, &o.r))
}

// observe runs fn in a write transaction of update, its transaction wrapped by wrap to collect
// what it stores, and reports that to the hub once the transaction committed. Nobody watching,
// it runs fn as it is, unless always: the store's transitions are kept regardless. pool holds
// the observations of this kind of store.
func observe[T, W any](h *Hub, pool *sync.Pool, always bool, update func(func(T) error) error, fn func(T) error, wrap func(*W, T, *record) T) error {
	notify := h.watching.Load() != 0
	if !notify && !always {
		return update(fn)
	}
	o, _ := pool.Get().(*observation[T, W])
	if o == nil {
		o = &observation[T, W]{}
		o.run = o.exec
	}
	o.r.notify, o.fn, o.wrap = notify, fn, wrap
	err := update(o.run)
	if err == nil {
		h.flush(&o.r)
	}
	// What the pooled observation still holds is dropped, so that it keeps nothing alive.
	var zero W
	clear(o.r.changes)
	clear(o.r.moves)
	o.r = record{changes: o.r.changes[:0], moves: o.r.moves[:0]}
	o.wrapper, o.fn, o.wrap = zero, nil, nil
	pool.Put(o)
	return err
}

// observedTx records what a write transaction reads and stores of Payment Requests, and what it
// stores of the rest; every other method is the store's own.
type observedTx struct {
	mockserver.Tx
	r *record
}

func (t observedTx) PaymentRequest(accountID, id string) (*mockserver.PaymentRequest, error) {
	pr, err := t.Tx.PaymentRequest(accountID, id)
	if err == nil {
		t.r.read(pr)
	}
	return pr, err
}

func (t observedTx) PutPaymentRequest(pr *mockserver.PaymentRequest) error {
	if err := t.Tx.PutPaymentRequest(pr); err != nil {
		return err
	}
	t.r.change(pr.AccountID, ChangeRequest, pr.PaymentRequestID)
	t.r.put(pr)
	return nil
}

func (t observedTx) PutPaymentTransaction(tr *mockserver.PaymentTransaction) error {
	t.r.change(tr.AccountID, ChangeTx, tr.PaymentTransactionID)
	return t.Tx.PutPaymentTransaction(tr)
}

func (t observedTx) PutCustomerToken(ct *mockserver.CustomerToken) error {
	t.r.change(ct.AccountID, ChangeToken, ct.Token)
	return t.Tx.PutCustomerToken(ct)
}

// ObserveNotifications returns the webhook store with every delivery it stores reported to the
// hub: a new delivery, each attempt, a redelivery.
func (h *Hub) ObserveNotifications(store webhook.Store) webhook.Store {
	return observedNotifications{Store: store, h: h}
}

type observedNotifications struct {
	webhook.Store
	h *Hub
}

func (s observedNotifications) Update(fn func(webhook.Tx) error) error {
	return observe(s.h, &s.h.notificationUpdates, false, s.Store.Update, fn, func(w *observedWebhookTx, tx webhook.Tx, r *record) webhook.Tx {
		*w = observedWebhookTx{Tx: tx, r: r}
		return w
	})
}

type observedWebhookTx struct {
	webhook.Tx
	r *record
}

func (t observedWebhookTx) PutDelivery(d *webhook.Delivery) error {
	t.r.change(d.AccountID, ChangeDelivery, d.DeliveryID)
	return t.Tx.PutDelivery(d)
}
