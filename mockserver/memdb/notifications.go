package memdb

import (
	"cmp"
	"errors"
	"slices"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// Tables of the webhook package. They use the shared record shape; the record id is
// "<account id>\x00<object id>", so an object of another account is simply not found, and the
// account's objects are listed with a prefix query on the shared "id" index ("id_prefix") and put
// in creation order by the record's Seq. No index beyond the shared schema is needed.
const (
	tableSigningKey = "notification_signing_key"
	tableWebhook    = "notification_webhook"
	tableDelivery   = "notification_delivery"
)

// Notifications returns the webhook package's store, kept in the same database as the simulator's
// state (and bounded the same way: each table keeps at most the store's maximum, oldest dropped).
func (s *Store) Notifications() webhook.Store { return notifications{s: s} }

type notifications struct{ s *Store }

func (n notifications) View(fn func(webhook.Tx) error) error {
	return n.s.View(func(t mockserver.Tx) error { return fn(notificationTx{t: t.(*tx)}) })
}

func (n notifications) Update(fn func(webhook.Tx) error) error {
	return n.s.Update(func(t mockserver.Tx) error { return fn(notificationTx{t: t.(*tx)}) })
}

// notificationTx implements webhook.Tx on the shared transaction.
type notificationTx struct{ t *tx }

// accountScoped joins account and id; the NUL byte occurs in neither.
func accountScoped(accountID, id string) string { return accountID + "\x00" + id }

// list returns the account's records of table in creation order.
func (n notificationTx) list(table, accountID string) ([]*record, error) {
	it, err := n.t.txn.Get(table, "id_prefix", accountID+"\x00")
	if err != nil {
		return nil, err
	}
	var recs []*record
	for raw := it.Next(); raw != nil; raw = it.Next() {
		recs = append(recs, raw.(*record))
	}
	slices.SortFunc(recs, func(a, b *record) int { return cmp.Compare(a.Seq, b.Seq) })
	return recs, nil
}

// remove deletes the record stored under id. Its id stays in the eviction queue until its turn
// comes, when evicting it again is a no-op.
func (n notificationTx) remove(table, id string) error {
	t := n.t
	if !t.write {
		return errors.New("memdb: write in a read transaction")
	}
	existing, err := t.txn.First(table, "id", id)
	if err != nil {
		return err
	}
	if existing == nil {
		return mockserver.ErrNotFound
	}
	return t.txn.Delete(table, existing)
}

func (n notificationTx) SigningKey(accountID, id string) (*webhook.SigningKey, error) {
	obj, err := n.t.get(tableSigningKey, accountScoped(accountID, id))
	if err != nil {
		return nil, err
	}
	return obj.(*webhook.SigningKey), nil
}

func (n notificationTx) SigningKeys(accountID string) ([]*webhook.SigningKey, error) {
	recs, err := n.list(tableSigningKey, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]*webhook.SigningKey, len(recs))
	for i, r := range recs {
		out[i] = r.Obj.(*webhook.SigningKey)
	}
	return out, nil
}

func (n notificationTx) PutSigningKey(k *webhook.SigningKey) error {
	return n.t.put(tableSigningKey, accountScoped(k.AccountID, k.SigningKeyID), k)
}

func (n notificationTx) DeleteSigningKey(accountID, id string) error {
	return n.remove(tableSigningKey, accountScoped(accountID, id))
}

func (n notificationTx) Webhook(accountID, id string) (*webhook.Webhook, error) {
	obj, err := n.t.get(tableWebhook, accountScoped(accountID, id))
	if err != nil {
		return nil, err
	}
	return obj.(*webhook.Webhook), nil
}

func (n notificationTx) Webhooks(accountID string) ([]*webhook.Webhook, error) {
	recs, err := n.list(tableWebhook, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]*webhook.Webhook, len(recs))
	for i, r := range recs {
		out[i] = r.Obj.(*webhook.Webhook)
	}
	return out, nil
}

func (n notificationTx) PutWebhook(w *webhook.Webhook) error {
	return n.t.put(tableWebhook, accountScoped(w.AccountID, w.WebhookID), w)
}

func (n notificationTx) DeleteWebhook(accountID, id string) error {
	return n.remove(tableWebhook, accountScoped(accountID, id))
}

func (n notificationTx) Delivery(accountID, id string) (*webhook.Delivery, error) {
	obj, err := n.t.get(tableDelivery, accountScoped(accountID, id))
	if err != nil {
		return nil, err
	}
	return obj.(*webhook.Delivery), nil
}

// Deliveries scans the account's deliveries (bounded by the table's maximum) for the webhook's,
// newest first.
func (n notificationTx) Deliveries(accountID, webhookID string, limit int) ([]*webhook.Delivery, error) {
	recs, err := n.list(tableDelivery, accountID)
	if err != nil {
		return nil, err
	}
	var out []*webhook.Delivery
	for i := len(recs) - 1; i >= 0 && len(out) < limit; i-- {
		if d := recs[i].Obj.(*webhook.Delivery); d.WebhookID == webhookID {
			out = append(out, d)
		}
	}
	return out, nil
}

func (n notificationTx) PutDelivery(d *webhook.Delivery) error {
	return n.t.put(tableDelivery, accountScoped(d.AccountID, d.DeliveryID), d)
}
