package webhook

// Store keeps signing keys, webhooks and deliveries. Write transactions are serialized, which is
// what makes the per-account signing key limit hold under concurrency. mockserver/memdb implements
// it (memdb.Store.Notifications).
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a write transaction, committed when fn returns nil and aborted otherwise.
	Update(fn func(Tx) error) error
}

// Tx is one store transaction. Every lookup is scoped to an account: an object of another account
// is mockserver.ErrNotFound. Objects passed to Put* must not be changed afterwards, and objects
// returned must not be changed: copy them first.
type Tx interface {
	SigningKey(accountID, id string) (*SigningKey, error)
	// SigningKeys lists the account's keys, oldest first.
	SigningKeys(accountID string) ([]*SigningKey, error)
	PutSigningKey(*SigningKey) error
	// DeleteSigningKey removes the key, or returns mockserver.ErrNotFound.
	DeleteSigningKey(accountID, id string) error

	Webhook(accountID, id string) (*Webhook, error)
	// Webhooks lists the account's webhooks, oldest first.
	Webhooks(accountID string) ([]*Webhook, error)
	PutWebhook(*Webhook) error
	// DeleteWebhook removes the webhook, or returns mockserver.ErrNotFound.
	DeleteWebhook(accountID, id string) error

	Delivery(accountID, id string) (*Delivery, error)
	// Deliveries lists the deliveries of one webhook of the account, newest first, at most limit
	// (limit > 0).
	Deliveries(accountID, webhookID string, limit int) ([]*Delivery, error)
	// AccountDeliveries lists every delivery of the account, of all its webhooks, oldest first,
	// for exporting the tenant (GET /mock/v1/state).
	AccountDeliveries(accountID string) ([]*Delivery, error)
	PutDelivery(*Delivery) error
}
