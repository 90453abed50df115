package postgres

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// kind is one kind of stored object: its name in the kind column, and what the quota error calls
// its objects. The names are memdb's table names, which Count and Totals report.
type kind struct{ name, what string }

var (
	kindPaymentRequest     = kind{"payment_request", "payment requests"}
	kindPaymentTransaction = kind{"payment_transaction", "payment transactions"}
	kindCustomerToken      = kind{"customer_token", "customer tokens"}
	kindNetworkSession     = kind{"network_session", "network session tokens"}
	kindIdempotency        = kind{"idempotency", "idempotency keys"}
	kindSigningKey         = kind{"notification_signing_key", "signing keys"}
	kindWebhook            = kind{"notification_webhook", "webhooks"}
	kindDelivery           = kind{"notification_delivery", "webhook deliveries"}
)

// allKinds lists every kind, in the order Totals reports them.
var allKinds = []kind{
	kindPaymentRequest, kindPaymentTransaction, kindCustomerToken, kindNetworkSession,
	kindIdempotency, kindSigningKey, kindWebhook, kindDelivery,
}

// kindNames lists the names of every kind.
func kindNames() []string {
	names := make([]string, len(allKinds))
	for i, k := range allKinds {
		names[i] = k.name
	}
	return names
}

// kindNamed returns the kind of the name, or one naming itself for a name the mock does not
// know, so that an error about it still reads.
func kindNamed(name string) kind {
	for _, k := range allKinds {
		if k.name == name {
			return k
		}
	}
	return kind{name: name, what: name + " objects"}
}

// live is the done_at of an object that never finishes: it sorts after every finished one.
const live = math.MaxInt64

// doneKey turns a DoneAt into done_at: Unix nanoseconds, live for the zero time. The mock's
// clocks stay within the years Unix nanoseconds hold (1678 to 2262).
func doneKey(t time.Time) int64 {
	if t.IsZero() {
		return live
	}
	return t.UnixNano()
}

// tenantOf returns the tenant of an account id: the simulator's objects are stored under a scope
// (mockserver.Scope), the webhook package's under the tenant itself. Bounding by tenant keeps a
// tenant from multiplying its quota with made-up partner account ids.
func tenantOf(accountID string) string {
	tenant, _ := mockserver.SplitScope(accountID)
	return tenant
}

// scoped joins an account, or an idempotency scope, and an id into one object id; a newline
// occurs in neither (HTTP headers cannot carry one), and PostgreSQL's text cannot hold the NUL
// byte memdb joins them with.
func scoped(prefix, id string) string { return prefix + "\n" + id }

var errReadOnly = errors.New("postgres: write in a read transaction")

// tx implements mockserver.Tx on one database transaction.
type tx struct {
	s     *Store
	c     *session
	write bool
	// locked lists the tenants whose advisory lock the transaction holds.
	locked []string
	// emitted counts, per owner, the events the transaction recorded in the outbox (Emit).
	emitted []*emission
}

// lock takes the tenant's advisory lock, held until the transaction ends, unless the transaction
// is read-only or holds it already; the lock goes to the server with the next statement, which
// runs once it is taken. It reports whether it took it now.
func (t *tx) lock(tenant string) (bool, error) {
	if !t.write || slices.Contains(t.locked, tenant) {
		return false, nil
	}
	if err := t.c.lock(tenant); err != nil {
		return false, dbError(err)
	}
	t.locked = append(t.locked, tenant)
	return true, nil
}

// stored is one row of objects as a lookup reads it.
type stored struct {
	tenant, account string
	body            []byte
}

// read returns the row of kind k stored under id, or mockserver.ErrNotFound.
func (t *tx) read(k kind, id string) (stored, error) {
	var r stored
	err := t.c.queryRow(`SELECT tenant, account, body FROM objects WHERE kind = $1 AND id = $2`, k.name, id).
		Scan(&r.tenant, &r.account, &r.body)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, mockserver.ErrNotFound
	}
	return r, dbError(err)
}

// lookup returns the row of kind k stored under id. In a write transaction the tenant is locked
// before the row is read, so the row is the one the last writer committed: tenant names it when
// the caller knows it; otherwise the row is read, its tenant locked and the row read again.
func (t *tx) lookup(k kind, tenant, id string) (stored, error) {
	if tenant != "" {
		if _, err := t.lock(tenant); err != nil {
			return stored{}, err
		}
		return t.read(k, id)
	}
	r, err := t.read(k, id)
	if err != nil {
		return r, err
	}
	if took, err := t.lock(r.tenant); err != nil || !took {
		return r, err
	}
	return t.read(k, id)
}

// get returns the object of kind k stored under id if mine accepts the row, or
// mockserver.ErrNotFound: objects of other accounts are not found.
func get[E any](t *tx, k kind, tenant, id string, mine func(stored) bool) (*E, error) {
	r, err := t.lookup(k, tenant, id)
	if err != nil {
		return nil, err
	}
	if !mine(r) {
		return nil, mockserver.ErrNotFound
	}
	return decode[E](r.body)
}

// decode reads an object as encode wrote it.
func decode[E any](body []byte) (*E, error) {
	v := new(E)
	if pr, ok := any(v).(*mockserver.PaymentRequest); ok {
		var w storedRequest
		if err := msgpack.Unmarshal(body, &w); err != nil || w.Request == nil {
			return nil, fmt.Errorf("postgres: decoding a stored payment request: %v", err)
		}
		inUTC(reflect.ValueOf(&w))
		*pr = *w.Request
		if w.Initial != nil {
			pr.SetInitialRequest(w.Initial)
		}
		return v, nil
	}
	if err := msgpack.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("postgres: decoding a stored %T: %w", v, err)
	}
	inUTC(reflect.ValueOf(v))
	return v, nil
}

var timeType = reflect.TypeFor[time.Time]()

// inUTC sets every time reachable from v through exported fields, pointers and slices to UTC,
// the location the mock's clock gives: MessagePack keeps the instant but reads it back in the
// local zone, which would show in the JSON the mock answers.
func inUTC(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			inUTC(v.Elem())
		}
	case reflect.Slice:
		for i := range v.Len() {
			inUTC(v.Index(i))
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			}
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				inUTC(v.Field(i))
			}
		}
	}
}

// hasInitial reports whether the request was given an initial authorize: InitialRequest fails
// on one that was not (a request stored by a test, say), so the packed field's length decides.
func hasInitial(pr *mockserver.PaymentRequest) bool {
	f := reflect.ValueOf(pr).Elem().FieldByName("initial")
	return !f.IsValid() || f.Len() > 0
}

// storedRequest is how a Payment Request is stored: its exported fields, and the initial
// authorize it keeps packed in an unexported field (nil when it has none), whose packed form
// suits one process only (mockserver/packed.go).
type storedRequest struct {
	Request *mockserver.PaymentRequest
	Initial *mockserver.AuthorizeRequest
}

// encode writes an object with MessagePack, which keeps every exported field whatever its JSON
// tag says, tells a nil slice or map from an empty one, and reads times back in UTC. Unexported
// fields are not written: TestStoredTypesHideNothing checks the stored types have none beyond the
// Payment Request's initial authorize, which storedRequest carries.
func encode(obj any) ([]byte, error) {
	if pr, ok := obj.(*mockserver.PaymentRequest); ok {
		w := storedRequest{Request: pr}
		if hasInitial(pr) {
			w.Initial = pr.InitialRequest()
		}
		obj = w
	}
	b, err := msgpack.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("postgres: encoding %T: %w", obj, err)
	}
	return b, nil
}

// removeSQL deletes one object of a tenant and uncounts it, answering how many it deleted.
const removeSQL = `
WITH gone AS (
	DELETE FROM objects WHERE kind = $1 AND id = $2 AND tenant = $3 RETURNING 1
), counted AS (
	UPDATE tenant_counts SET n = n - (SELECT count(*) FROM gone) WHERE tenant = $3 AND kind = $1
)
SELECT count(*) FROM gone`

// putConflictSQL ends the insert of a put (putSQL, putsSQL): a replacement keeps seq, and keeps
// ver while done_at stays the same; an id of another tenant's is left alone, so the insert
// answers no row for it.
const putConflictSQL = `
	ON CONFLICT (kind, id) DO UPDATE
		SET account = excluded.account, parent = excluded.parent, done_at = excluded.done_at,
			body = excluded.body,
			ver = CASE WHEN o.done_at = excluded.done_at THEN o.ver ELSE excluded.ver END
		WHERE o.tenant = excluded.tenant
	RETURNING o.xmax = 0 AS inserted`

// putSQL stores an object and keeps the tenant's count of its kind, as put_object (migration
// 0001) does, in one plain statement: a replacement keeps seq, and keeps ver while done_at stays
// the same. make_room (migration 0007) runs only when the id is another tenant's or the new
// object is beyond the quota ($8, by the tenant's now $9).
const putSQL = `
WITH put AS (
	INSERT INTO objects AS o (kind, id, tenant, account, parent, done_at, body)
	VALUES ($1, $2, $3, $4, $5, $6, $7)` + putConflictSQL + `
), counted AS (
	INSERT INTO tenant_counts AS c (tenant, kind, n) SELECT $3, $1, 1 FROM put WHERE inserted
	ON CONFLICT (tenant, kind) DO UPDATE SET n = c.n + 1
	RETURNING n
)
SELECT make_room($1, $2, $3, $8, $9, r.refused)
FROM (SELECT NOT EXISTS (SELECT FROM put) AS refused, (SELECT n FROM counted) AS n) r
WHERE r.refused OR r.n > $8`

// put stores obj under id for the tenant of owner (an account id or a tenant); parent is the
// webhook of a delivery. Replacing an object keeps its place in the quota; a new object in a full
// table takes the place of the tenant's object of the kind that finished first, or fails the
// transaction with mockserver.QuotaExceeded. The database does all of it in one statement, so the
// statement (putSQL) goes with the next one, and a refusal is the error of that statement, or of
// the commit: either way the transaction stores nothing.
func (t *tx) put(k kind, owner, id, parent string, obj mockserver.Retained) error {
	if !t.write {
		return errReadOnly
	}
	tenant := tenantOf(owner)
	if _, err := t.lock(tenant); err != nil {
		return err
	}
	body, err := encode(obj)
	if err != nil {
		return err
	}
	return dbError(t.c.hold(putSQL,
		k.name, id, tenant, owner, parent, doneKey(obj.DoneAt()), body, t.s.max, doneKey(t.s.now(tenant))))
}

// remove deletes the tenant's object of kind k stored under id, or returns mockserver.ErrNotFound.
func (t *tx) remove(k kind, tenant, id string) error {
	var n int
	if err := t.c.queryRow(removeSQL, k.name, id, tenant).Scan(&n); err != nil {
		return dbError(err)
	}
	if n == 0 {
		return mockserver.ErrNotFound
	}
	return nil
}

// ofAccount accepts rows of the account.
func ofAccount(accountID string) func(stored) bool {
	return func(r stored) bool { return r.account == accountID }
}

func (t *tx) PaymentRequest(accountID, id string) (*mockserver.PaymentRequest, error) {
	return get[mockserver.PaymentRequest](t, kindPaymentRequest, tenantOf(accountID), id, func(r stored) bool {
		return accountID == "" || r.account == accountID
	})
}

func (t *tx) PutPaymentRequest(pr *mockserver.PaymentRequest) error {
	return t.put(kindPaymentRequest, pr.AccountID, pr.PaymentRequestID, "", pr)
}

func (t *tx) PaymentTransaction(accountID, id string) (*mockserver.PaymentTransaction, error) {
	return get[mockserver.PaymentTransaction](t, kindPaymentTransaction, tenantOf(accountID), id, ofAccount(accountID))
}

func (t *tx) PutPaymentTransaction(tr *mockserver.PaymentTransaction) error {
	return t.put(kindPaymentTransaction, tr.AccountID, tr.PaymentTransactionID, "", tr)
}

func (t *tx) CustomerToken(accountID, token string) (*mockserver.CustomerToken, error) {
	return get[mockserver.CustomerToken](t, kindCustomerToken, tenantOf(accountID), token, ofAccount(accountID))
}

func (t *tx) PutCustomerToken(ct *mockserver.CustomerToken) error {
	return t.put(kindCustomerToken, ct.AccountID, ct.Token, "", ct)
}

func (t *tx) NetworkSession(accountID, token string) (*mockserver.NetworkSession, error) {
	return get[mockserver.NetworkSession](t, kindNetworkSession, tenantOf(accountID), token, ofAccount(accountID))
}

func (t *tx) PutNetworkSession(ns *mockserver.NetworkSession) error {
	return t.put(kindNetworkSession, ns.AccountID, ns.Token, "", ns)
}

// Idempotent returns the record stored for the key; the scope already isolates tenants, and the
// record's row names the tenant to lock.
func (t *tx) Idempotent(scope, key string) (*mockserver.IdempotencyRecord, error) {
	return get[mockserver.IdempotencyRecord](t, kindIdempotency, "", scoped(scope, key), func(stored) bool { return true })
}

// PutIdempotent stores the record under its tenant's quota.
func (t *tx) PutIdempotent(r *mockserver.IdempotencyRecord) error {
	if !t.write {
		return errReadOnly
	}
	if _, err := t.lock(tenantOf(r.Tenant)); err != nil {
		return err
	}
	if err := t.claimKey(r); err != nil {
		return err
	}
	return t.put(kindIdempotency, r.Tenant, scoped(r.Scope, r.Key), "", r)
}

// scanAll runs a query answering rows of one column (an object's body, or a text) or two (the
// kind and the body), and decodes each with dec, which is given the kind when the query answers
// it.
func scanAll[T any](t *tx, q string, dec func(kind string, body []byte) (T, error), args ...any) ([]T, error) {
	rows, err := t.c.query(q, args...)
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var k string
		var body []byte
		dest := []any{&body}
		if len(rows.FieldDescriptions()) == 2 {
			dest = []any{&k, &body}
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, dbError(err)
		}
		v, err := dec(k, body)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, dbError(rows.Err())
}

// stateKinds are the kinds mockserver.Tx stores; the others are the webhook package's.
var stateKinds = []string{
	kindPaymentRequest.name, kindPaymentTransaction.name, kindCustomerToken.name,
	kindNetworkSession.name, kindIdempotency.name,
}

// Objects lists the tenant's objects of the simulator's kinds in the order they were first
// stored.
func (t *tx) Objects(tenant string) ([]mockserver.Retained, error) {
	if _, err := t.lock(tenant); err != nil {
		return nil, err
	}
	return scanAll(t, `SELECT kind, body FROM objects WHERE tenant = $1 AND kind = ANY($2) ORDER BY seq`,
		decodeRetained, tenant, stateKinds)
}

// decodeRetained decodes an object of one of the simulator's kinds.
func decodeRetained(k string, body []byte) (mockserver.Retained, error) {
	switch k {
	case kindPaymentRequest.name:
		return decode[mockserver.PaymentRequest](body)
	case kindPaymentTransaction.name:
		return decode[mockserver.PaymentTransaction](body)
	case kindCustomerToken.name:
		return decode[mockserver.CustomerToken](body)
	case kindNetworkSession.name:
		return decode[mockserver.NetworkSession](body)
	case kindIdempotency.name:
		return decode[mockserver.IdempotencyRecord](body)
	}
	return nil, fmt.Errorf("postgres: no such kind %q", k)
}

// DeleteTenant removes every object of the tenant, of every kind, the webhook package's included,
// its saved settings, its claims, its events waiting in the outbox, its faults and its journal.
func (t *tx) DeleteTenant(tenant string) error {
	if !t.write {
		return errReadOnly
	}
	if _, err := t.lock(tenant); err != nil {
		return err
	}
	if err := errors.Join(t.c.hold(`DELETE FROM objects WHERE tenant = $1`, tenant),
		t.c.hold(`DELETE FROM tenant_settings WHERE tenant = $1`, tenant),
		t.c.hold(`DELETE FROM claims WHERE tenant = $1`, tenant),
		t.c.hold(`DELETE FROM outbox WHERE tenant = $1`, tenant),
		t.c.hold(`DELETE FROM journal WHERE tenant = $1`, tenant),
		t.c.hold(`SELECT forget_faults($1)`, tenant)); err != nil {
		return dbError(err)
	}
	return dbError(t.c.exec(`DELETE FROM tenant_counts WHERE tenant = $1`, tenant))
}
