// Package memdb keeps the acquirer's state in memory with hashicorp/go-memdb: an acquirer.Store
// for tests, demos and the contract suite. A production acquirer keeps the same data in a
// database, with the same unique constraints and transactions.
//
// Stored objects are immutable: the domain copies a payment before changing it and inserts the
// copy. go-memdb does not enforce unique secondary indexes (a second object with the same value
// silently takes over the index entry), so PutPayment and PutToken check them first and refuse
// with acquirer.ErrConflict.
package memdb

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
)

// Tables and indexes.
const (
	tablePayments = "payments"
	tableTokens   = "tokens"
	tableEvents   = "klarna_events"

	indexID             = "id"
	indexPaymentRequest = "payment_request"
	indexIdempotency    = "idempotency"
	indexKlarnaToken    = "klarna_token"
)

// klarnaEvent records a processed Klarna event.
type klarnaEvent struct {
	ID          string
	ProcessedAt time.Time
}

// Store is an acquirer.Store on go-memdb.
type Store struct {
	db *memdb.MemDB
}

// New returns an empty store.
func New() (*Store, error) {
	schema := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
		tablePayments: table(tablePayments,
			&memdb.IndexSchema{Name: indexPaymentRequest, Unique: true, AllowMissing: true,
				Indexer: &memdb.StringFieldIndex{Field: "PaymentRequestID"}},
			&memdb.IndexSchema{Name: indexIdempotency, Unique: true, AllowMissing: true,
				Indexer: pairOf(func(p *acquirer.Payment) (string, string) { return p.PartnerID, p.IdempotencyKey })}),
		tableTokens: table(tableTokens,
			&memdb.IndexSchema{Name: indexKlarnaToken, Unique: true,
				Indexer: pairOf(func(t *acquirer.Token) (string, string) { return t.PartnerID, t.KlarnaToken })}),
		tableEvents: table(tableEvents),
	}}
	db, err := memdb.NewMemDB(schema)
	if err != nil {
		return nil, fmt.Errorf("memdb schema: %w", err)
	}
	return &Store{db: db}, nil
}

// table returns the schema of a table of objects with a unique ID field, indexed by it and by
// the other indexes.
func table(name string, indexes ...*memdb.IndexSchema) *memdb.TableSchema {
	t := &memdb.TableSchema{Name: name, Indexes: map[string]*memdb.IndexSchema{
		indexID: {Name: indexID, Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
	}}
	for _, ix := range indexes {
		t.Indexes[ix.Name] = ix
	}
	return t
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(acquirer.Tx) error) error {
	txn := s.db.Txn(false)
	defer txn.Abort()
	return fn(&tx{txn: txn})
}

// Update runs fn in a write transaction, committed only when fn returns nil. go-memdb
// serializes write transactions.
func (s *Store) Update(fn func(acquirer.Tx) error) error {
	txn := s.db.Txn(true)
	if err := fn(&tx{txn: txn}); err != nil {
		txn.Abort()
		return err
	}
	txn.Commit()
	return nil
}

// tx implements acquirer.Tx on a go-memdb transaction.
type tx struct {
	txn *memdb.Txn
}

// first returns the first object of table whose index matches args, or acquirer.ErrNotFound.
func (t *tx) first(table, index string, args ...any) (any, error) {
	raw, err := t.txn.First(table, index, args...)
	if err != nil {
		return nil, fmt.Errorf("memdb %s.%s: %w", table, index, err)
	}
	if raw == nil {
		return nil, acquirer.ErrNotFound
	}
	return raw, nil
}

// Payment returns the payment with id.
func (t *tx) Payment(id string) (*acquirer.Payment, error) {
	return get[*acquirer.Payment](t, tablePayments, indexID, id)
}

// PaymentByPaymentRequest returns the payment of a Klarna Payment Request.
func (t *tx) PaymentByPaymentRequest(paymentRequestID string) (*acquirer.Payment, error) {
	return get[*acquirer.Payment](t, tablePayments, indexPaymentRequest, paymentRequestID)
}

// PaymentByIdempotencyKey returns the payment a Partner created with an Idempotency-Key.
func (t *tx) PaymentByIdempotencyKey(partnerID, key string) (*acquirer.Payment, error) {
	return get[*acquirer.Payment](t, tablePayments, indexIdempotency, partnerID, key)
}

// PutPayment inserts or replaces a payment, refusing a Payment Request id or idempotency key
// another payment holds.
func (t *tx) PutPayment(p *acquirer.Payment) error {
	if p.PaymentRequestID != "" {
		if err := t.unique(tablePayments, indexPaymentRequest, p.ID, p.PaymentRequestID); err != nil {
			return err
		}
	}
	if p.IdempotencyKey != "" {
		if err := t.unique(tablePayments, indexIdempotency, p.ID, p.PartnerID, p.IdempotencyKey); err != nil {
			return err
		}
	}
	return t.insert(tablePayments, p)
}

// DeletePayment removes a payment.
func (t *tx) DeletePayment(id string) error {
	p, err := t.Payment(id)
	if err != nil {
		return err
	}
	return t.txn.Delete(tablePayments, p)
}

// Token returns the AP token with id.
func (t *tx) Token(id string) (*acquirer.Token, error) {
	return get[*acquirer.Token](t, tableTokens, indexID, id)
}

// TokenByKlarnaToken returns the Partner's AP token for a Klarna customer token.
func (t *tx) TokenByKlarnaToken(partnerID, klarnaToken string) (*acquirer.Token, error) {
	return get[*acquirer.Token](t, tableTokens, indexKlarnaToken, partnerID, klarnaToken)
}

// PutToken inserts or replaces a token, refusing a Klarna token the Partner already holds under
// another AP token.
func (t *tx) PutToken(tok *acquirer.Token) error {
	if err := t.unique(tableTokens, indexKlarnaToken, tok.ID, tok.PartnerID, tok.KlarnaToken); err != nil {
		return err
	}
	return t.insert(tableTokens, tok)
}

// KlarnaEventSeen reports whether a Klarna event was recorded as processed.
func (t *tx) KlarnaEventSeen(eventID string) (bool, error) {
	_, err := t.first(tableEvents, indexID, eventID)
	if errors.Is(err, acquirer.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// PutKlarnaEvent records a Klarna event as processed.
func (t *tx) PutKlarnaEvent(eventID string, at time.Time) error {
	return t.insert(tableEvents, &klarnaEvent{ID: eventID, ProcessedAt: at})
}

func (t *tx) insert(table string, obj any) error {
	if err := t.txn.Insert(table, obj); err != nil {
		return fmt.Errorf("memdb insert into %s: %w", table, err)
	}
	return nil
}

// unique returns acquirer.ErrConflict when an object other than the one with id holds the value
// args in a unique index.
func (t *tx) unique(table, index, id string, args ...any) error {
	raw, err := t.first(table, index, args...)
	if errors.Is(err, acquirer.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var holder string
	switch o := raw.(type) {
	case *acquirer.Payment:
		holder = o.ID
	case *acquirer.Token:
		holder = o.ID
	}
	if holder != id {
		return fmt.Errorf("%s.%s %v is held by %s: %w", table, index, args, holder, acquirer.ErrConflict)
	}
	return nil
}

// get returns the object of type T matching args in an index.
func get[T any](t *tx, table, index string, args ...any) (T, error) {
	var zero T
	raw, err := t.first(table, index, args...)
	if err != nil {
		return zero, err
	}
	obj, ok := raw.(T)
	if !ok {
		return zero, fmt.Errorf("memdb %s holds a %T", table, raw)
	}
	return obj, nil
}
