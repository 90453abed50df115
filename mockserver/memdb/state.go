package memdb

import (
	"cmp"
	"errors"
	"slices"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// stateKinds are the kinds mockserver.Tx stores; the others are the webhook package's.
var stateKinds = []kind{kindPaymentRequest, kindPaymentTransaction, kindCustomerToken, kindNetworkSession, kindIdempotency}

// ViewAll runs fn in one read-only transaction seen both as the simulator's and as the webhook
// package's, so that an export of a tenant is one consistent snapshot.
func (s *Store) ViewAll(fn func(mockserver.Tx, webhook.Tx) error) error {
	return s.View(func(t mockserver.Tx) error { return fn(t, notificationTx{t: t.(*tx)}) })
}

// UpdateAll runs fn in one write transaction seen both as the simulator's and as the webhook
// package's, so that an import of a tenant replaces all of it or, when fn fails, none of it.
func (s *Store) UpdateAll(fn func(mockserver.Tx, webhook.Tx) error) error {
	return s.update(call{inner: func(t *tx) error { return fn(t, notificationTx{t: t}) }})
}

// Objects lists the tenant's objects of the simulator's kinds from its bookkeeping, whose heaps
// hold an entry for every object, looking each up in the transaction, so the cost follows the
// tenant's objects rather than the store's (BenchmarkObjects). The bookkeeping is the latest
// commit's (in a write transaction, the transaction's own), which holds every object of an
// earlier snapshot unless the tenant removed one since: then, and when some tenant's books were
// dropped since, Objects scans the whole table instead. In a read transaction it takes the write
// lock to read the bookkeeping, so it waits for a running write transaction, and must not be
// called from a View inside an Update's fn.
func (t *tx) Objects(tenant string) ([]mockserver.Retained, error) {
	ids, ok := t.listed(tenant)
	recs := make([]*record, 0, len(ids))
	if ok {
		for _, e := range ids {
			rec, err := t.get(e.k, e.id)
			if errors.Is(err, mockserver.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if rec.Tenant == tenant {
				recs = append(recs, rec)
			}
		}
	} else {
		it, err := t.scan(nil)
		if err != nil {
			return nil, err
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if rec := raw.(*record); rec.Tenant == tenant && slices.Contains(stateKinds, kindOf(rec.key)) {
				recs = append(recs, rec)
			}
		}
	}
	slices.SortFunc(recs, func(a, b *record) int { return cmp.Compare(a.Seq, b.Seq) })
	// A replaced object may have an entry for each of its versions, all found as one record.
	recs = slices.Compact(recs)
	out := make([]mockserver.Retained, len(recs))
	for i, rec := range recs {
		out[i] = rec.Obj
	}
	return out, nil
}

// listedID is an object's kind and id, as the bookkeeping lists it.
type listedID struct {
	k  kind
	id string
}

// listed returns the ids of the tenant's objects of the simulator's kinds as its heaps list them
// (an id once for each entry, stale ones included), and whether that list holds every object of
// the transaction's snapshot.
func (t *tx) listed(tenant string) ([]listedID, bool) {
	if !t.write {
		t.s.mu.Lock()
		defer t.s.mu.Unlock()
		if t.s.forgotten > t.seen {
			return nil, false
		}
	}
	b := t.s.tenants[tenant]
	if b == nil {
		return nil, true
	}
	n := 0
	for _, k := range stateKinds {
		if !t.write && b[k].removed > t.seen {
			return nil, false
		}
		n += len(b[k].heap)
	}
	ids := make([]listedID, 0, n)
	for _, k := range stateKinds {
		for _, e := range b[k].heap {
			ids = append(ids, listedID{k: k, id: e.id})
		}
	}
	return ids, true
}

// DeleteTenant removes every object of the tenant, of every kind, webhook package's included.
func (t *tx) DeleteTenant(tenant string) error {
	if !t.write {
		return errReadOnly
	}
	var doomed []held
	for k := range numKinds {
		sh := t.shelf(tenant, k)
		// Every object has a valid entry, so walking the heap finds them all; removing leaves
		// the heap alone, and tidy drops it with the emptied shelf.
		for _, e := range sh.heap {
			var err error
			if doomed, err = t.resolve(doomed, k, sh, e); err != nil {
				return err
			}
		}
	}
	return t.removeAll(doomed)
}

// AccountDeliveries lists every delivery of the account, oldest first.
func (n notificationTx) AccountDeliveries(accountID string) ([]*webhook.Delivery, error) {
	return list[*webhook.Delivery](n, kindDelivery, accountID)
}

// Emit keeps nothing: the memory store dies with the process, so the events the Service publishes
// after the commit are as durable as the change, and the write path pays nothing for an outbox.
func (t *tx) Emit(mockserver.Event) error {
	if !t.write {
		return errReadOnly
	}
	return nil
}
