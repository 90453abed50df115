package memdb

import (
	"cmp"
	"slices"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// The webhook package's objects use the shared record shape; the record id is
// "<account id>\x00<object id>", so an object of another account is simply not found, and the
// account's objects are listed with a prefix scan of the table's one index and put in creation
// order by the record's Seq. No index beyond the shared schema is needed.

// Notifications returns the webhook package's store, kept in the same database as the simulator's
// state and bounded the same way, per tenant and kind.
func (s *Store) Notifications() webhook.Store { return notifications{s: s} }

type notifications struct{ s *Store }

func (n notifications) View(fn func(webhook.Tx) error) error {
	return n.s.View(func(t mockserver.Tx) error { return fn(notificationTx{t: t.(*tx)}) })
}

func (n notifications) Update(fn func(webhook.Tx) error) error {
	return n.s.update(call{inner: func(t *tx) error { return fn(notificationTx{t: t}) }})
}

// notificationTx implements webhook.Tx on the shared transaction.
type notificationTx struct{ t *tx }

// accountScoped joins account and id; the NUL byte occurs in neither.
func accountScoped(accountID, id string) string { return accountID + "\x00" + id }

// list returns the account's objects of kind k in creation order.
func list[T mockserver.Retained](n notificationTx, k kind, accountID string) ([]T, error) {
	it, err := n.t.scan(n.t.s.key(n.t.buf[:0], k, accountScoped(accountID, "")))
	if err != nil {
		return nil, err
	}
	var recs []*record
	for raw := it.Next(); raw != nil; raw = it.Next() {
		recs = append(recs, raw.(*record))
	}
	slices.SortFunc(recs, func(a, b *record) int { return cmp.Compare(a.Seq, b.Seq) })
	out := make([]T, len(recs))
	for i, r := range recs {
		out[i] = r.Obj.(T)
	}
	return out, nil
}

// one returns the account's object of kind k stored under id; the account is part of the record
// id, so another account's object is not found.
func one[T mockserver.Retained](n notificationTx, k kind, accountID, id string) (T, error) {
	return owned(n.t, k, accountScoped(accountID, id), func(T) bool { return true })
}

func (n notificationTx) SigningKey(accountID, id string) (*webhook.SigningKey, error) {
	return one[*webhook.SigningKey](n, kindSigningKey, accountID, id)
}

func (n notificationTx) SigningKeys(accountID string) ([]*webhook.SigningKey, error) {
	return list[*webhook.SigningKey](n, kindSigningKey, accountID)
}

func (n notificationTx) PutSigningKey(k *webhook.SigningKey) error {
	return n.t.put(kindSigningKey, k.AccountID, accountScoped(k.AccountID, k.SigningKeyID), k)
}

func (n notificationTx) DeleteSigningKey(accountID, id string) error {
	return n.t.removeID(kindSigningKey, accountID, accountScoped(accountID, id))
}

func (n notificationTx) Webhook(accountID, id string) (*webhook.Webhook, error) {
	return one[*webhook.Webhook](n, kindWebhook, accountID, id)
}

func (n notificationTx) Webhooks(accountID string) ([]*webhook.Webhook, error) {
	return list[*webhook.Webhook](n, kindWebhook, accountID)
}

func (n notificationTx) PutWebhook(w *webhook.Webhook) error {
	return n.t.put(kindWebhook, w.AccountID, accountScoped(w.AccountID, w.WebhookID), w)
}

func (n notificationTx) DeleteWebhook(accountID, id string) error {
	return n.t.removeID(kindWebhook, accountID, accountScoped(accountID, id))
}

func (n notificationTx) Delivery(accountID, id string) (*webhook.Delivery, error) {
	return one[*webhook.Delivery](n, kindDelivery, accountID, id)
}

// Deliveries scans the account's deliveries (bounded by the tenant's quota) for the webhook's,
// newest first.
func (n notificationTx) Deliveries(accountID, webhookID string, limit int) ([]*webhook.Delivery, error) {
	all, err := list[*webhook.Delivery](n, kindDelivery, accountID)
	if err != nil {
		return nil, err
	}
	var out []*webhook.Delivery
	for _, d := range slices.Backward(all) {
		if len(out) == limit {
			break
		}
		if d.WebhookID == webhookID {
			out = append(out, d)
		}
	}
	return out, nil
}

func (n notificationTx) PutDelivery(d *webhook.Delivery) error {
	return n.t.put(kindDelivery, d.AccountID, accountScoped(d.AccountID, d.DeliveryID), d)
}
