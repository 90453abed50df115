// Package memdb keeps the simulator's state in memory with hashicorp/go-memdb.
//
// Every table holds the same record shape: an id and the immutable domain object. The store keeps
// a bounded number of objects per table, dropping the oldest first, so a mock that has served
// millions of requests in a load test stays small; the bound is far above what any single test
// touches. Insertion order is kept in a plain queue beside go-memdb rather than in a second
// index: sequential keys make go-memdb copy one ever-wider radix node on every insert.
package memdb

import (
	"errors"
	"fmt"
	"sync"

	"github.com/hashicorp/go-memdb"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// Table names.
const (
	tablePaymentRequest     = "payment_request"
	tablePaymentTransaction = "payment_transaction"
	tableCustomerToken      = "customer_token"
	tableNetworkSession     = "network_session"
	tableIdempotency        = "idempotency"
)

// tables lists every table of the schema; all share the record shape.
var tables = []string{
	tablePaymentRequest,
	tablePaymentTransaction,
	tableCustomerToken,
	tableNetworkSession,
	tableIdempotency,
	tableSigningKey,
	tableWebhook,
	tableDelivery,
}

// DefaultMaxPerTable is how many objects each table keeps before the oldest are dropped.
const DefaultMaxPerTable = 5000

// record is the one shape stored in every table. Seq orders records by creation (a replaced
// record keeps its Seq); Obj is never mutated after insertion.
type record struct {
	ID  string
	Seq uint64
	Obj any
}

// Store is a mockserver.Store backed by go-memdb.
type Store struct {
	db  *memdb.MemDB
	max int
	// mu serializes write transactions (as go-memdb does anyway) so that order, the insertion
	// order of each table, changes together with the data.
	mu    sync.Mutex
	seq   uint64
	order map[string]*queue
}

// New returns an empty store that keeps at most maxPerTable objects per table (0 means
// DefaultMaxPerTable).
func New(maxPerTable int) (*Store, error) {
	if maxPerTable <= 0 {
		maxPerTable = DefaultMaxPerTable
	}
	schema := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{}}
	for _, name := range tables {
		schema.Tables[name] = &memdb.TableSchema{
			Name: name,
			Indexes: map[string]*memdb.IndexSchema{
				"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "ID"}},
			},
		}
	}
	db, err := memdb.NewMemDB(schema)
	if err != nil {
		return nil, fmt.Errorf("memdb schema: %w", err)
	}
	order := make(map[string]*queue, len(tables))
	for _, name := range tables {
		order[name] = &queue{}
	}
	return &Store{db: db, max: maxPerTable, order: order}, nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(mockserver.Tx) error) error {
	txn := s.db.Txn(false)
	defer txn.Abort()
	return fn(&tx{s: s, txn: txn})
}

// Update runs fn in a write transaction, committed only when fn returns nil. The objects it
// added are queued for eviction, and the oldest dropped, in the same transaction.
func (s *Store) Update(fn func(mockserver.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	txn := s.db.Txn(true)
	t := &tx{s: s, txn: txn, write: true}
	if err := fn(t); err != nil {
		txn.Abort()
		return err
	}
	for _, a := range t.added {
		q := s.order[a.table]
		q.push(a.id)
		for q.len() > s.max {
			if _, err := txn.DeleteAll(a.table, "id", q.pop()); err != nil {
				txn.Abort()
				return fmt.Errorf("memdb: evicting from %s: %w", a.table, err)
			}
		}
	}
	txn.Commit()
	return nil
}

// tx implements mockserver.Tx on a go-memdb transaction.
type tx struct {
	s     *Store
	txn   *memdb.Txn
	write bool
	// added lists the objects this transaction inserted (not replaced), in order.
	added []added
}

type added struct{ table, id string }

// get returns the object stored under id in table, or mockserver.ErrNotFound.
func (t *tx) get(table, id string) (any, error) {
	raw, err := t.txn.First(table, "id", id)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, mockserver.ErrNotFound
	}
	return raw.(*record).Obj, nil
}

// put stores obj under id, replacing an earlier version (which keeps its place in the eviction
// order).
func (t *tx) put(table, id string, obj any) error {
	if !t.write {
		return errors.New("memdb: write in a read transaction")
	}
	existing, err := t.txn.First(table, "id", id)
	if err != nil {
		return err
	}
	if existing != nil {
		return t.txn.Insert(table, &record{ID: id, Seq: existing.(*record).Seq, Obj: obj})
	}
	t.s.seq++
	if err := t.txn.Insert(table, &record{ID: id, Seq: t.s.seq, Obj: obj}); err != nil {
		return err
	}
	t.added = append(t.added, added{table, id})
	return nil
}

func (t *tx) PaymentRequest(accountID, id string) (*mockserver.PaymentRequest, error) {
	obj, err := t.get(tablePaymentRequest, id)
	if err != nil {
		return nil, err
	}
	pr := obj.(*mockserver.PaymentRequest)
	if accountID != "" && pr.AccountID != accountID {
		return nil, mockserver.ErrNotFound
	}
	return pr, nil
}

func (t *tx) PutPaymentRequest(pr *mockserver.PaymentRequest) error {
	return t.put(tablePaymentRequest, pr.PaymentRequestID, pr)
}

func (t *tx) PaymentTransaction(accountID, id string) (*mockserver.PaymentTransaction, error) {
	obj, err := t.get(tablePaymentTransaction, id)
	if err != nil {
		return nil, err
	}
	tr := obj.(*mockserver.PaymentTransaction)
	if tr.AccountID != accountID {
		return nil, mockserver.ErrNotFound
	}
	return tr, nil
}

func (t *tx) PutPaymentTransaction(tr *mockserver.PaymentTransaction) error {
	return t.put(tablePaymentTransaction, tr.PaymentTransactionID, tr)
}

func (t *tx) CustomerToken(accountID, token string) (*mockserver.CustomerToken, error) {
	obj, err := t.get(tableCustomerToken, token)
	if err != nil {
		return nil, err
	}
	ct := obj.(*mockserver.CustomerToken)
	if ct.AccountID != accountID {
		return nil, mockserver.ErrNotFound
	}
	return ct, nil
}

func (t *tx) PutCustomerToken(ct *mockserver.CustomerToken) error {
	return t.put(tableCustomerToken, ct.Token, ct)
}

func (t *tx) NetworkSession(accountID, token string) (*mockserver.NetworkSession, error) {
	obj, err := t.get(tableNetworkSession, token)
	if err != nil {
		return nil, err
	}
	ns := obj.(*mockserver.NetworkSession)
	if ns.AccountID != accountID {
		return nil, mockserver.ErrNotFound
	}
	return ns, nil
}

func (t *tx) PutNetworkSession(ns *mockserver.NetworkSession) error {
	return t.put(tableNetworkSession, ns.Token, ns)
}

// idempotencyID joins scope and key; the NUL byte cannot occur in either (headers cannot carry it).
func idempotencyID(scope, key string) string { return scope + "\x00" + key }

func (t *tx) Idempotent(scope, key string) (*mockserver.IdempotencyRecord, error) {
	obj, err := t.get(tableIdempotency, idempotencyID(scope, key))
	if err != nil {
		return nil, err
	}
	return obj.(*mockserver.IdempotencyRecord), nil
}

func (t *tx) PutIdempotent(r *mockserver.IdempotencyRecord) error {
	return t.put(tableIdempotency, idempotencyID(r.Scope, r.Key), r)
}

// queue is a FIFO of ids in insertion order.
type queue struct {
	ids  []string
	head int
}

func (q *queue) push(id string) { q.ids = append(q.ids, id) }

func (q *queue) len() int { return len(q.ids) - q.head }

// pop removes and returns the oldest id, compacting the backing array once half of it is spent
// so memory stays proportional to the live ids.
func (q *queue) pop() string {
	id := q.ids[q.head]
	q.ids[q.head] = ""
	q.head++
	if q.head > len(q.ids)/2 {
		q.ids = append(q.ids[:0:0], q.ids[q.head:]...)
		q.head = 0
	}
	return id
}
