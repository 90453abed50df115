package memdb

import (
	"cmp"
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
	return s.update(func(t *tx) error { return fn(t, notificationTx{t: t}) })
}

// Objects scans the tables of the simulator's kinds for the tenant's records. It reads only the
// transaction's snapshot, never the bookkeeping, so a read transaction may call it without the
// write lock; a scan of every tenant's records is what that costs, which suits a rare export.
func (t *tx) Objects(tenant string) ([]mockserver.Retained, error) {
	var recs []*record
	for _, k := range stateKinds {
		it, err := t.txn.Get(kinds[k].table, "id")
		if err != nil {
			return nil, err
		}
		for raw := it.Next(); raw != nil; raw = it.Next() {
			if rec := raw.(*record); rec.Tenant == tenant {
				recs = append(recs, rec)
			}
		}
	}
	slices.SortFunc(recs, func(a, b *record) int { return cmp.Compare(a.Seq, b.Seq) })
	out := make([]mockserver.Retained, len(recs))
	for i, rec := range recs {
		out[i] = rec.Obj
	}
	return out, nil
}

// DeleteTenant removes every object of the tenant, of every kind, webhook package's included.
func (t *tx) DeleteTenant(tenant string) error {
	if !t.write {
		return errReadOnly
	}
	for k := range numKinds {
		sh := t.shelf(tenant, k)
		// Every object has a valid entry, so walking the heap finds them all; dropping leaves
		// the heap alone, and tidy drops it with the emptied shelf.
		for _, e := range sh.heap {
			if _, err := t.drop(k, sh, e); err != nil {
				return err
			}
		}
	}
	return nil
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
