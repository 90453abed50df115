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
// webhook deliveries. It costs one atomic load per change while nobody watches. Changes are
// never waited for: a watcher whose backlog is full is dropped, so a stalled browser cannot slow
// an API call. The zero value is not usable; call NewHub.
type Hub struct {
	watching atomic.Int64
	mu       sync.Mutex
	tenants  map[string]map[*watcher]struct{}
	closed   bool
}

// watcher is one stream's subscription: changes arrive on ch, which the hub closes when it
// drops the watcher (its backlog overflowed, or the hub closed).
type watcher struct {
	tenant string
	ch     chan Change
}

// NewHub returns a hub nobody watches yet.
func NewHub() *Hub { return &Hub{tenants: map[string]map[*watcher]struct{}{}} }

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
// caused it (an API call, the journey, a timer on the tenant's clock).
func (h *Hub) ObserveStore(store mockserver.Store) mockserver.Store {
	return observedStore{Store: store, h: h}
}

type observedStore struct {
	mockserver.Store
	h *Hub
}

// pending collects the changes of one write transaction, each with its tenant.
type pending []tenantChange

type tenantChange struct {
	tenant string
	c      Change
}

// add records a change of the object id of kind, stored for owner (a scope or a tenant).
func (p *pending) add(owner, kind, id string) {
	tenant, _ := mockserver.SplitScope(owner)
	*p = append(*p, tenantChange{tenant, Change{Kind: kind, ID: id}})
}

func (h *Hub) flush(p pending) {
	for _, e := range p {
		h.Notify(e.tenant, e.c)
	}
}

func (s observedStore) Update(fn func(mockserver.Tx) error) error {
	return observe(s.h, s.Store.Update, fn, func(tx mockserver.Tx, p *pending) mockserver.Tx { return observedTx{Tx: tx, p: p} })
}

// observe runs fn in a write transaction of update, its transaction wrapped by wrap to collect
// what it stores, and reports that to the hub once the transaction committed. Nobody watching,
// it runs fn as it is.
func observe[T any](h *Hub, update func(func(T) error) error, fn func(T) error, wrap func(T, *pending) T) error {
	if h.watching.Load() == 0 {
		return update(fn)
	}
	var p pending
	err := update(func(tx T) error {
		p = p[:0] // a store may run fn again
		return fn(wrap(tx, &p))
	})
	if err == nil {
		h.flush(p)
	}
	return err
}

// observedTx records what a write transaction stores; every other method is the store's own.
type observedTx struct {
	mockserver.Tx
	p *pending
}

func (t observedTx) PutPaymentRequest(pr *mockserver.PaymentRequest) error {
	t.p.add(pr.AccountID, ChangeRequest, pr.PaymentRequestID)
	return t.Tx.PutPaymentRequest(pr)
}

func (t observedTx) PutPaymentTransaction(tr *mockserver.PaymentTransaction) error {
	t.p.add(tr.AccountID, ChangeTx, tr.PaymentTransactionID)
	return t.Tx.PutPaymentTransaction(tr)
}

func (t observedTx) PutCustomerToken(ct *mockserver.CustomerToken) error {
	t.p.add(ct.AccountID, ChangeToken, ct.Token)
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
	return observe(s.h, s.Store.Update, fn, func(tx webhook.Tx, p *pending) webhook.Tx { return observedWebhookTx{Tx: tx, p: p} })
}

type observedWebhookTx struct {
	webhook.Tx
	p *pending
}

func (t observedWebhookTx) PutDelivery(d *webhook.Delivery) error {
	t.p.add(d.AccountID, ChangeDelivery, d.DeliveryID)
	return t.Tx.PutDelivery(d)
}
