package mockserver

import "errors"

// ErrNotFound is returned by a Tx when the asked-for object does not exist in that account.
var ErrNotFound = errors.New("not found")

// ErrKeyInFlight is returned by PutIdempotent of a store shared by several processes
// (PostgreSQL) for the reservation of a Klarna-Idempotency-Key whose first request another
// process is still running: the duplicate waits for that request's answer.
var ErrKeyInFlight = errors.New("the first request with this idempotency key is still running")

// Store keeps the simulator's state. Write transactions are serialized, which is what makes a
// final authorize or an idempotent retry create exactly one resource under concurrency; read
// transactions see a consistent snapshot and never block writers.
type Store interface {
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Update runs fn in a write transaction, committed when fn returns nil and aborted otherwise.
	Update(fn func(Tx) error) error
}

// SingleReader is a Store with a cheaper read-only transaction for a function that makes one
// read (PostgreSQL's: the read alone, without BEGIN and COMMIT). fn must do nothing but read: the
// store runs it again, in a View, when it reads more than once.
type SingleReader interface {
	ViewOne(fn func(Tx) error) error
}

// Tx is one store transaction. Every lookup is scoped to an account: an object of another account
// is ErrNotFound. PaymentRequest alone also takes an empty accountID, matching any account: the
// customer's side (the Purchase Journey) reaches a request by its id alone, as a
// payment_request_url does. Objects passed to Put* must not be changed afterwards, and objects returned must
// not be changed: copy them first.
type Tx interface {
	PaymentRequest(accountID, id string) (*PaymentRequest, error)
	PutPaymentRequest(*PaymentRequest) error

	PaymentTransaction(accountID, id string) (*PaymentTransaction, error)
	PutPaymentTransaction(*PaymentTransaction) error

	CustomerToken(accountID, token string) (*CustomerToken, error)
	PutCustomerToken(*CustomerToken) error

	NetworkSession(accountID, token string) (*NetworkSession, error)
	PutNetworkSession(*NetworkSession) error

	// Idempotent returns the stored response of an earlier request with the same key.
	Idempotent(accountKey, key string) (*IdempotencyRecord, error)
	PutIdempotent(*IdempotencyRecord) error

	// Objects lists every object the tenant holds of the kinds above (a *PaymentRequest,
	// *PaymentTransaction, *CustomerToken, *NetworkSession or *IdempotencyRecord each), in the
	// order they were first stored, for exporting the tenant (GET /mock/v1/state).
	Objects(tenant string) ([]Retained, error)
	// DeleteTenant removes every object of the tenant the store holds, of every kind: the kinds
	// above and, in a store that keeps them beside these (memdb does), the webhook package's.
	DeleteTenant(tenant string) error

	// Emit records an event of the transaction's change in a store that keeps a durable outbox
	// (PostgreSQL): the event commits with the change, or is dropped with it, and a crash after
	// the commit cannot lose it. A store of the process's own (memdb) keeps no outbox and returns
	// nil: what it holds dies with the process, and the events the Service publishes after the
	// commit are all it needs. The Service calls it only when Config.Outbox says the store keeps one.
	// A store may leave out an event nobody can receive (PostgreSQL's, when the tenant has no webhook).
	Emit(Event) error
}

// IdempotencyRecord is the stored first answer to a request with a Klarna-Idempotency-Key.
type IdempotencyRecord struct {
	// Scope isolates keys: the API key and the route, so one key cannot collide across accounts.
	Scope string
	// Tenant is the tenant whose request it answers, which the store bounds the record under.
	Tenant     string
	Key        string
	BodyDigest [32]byte
	Status     int
	Header     map[string]string
	Body       []byte
	ExpiresAt  int64 // unix nanoseconds on the mock's clock
}
