package postgres

import (
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// The webhook package's objects are stored as the simulator's are, under the id
// "<account id>\n<object id>" (their ids are unique only within an account), so an object of
// another account is simply not found; listings select on the account column.

// Notifications returns the webhook package's store, kept in the same database as the
// simulator's state and bounded the same way, per tenant and kind.
func (s *Store) Notifications() webhook.Store { return notifications{s: s} }

type notifications struct{ s *Store }

func (n notifications) View(fn func(webhook.Tx) error) error {
	return n.s.run(false, func(t *tx) error { return fn(notificationTx{t: t}) })
}

func (n notifications) Update(fn func(webhook.Tx) error) error {
	return n.s.run(true, func(t *tx) error { return fn(notificationTx{t: t}) })
}

// ViewAll runs fn in one read-only transaction seen both as the simulator's and as the webhook
// package's, so that an export of a tenant is one consistent snapshot.
func (s *Store) ViewAll(fn func(mockserver.Tx, webhook.Tx) error) error {
	return s.runWithin(bulkTimeouts*s.timeout, false, func(t *tx) error { return fn(t, notificationTx{t: t}) })
}

// UpdateAll runs fn in one write transaction seen both as the simulator's and as the webhook
// package's, so that an import of a tenant replaces all of it or, when fn fails, none of it.
func (s *Store) UpdateAll(fn func(mockserver.Tx, webhook.Tx) error) error {
	return s.runWithin(bulkTimeouts*s.timeout, true, func(t *tx) error { return fn(t, notificationTx{t: t}) })
}

// notificationKinds is the condition of the partial index objects_account (migration 0007): the
// kinds listed by account. A query listing by account repeats it, so that the planner uses the
// index even in a generic plan, where the query's kind is a parameter it cannot compare.
const notificationKinds = `kind IN ('notification_signing_key', 'notification_webhook', 'notification_delivery')`

// notificationTx implements webhook.Tx on the shared transaction.
type notificationTx struct{ t *tx }

// one returns the account's object of kind k stored under id.
func one[E any](n notificationTx, k kind, accountID, id string) (*E, error) {
	return get[E](n.t, k, tenantOf(accountID), scoped(accountID, id), func(stored) bool { return true })
}

// list returns the account's objects of kind k (of one webhook when parent is set), in creation
// order or, with newest, the other way round, at most limit (0: all).
func list[E any](n notificationTx, k kind, accountID, parent string, newest bool, limit int) ([]*E, error) {
	t := n.t
	if _, err := t.lock(tenantOf(accountID)); err != nil {
		return nil, err
	}
	q := `SELECT body FROM objects WHERE kind = $1 AND account = $2 AND ($3 = '' OR parent = $3) AND ` + notificationKinds + ` ORDER BY seq`
	if newest {
		q += ` DESC`
	}
	// LIMIT NULL is no limit.
	var bound *int
	if limit > 0 {
		bound = &limit
	}
	return scanAll(t, q+` LIMIT $4`, func(_ string, body []byte) (*E, error) { return decode[E](body) }, k.name, accountID, parent, bound)
}

func (n notificationTx) SigningKey(accountID, id string) (*webhook.SigningKey, error) {
	return one[webhook.SigningKey](n, kindSigningKey, accountID, id)
}

func (n notificationTx) SigningKeys(accountID string) ([]*webhook.SigningKey, error) {
	return list[webhook.SigningKey](n, kindSigningKey, accountID, "", false, 0)
}

func (n notificationTx) PutSigningKey(k *webhook.SigningKey) error {
	return n.t.put(kindSigningKey, k.AccountID, scoped(k.AccountID, k.SigningKeyID), "", k)
}

func (n notificationTx) DeleteSigningKey(accountID, id string) error {
	return n.remove(kindSigningKey, accountID, id)
}

func (n notificationTx) Webhook(accountID, id string) (*webhook.Webhook, error) {
	return one[webhook.Webhook](n, kindWebhook, accountID, id)
}

func (n notificationTx) Webhooks(accountID string) ([]*webhook.Webhook, error) {
	return list[webhook.Webhook](n, kindWebhook, accountID, "", false, 0)
}

func (n notificationTx) PutWebhook(w *webhook.Webhook) error {
	return n.t.put(kindWebhook, w.AccountID, scoped(w.AccountID, w.WebhookID), "", w)
}

func (n notificationTx) DeleteWebhook(accountID, id string) error {
	return n.remove(kindWebhook, accountID, id)
}

func (n notificationTx) Delivery(accountID, id string) (*webhook.Delivery, error) {
	return one[webhook.Delivery](n, kindDelivery, accountID, id)
}

// Deliveries lists the webhook's deliveries, newest first, from the account's index.
func (n notificationTx) Deliveries(accountID, webhookID string, limit int) ([]*webhook.Delivery, error) {
	if webhookID == "" {
		// An empty parent would select every delivery of the account; no webhook has that id.
		return nil, nil
	}
	return list[webhook.Delivery](n, kindDelivery, accountID, webhookID, true, limit)
}

// AccountDeliveries lists every delivery of the account, oldest first.
func (n notificationTx) AccountDeliveries(accountID string) ([]*webhook.Delivery, error) {
	return list[webhook.Delivery](n, kindDelivery, accountID, "", false, 0)
}

func (n notificationTx) PutDelivery(d *webhook.Delivery) error {
	return n.t.put(kindDelivery, d.AccountID, scoped(d.AccountID, d.DeliveryID), d.WebhookID, d)
}

// remove deletes the account's object of kind k, or returns mockserver.ErrNotFound.
func (n notificationTx) remove(k kind, accountID, id string) error {
	if !n.t.write {
		return errReadOnly
	}
	tenant := tenantOf(accountID)
	if _, err := n.t.lock(tenant); err != nil {
		return err
	}
	return n.t.remove(k, tenant, scoped(accountID, id))
}
