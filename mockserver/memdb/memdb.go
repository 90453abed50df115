// Package memdb keeps the simulator's state in memory with hashicorp/go-memdb.
//
// One go-memdb table holds the records of every kind, each carrying its key (a hash of the id,
// the kind, the id: index.go), the owning tenant and the immutable domain object. The mock is
// shared by many tenants, so the store bounds each one on its own: a tenant holds at most
// Config.MaxObjectsPerTenant objects of each kind. When a tenant's objects of a kind fill the
// quota, a new object takes the place of that tenant's object of the kind that finished first
// (see mockserver.Retained), provided one has finished by the tenant's now; otherwise the write
// fails with mockserver.QuotaExceeded. Prune removes finished objects once Config.Retention has
// passed on their tenant's clock. Nothing a tenant does touches another tenant's objects.
//
// Per-tenant quotas alone bound memory only as the quota times the number of tenants, so the store
// also holds at most Config.MaxObjectsTotal objects of all kinds and tenants together, a budget
// shared fairly: a tenant's fair share is the budget divided by the tenants holding objects (the
// caller counted among them) plus one, the share kept for a tenant yet to come. Any tenant may add
// an object while more than a fair share of the budget is free; once less is free, only a tenant
// holding less than its fair share may, so heavy tenants cannot take the room the others need (a
// lone tenant fills half the budget). A tenant the budget refuses makes room from its own finished
// objects, the one that finished first, of any kind; without one the write fails with a 429
// QUOTA_EXCEEDED naming the budget's flag. The budget never drops another tenant's object.
//
// The bookkeeping sits beside go-memdb and changes only under the write lock, undone when a
// transaction aborts: per tenant and kind, a count and a min-heap of (DoneAt, version, id) holding
// an entry for every object, finished or not. An entry is stale once its record is gone or was
// given another version (which happens when its DoneAt changes); stale entries are skipped when
// they reach the top and dropped when the heap grows past twice the live count, so finding the
// object to drop costs O(log n) however full the tenant is. Since the heaps list every object,
// they are also how Objects finds a tenant's objects without scanning the other tenants'.
//
// Writers that arrive while another writes are run together, one after the other, in one go-memdb
// write transaction and one commit (group commit, Store.update); each stays atomic on its own, a
// failed one's changes undone within the batch.
package memdb

import (
	"cmp"
	"errors"
	"fmt"
	"hash/maphash"
	"maps"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-memdb"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// kind is one kind of stored object, an index into kinds.
type kind int

const (
	kindPaymentRequest kind = iota
	kindPaymentTransaction
	kindCustomerToken
	kindNetworkSession
	kindIdempotency
	kindSigningKey
	kindWebhook
	kindDelivery
	numKinds
)

// kinds names each kind (as Count and Totals report it) and, for the quota error, its objects.
var kinds = [numKinds]struct{ name, what string }{
	kindPaymentRequest:     {"payment_request", "payment requests"},
	kindPaymentTransaction: {"payment_transaction", "payment transactions"},
	kindCustomerToken:      {"customer_token", "customer tokens"},
	kindNetworkSession:     {"network_session", "network session tokens"},
	kindIdempotency:        {"idempotency", "idempotency keys"},
	kindSigningKey:         {"notification_signing_key", "signing keys"},
	kindWebhook:            {"notification_webhook", "webhooks"},
	kindDelivery:           {"notification_delivery", "webhook deliveries"},
}

// Defaults of Config.
const (
	DefaultMaxPerTenant = 5000
	DefaultRetention    = 24 * time.Hour
	// DefaultMaxTotal is the default budget of all tenants together: 20,000 objects, about
	// 40 MiB of live heap for typical ones (bench/README.md), which with the journal's bound
	// fits klarna-mock's default soft memory limit with room for the collector.
	DefaultMaxTotal = 20_000
)

// quotaFlag is the klarna-mock flag that sets Config.MaxObjectsPerTenant; the quota error names it.
const quotaFlag = "--max-objects"

// budgetFlag is the klarna-mock flag that sets Config.MaxObjectsTotal.
const budgetFlag = "--max-objects-total"

// compactSlack is how many stale heap entries a shelf may hold beyond its live count before it is
// compacted, so that small shelves are not rebuilt on every change.
const compactSlack = 64

// Config bounds the store.
type Config struct {
	// MaxObjectsPerTenant is how many objects of each kind one tenant may hold; 0 means
	// DefaultMaxPerTenant.
	MaxObjectsPerTenant int
	// MaxObjectsTotal is how many objects of all kinds the store holds for all tenants together,
	// shared fairly between them (see the package doc); 0 means DefaultMaxTotal.
	MaxObjectsTotal int
	// Retention is how long a finished object is kept after its DoneAt, on its tenant's clock,
	// before Prune removes it; 0 means DefaultRetention.
	Retention time.Duration
	// Clock is the base clock; a tenant's now is Clock.Tenant(tenant).Now(). Nil means the wall
	// clock for every tenant.
	Clock *clock.Clock
}

// record is the one shape stored in the table; neither it nor Obj is mutated after insertion.
type record struct {
	// key is the record's key in the table (Store.key of its kind and id).
	key    []byte
	Tenant string
	// Seq orders records by creation: a replaced record keeps it.
	Seq uint64
	// Ver names the heap entry that stands for this record: a replacement keeps it while DoneAt
	// stays the same and gets a new one, with a new entry, when DoneAt changes.
	Ver uint64
	Obj mockserver.Retained
}

// Store is a mockserver.Store backed by go-memdb.
type Store struct {
	db        *memdb.MemDB
	max       int
	maxTotal  int
	retention time.Duration
	clock     *clock.Clock
	// seed keys the hash that starts every key (Store.key).
	seed maphash.Seed
	// commits counts the committed write transactions; a read transaction notes it when it
	// starts, which is how Objects knows whether the bookkeeping still lists every object of its
	// snapshot.
	commits atomic.Uint64
	// mu serializes write transactions (as go-memdb does anyway) so that the bookkeeping changes
	// together with the data.
	mu      sync.Mutex
	seq     uint64
	tenants map[string]*books
	// total is how many objects the store holds, of every tenant and kind.
	total int
	// w is the write transaction of the running batch, under mu. Each batch starts it afresh
	// but keeps the room of its lists, as written keeps its own, so that a typical write
	// allocates none of them.
	w tx
	// written maps what the running batch has stored under a kind and id (nil: deleted), which
	// its reads see before the snapshot the batch began on (tx.find).
	written map[ref]*record
	// forgotten is the number of the last write transaction that dropped a tenant's books (tidy).
	forgotten uint64

	// The writers waiting, committed together (update): qmu guards queue, leading, which says
	// a writer is running a batch or about to, and busy, which says the last batch ran more
	// than one; spare is the room of the batch before, which queue takes next; calls holds the
	// callers' pending calls for reuse.
	qmu     sync.Mutex
	queue   []*call
	spare   []*call
	leading bool
	busy    bool
	calls   sync.Pool

	// readers holds read transactions for View to reuse.
	readers sync.Pool
}

// books is a tenant's bookkeeping, one shelf per kind.
type books [numKinds]shelf

// shelf is the bookkeeping of one tenant's objects of one kind.
type shelf struct {
	count int
	heap  doneHeap
	// removed is the number of the last write transaction that removed one of the objects, or
	// would have, had it committed.
	removed uint64
}

// New returns an empty store bounded by cfg.
func New(cfg Config) (*Store, error) {
	if cfg.MaxObjectsPerTenant <= 0 {
		cfg.MaxObjectsPerTenant = DefaultMaxPerTenant
	}
	if cfg.MaxObjectsTotal <= 0 {
		cfg.MaxObjectsTotal = DefaultMaxTotal
	}
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	schema := &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{table: {
		Name:    table,
		Indexes: map[string]*memdb.IndexSchema{"id": {Name: "id", Unique: true, Indexer: keyIndex{}}},
	}}}
	db, err := memdb.NewMemDB(schema)
	if err != nil {
		return nil, fmt.Errorf("memdb schema: %w", err)
	}
	return &Store{
		// The store works on a snapshot of the database, which unlike the database itself does
		// not track its changes for watch channels: nothing here watches, and the tracking costs
		// a map and a channel close for each node a write copies.
		db:        db.Snapshot(),
		max:       cfg.MaxObjectsPerTenant,
		maxTotal:  cfg.MaxObjectsTotal,
		retention: cfg.Retention,
		clock:     cfg.Clock,
		seed:      maphash.MakeSeed(),
		tenants:   map[string]*books{},
	}, nil
}

// now is the tenant's time.
func (s *Store) now(tenant string) time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock.Tenant(tenant).Now()
}

// View runs fn in a read-only transaction on a consistent snapshot.
func (s *Store) View(fn func(mockserver.Tx) error) error {
	// The count is read first: the snapshot is of that transaction or a later one.
	seen := s.commits.Load()
	txn := s.db.Txn(false)
	defer txn.Abort()
	// The transaction is one the readers before used, since a Tx is for the length of fn only.
	t, _ := s.readers.Get().(*tx)
	if t == nil {
		t = new(tx)
	}
	*t = tx{s: s, txn: txn, seen: seen}
	defer s.release(t)
	return fn(t)
}

// release gives a read transaction back for reuse, holding nothing of its snapshot.
func (s *Store) release(t *tx) {
	*t = tx{}
	s.readers.Put(t)
}

// Update runs fn in a write transaction, committed only when fn returns nil.
func (s *Store) Update(fn func(mockserver.Tx) error) error {
	return s.update(call{fn: fn})
}

// call is one caller's function waiting for, or run in, a batch: fn or, for the store's own
// callers, inner; err and panicked are its outcome, handed back through done (true: the caller
// is to lead the next batch instead).
type call struct {
	fn       func(mockserver.Tx) error
	inner    func(*tx) error
	err      error
	panicked any
	done     chan bool
}

// errAborted is the outcome of the calls of a batch whose transaction was dropped as a whole.
var errAborted = errors.New("memdb: the write transaction was aborted")

// update runs c's function in a write transaction, committed only when it returns nil. When it
// fails (or panics) the data and the bookkeeping are both left as they were, and the panic goes
// on in the caller.
//
// Writers that arrive while another runs a batch wait, and the next batch runs them all in one
// go-memdb transaction and one commit: its fixed costs (go-memdb's transactions and their caches
// of copied nodes, the commit of its root, the nodes near the top of the tree the writes share)
// are paid once for all. A call that fails has its changes undone within the batch (tx.run), so
// each stays atomic on its own, and every caller returns once the commit its writes are in is
// done. Under load the writers do queue: goroutines that outnumber the cores reach Update while
// one is writing (BenchmarkParallelUpdate).
func (s *Store) update(c call) error {
	p, _ := s.calls.Get().(*call)
	if p == nil {
		p = &call{done: make(chan bool, 1)}
	}
	p.fn, p.inner = c.fn, c.inner
	s.qmu.Lock()
	s.queue = append(s.queue, p)
	lead := !s.leading
	s.leading = true
	yield := lead && s.busy
	s.qmu.Unlock()
	if yield {
		// A writer that found nobody writing while writers come together lets the goroutines
		// ready to run go first, so that those about to write join its batch: with the whole
		// authorize handler run from 32 goroutines on two cores, batches averaged 2 writes
		// without this and 6 with it. A lone writer does not yield, which would cost it more
		// than its write (waking the idle core).
		runtime.Gosched()
	}
	if lead || <-p.done {
		s.lead(p)
	}
	err, panicked := p.err, p.panicked
	*p = call{done: p.done}
	s.calls.Put(p)
	if panicked != nil {
		panic(panicked)
	}
	return err
}

// lead runs the calls queued, self's among them, as one batch.
func (s *Store) lead(self *call) {
	s.qmu.Lock()
	batch := s.queue
	s.queue = s.spare[:0]
	s.busy = len(batch) > 1
	s.qmu.Unlock()
	// Deferred, so that a call ending the goroutine (runtime.Goexit, as testing's FailNow does)
	// leaves no caller waiting.
	defer s.handOn(self, batch)
	s.run(batch)
}

// handOn hands each caller of the batch but self its outcome, and the lead to the first caller
// queued since, if any.
func (s *Store) handOn(self *call, batch []*call) {
	for _, c := range batch {
		if c != self {
			c.done <- false
		}
	}
	clear(batch)
	s.qmu.Lock()
	s.spare = batch[:0]
	var next *call
	if len(s.queue) > 0 {
		next = s.queue[0]
	} else {
		s.leading = false
	}
	s.qmu.Unlock()
	if next != nil {
		next.done <- true
	}
}

// run runs the batch's calls in one write transaction and commits what those that succeeded
// stored. Should the transaction be dropped as a whole (a call's changes could not be undone, or
// a call ended its goroutine), every call of the batch fails.
func (s *Store) run(batch []*call) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &s.w
	*t = tx{s: s, txn: s.db.Txn(true), write: true, undo: t.undo, touched: t.touched, writes: t.writes, batched: len(batch) > 1}
	if s.written == nil {
		s.written = map[ref]*record{}
	}
	var broken error
	committed := false
	defer func() {
		if !committed {
			t.txn.Abort()
			t.rollback(0)
			for _, c := range batch {
				if c.err == nil && c.panicked == nil {
					c.err = cmp.Or(broken, errAborted)
				}
			}
		}
		t.tidy()
		if len(s.written) > reuseCap {
			s.written = nil
		}
		clear(s.written)
		t.undo, t.touched, t.writes = reuse(t.undo), reuse(t.touched), reuse(t.writes)
		t.txn, t.base = nil, nil
	}()
	stored := false
	for _, c := range batch {
		ok, err := t.run(c)
		if err != nil {
			broken = err
			return
		}
		stored = stored || ok
	}
	if !stored {
		return
	}
	t.txn.Commit()
	s.commits.Add(1)
	committed = true
}

// reuseCap is the most room reuse keeps: what a large transaction (an import, a prune, a tenant
// forgotten) needed is given back rather than held for good.
const reuseCap = 64

// reuse returns buf emptied, its elements cleared so they hold nothing alive, for the next
// transaction.
func reuse[T any](buf []T) []T {
	if cap(buf) > reuseCap {
		return nil
	}
	clear(buf)
	return buf[:0]
}

// Prune removes every finished object whose DoneAt lies Retention or more before its tenant's
// now, and reports how many it removed. It runs one write transaction per tenant, so a writer
// waits for at most one tenant's share; it is meant for one background loop, never the request
// path.
func (s *Store) Prune() (removed int, err error) {
	s.mu.Lock()
	tenants := slices.Collect(maps.Keys(s.tenants))
	s.mu.Unlock()
	for _, tenant := range tenants {
		cutoff := doneKey(s.now(tenant).Add(-s.retention))
		n := 0
		err := s.update(call{inner: func(t *tx) error {
			var doomed []held
			for k := range numKinds {
				sh := t.shelf(tenant, k)
				for len(sh.heap) > 0 && sh.heap[0].at <= cutoff {
					var err error
					if doomed, err = t.resolve(doomed, k, sh, t.pop(sh)); err != nil {
						return err
					}
				}
			}
			n = len(doomed)
			return t.removeAll(doomed)
		}})
		if err != nil {
			return removed, err
		}
		removed += n
	}
	return removed, nil
}

// ForgetTenant removes every object of the tenant, live or finished, in one transaction.
func (s *Store) ForgetTenant(tenant string) error {
	return s.update(call{inner: func(t *tx) error { return t.DeleteTenant(tenant) }})
}

// Count reports how many objects of each kind the tenant holds, keyed by kind name
// (payment_request, payment_transaction, customer_token, network_session, idempotency,
// notification_signing_key, notification_webhook, notification_delivery); kinds it holds none of
// are left out.
func (s *Store) Count(tenant string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	if b := s.tenants[tenant]; b != nil {
		for k := range b {
			if n := b[k].count; n > 0 {
				out[kinds[k].name] = n
			}
		}
	}
	return out
}

// Totals reports how many objects of each kind the store holds for all tenants together, keyed
// by kind name as Count is; every kind is listed, held or not, so that a metric of each stays
// continuous.
func (s *Store) Totals() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, numKinds)
	for _, k := range kinds {
		out[k.name] = 0
	}
	for _, b := range s.tenants {
		for k := range b {
			out[kinds[k].name] += b[k].count
		}
	}
	return out
}

// next returns a fresh sequence number; the caller holds mu.
func (s *Store) next() uint64 {
	s.seq++
	return s.seq
}

// compact rebuilds the shelf's heap from the entries still valid in the committed data; the caller
// holds mu. An entry that cannot be checked is kept: the heap stays correct, only larger.
func (s *Store) compact(k kind, sh *shelf) {
	t := &tx{s: s, txn: s.db.Txn(false)}
	defer t.txn.Abort()
	valid := make(doneHeap, 0, sh.count)
	for _, e := range sh.heap {
		if rec, err := t.current(k, e); rec != nil || err != nil {
			valid = append(valid, e)
		}
	}
	valid.init()
	sh.heap = valid
}

// tx implements mockserver.Tx on a go-memdb transaction, for one goroutine.
type tx struct {
	s     *Store
	txn   *memdb.Txn
	write bool
	// seen is, in a read transaction, how many write transactions had committed when it started.
	seen uint64
	// undo lists the bookkeeping changes made so far, reverted if the transaction aborts. Entries
	// pushed need no undoing: without their record they are stale.
	undo []change
	// touched lists the tenants whose bookkeeping the transaction used.
	touched []string
	// batched says the write transaction runs a batch of several calls. Then writes lists what
	// it changed in the table, for undoing a failed call's changes (tx.unwrite), and dirty says
	// there is any; base is a read transaction of the snapshot the batch began on, which lookups
	// read once the batch has written (tx.find). A lone call's changes are dropped with its
	// transaction.
	batched bool
	writes  []write
	dirty   bool
	base    *memdb.Txn
	// probe, args and buf are a lookup's argument to go-memdb, kept here so that a lookup
	// allocates nothing: args holds &probe, whose key is built in buf.
	probe probe
	args  [1]any
	buf   [96]byte
}

// change is one bookkeeping change: a count moved by delta, or, with popped, an entry taken off
// the heap.
type change struct {
	sh     *shelf
	delta  int
	popped bool
	e      entry
}

var errReadOnly = errors.New("memdb: write in a read transaction")

// shelf returns the tenant's shelf of kind k, creating the tenant's books on first use.
func (t *tx) shelf(tenant string, k kind) *shelf {
	b := t.s.tenants[tenant]
	if b == nil {
		b = new(books)
		t.s.tenants[tenant] = b
	}
	if !slices.Contains(t.touched, tenant) {
		t.touched = append(t.touched, tenant)
	}
	return &b[k]
}

func (t *tx) count(sh *shelf, delta int) {
	if delta < 0 {
		sh.removed = t.number()
	}
	sh.count += delta
	t.s.total += delta
	t.undo = append(t.undo, change{sh: sh, delta: delta})
}

func (t *tx) pop(sh *shelf) entry {
	e := sh.heap.pop()
	t.undo = append(t.undo, change{sh: sh, popped: true, e: e})
	return e
}

// number is the write transaction's number among the committed ones, once it commits.
func (t *tx) number() uint64 { return t.s.commits.Load() + 1 }

// rollback reverts the bookkeeping changes from the from-th on, those of an aborted transaction
// or of a failed call.
func (t *tx) rollback(from int) {
	for _, c := range slices.Backward(t.undo[from:]) {
		c.sh.count -= c.delta
		t.s.total -= c.delta
		if c.popped {
			c.sh.heap.push(c.e)
		}
	}
	t.undo = t.undo[:from]
}

// ref names a stored object by kind and id.
type ref struct {
	k  kind
	id string
}

// write is one change a write transaction made to the table: after (nil: deleted) stored under
// ref in place of before (nil: none), and whether the batch had changed ref already, when before
// is what its earlier change stored.
type write struct {
	ref           ref
	before, after *record
	again         bool
}

// run runs c's function in the write transaction and reports whether it succeeded. When it
// fails or panics in a batch of several calls, what it changed in the table and in the
// bookkeeping is undone, so the others commit without it (a lone call's transaction is aborted
// instead); the error is one of that undoing.
func (t *tx) run(c *call) (ok bool, err error) {
	undo, writes := len(t.undo), len(t.writes)
	defer func() {
		if r := recover(); r != nil {
			c.panicked = r
		}
		if (c.err != nil || c.panicked != nil) && t.batched {
			t.rollback(undo)
			err = t.unwrite(writes)
		}
	}()
	if c.fn != nil {
		c.err = c.fn(t)
	} else {
		c.err = c.inner(t)
	}
	return c.err == nil, nil
}

// wrote notes, in a batch of several calls, that after (nil: a deletion) took before's place
// under r.
func (t *tx) wrote(r ref, before, after *record) {
	_, again := t.s.written[r]
	t.s.written[r] = after
	t.writes = append(t.writes, write{ref: r, before: before, after: after, again: again})
	t.dirty = true
}

// unwrite puts back what the table held before the from-th change and those after it.
func (t *tx) unwrite(from int) error {
	for _, w := range slices.Backward(t.writes[from:]) {
		var err error
		if w.before != nil {
			err = t.txn.Insert(table, w.before)
		} else {
			err = t.txn.Delete(table, w.after)
		}
		if err != nil {
			return err
		}
		if w.again {
			t.s.written[w.ref] = w.before
		} else {
			delete(t.s.written, w.ref)
		}
	}
	t.writes = t.writes[:from]
	return nil
}

// tidy drops the books of touched tenants that hold nothing any more, and compacts heaps grown
// past twice their live count (or left with far more room than they use after a prune).
func (t *tx) tidy() {
	for _, tenant := range t.touched {
		b := t.s.tenants[tenant]
		empty := true
		for k := range b {
			sh := &b[k]
			switch {
			case sh.count == 0:
				sh.heap = nil
			case len(sh.heap) > 2*sh.count+compactSlack || cap(sh.heap) > 4*sh.count+compactSlack:
				t.s.compact(kind(k), sh)
			}
			empty = empty && sh.count == 0
		}
		if empty {
			delete(t.s.tenants, tenant)
			t.s.forgotten = t.number()
		}
	}
}

// withProbe returns go-memdb's arguments for a lookup or a prefix scan of key.
func (t *tx) withProbe(key []byte) []any {
	t.probe.key = key
	t.args[0] = &t.probe
	return t.args[:]
}

// find returns the record of kind k stored under id, whose key is key, or
// mockserver.ErrNotFound. A batch of several calls finds what it stored in written, and the rest
// in the snapshot it began on: a read of go-memdb's write transaction after a write would clone
// its index and drop its cache of the nodes already copied, so that each call of the batch
// would copy the top of the tree again.
func (t *tx) find(k kind, id string, key []byte) (*record, error) {
	txn := t.txn
	if t.batched {
		if rec, ok := t.s.written[ref{k, id}]; ok {
			if rec == nil {
				return nil, mockserver.ErrNotFound
			}
			return rec, nil
		}
		if t.dirty {
			if t.base == nil {
				t.base = t.s.db.Txn(false)
			}
			txn = t.base
		}
	}
	raw, err := txn.First(table, "id", t.withProbe(key)...)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, mockserver.ErrNotFound
	}
	return raw.(*record), nil
}

// get returns the record of kind k stored under id, or mockserver.ErrNotFound.
func (t *tx) get(k kind, id string) (*record, error) {
	return t.find(k, id, t.s.key(t.buf[:0], k, id))
}

// scan returns the records whose keys start with prefix, in key order.
func (t *tx) scan(prefix []byte) (memdb.ResultIterator, error) {
	return t.txn.Get(table, "id_prefix", t.withProbe(prefix)...)
}

// current returns the record entry e stands for, or nil when e is stale.
func (t *tx) current(k kind, e entry) (*record, error) {
	rec, err := t.get(k, e.id)
	if errors.Is(err, mockserver.ErrNotFound) || err == nil && rec.Ver != e.ver {
		return nil, nil
	}
	return rec, err
}

// tenantOf returns the tenant of an account id: the simulator's objects are stored under a scope
// (mockserver.Scope: tenant and partner account), the webhook package's under the tenant itself.
// Bounding by tenant rather than by scope keeps a tenant from multiplying its quota with made-up
// partner account ids.
func tenantOf(accountID string) string {
	tenant, _ := mockserver.SplitScope(accountID)
	return tenant
}

// put stores obj under id for the tenant of owner (an account id or a tenant). Replacing an
// object keeps its place in the quota; a new object in a full table takes the place of the
// tenant's object of the kind that finished first, or fails with mockserver.QuotaExceeded.
func (t *tx) put(k kind, owner, id string, obj mockserver.Retained) error {
	if !t.write {
		return errReadOnly
	}
	tenant := tenantOf(owner)
	at := doneKey(obj.DoneAt())
	rec := &record{key: t.s.key(make([]byte, 0, hashBytes+1+len(id)), k, id), Tenant: tenant, Obj: obj}
	old, err := t.find(k, id, rec.key)
	switch {
	case err == nil:
		if old.Tenant != tenant {
			// Ids are the mock's own random ones or scoped by the tenant, so only an import of
			// another tenant's state (GET /mock/v1/state) can meet one; refusing it keeps one
			// tenant from overwriting another's object.
			return mockserver.NewError(mockserver.CodeAlreadyExists,
				fmt.Sprintf("The id %q of one of the %s is another tenant's.", id, kinds[k].what))
		}
		rec.Seq, rec.Ver = old.Seq, old.Ver
		if doneKey(old.Obj.DoneAt()) != at {
			rec.Ver = t.s.next()
			t.shelf(tenant, k).heap.push(entry{at: at, ver: rec.Ver, id: id})
		}
		return t.insert(k, id, old, rec)
	case !errors.Is(err, mockserver.ErrNotFound):
		return err
	}
	sh := t.shelf(tenant, k)
	if sh.count >= t.s.max {
		if err := t.makeRoom(k, tenant); err != nil {
			return err
		}
	}
	if err := t.withinBudget(tenant); err != nil {
		return err
	}
	rec.Seq = t.s.next()
	rec.Ver = rec.Seq
	if err := t.insert(k, id, nil, rec); err != nil {
		return err
	}
	t.count(sh, 1)
	sh.heap.push(entry{at: at, ver: rec.Ver, id: id})
	return nil
}

// insert stores rec, of kind k under id, in place of old (nil: none).
func (t *tx) insert(k kind, id string, old, rec *record) error {
	if err := t.txn.Insert(table, rec); err != nil {
		return err
	}
	if t.batched {
		t.wrote(ref{k, id}, old, rec)
	}
	return nil
}

// makeRoom removes the tenant's object of kind k that finished first, if it finished by the
// tenant's now; otherwise every object on the shelf is still in use and the quota is exhausted.
func (t *tx) makeRoom(k kind, tenant string) error {
	dropped, err := t.dropFinished(tenant, k)
	if err != nil || dropped {
		return err
	}
	return mockserver.QuotaExceeded(kinds[k].what, t.s.max, quotaFlag)
}

// withinBudget makes sure the store's budget of all tenants together has room for one more
// object of the tenant, by the fair-share rule of the package doc: with more than a fair share
// free anyone may add, with less only a tenant below its fair share, and with none nobody. A
// tenant the rule refuses makes room from its own objects, the one that finished first of any
// kind, or gets the 429.
func (t *tx) withinBudget(tenant string) error {
	s := t.s
	free := s.maxTotal - s.total
	// The tenant's books exist (put created them), so it is among the tenants counted.
	fair := s.maxTotal / (len(s.tenants) + 1)
	b := s.tenants[tenant]
	held := 0
	for k := range b {
		held += b[k].count
	}
	if free > fair || free > 0 && held < fair {
		return nil
	}
	var all [numKinds]kind
	for k := range all {
		all[k] = kind(k)
	}
	dropped, err := t.dropFinished(tenant, all[:]...)
	if err != nil || dropped {
		return err
	}
	return mockserver.NewError(mockserver.CodeQuotaExceeded, fmt.Sprintf(
		"The mock keeps at most %d objects for all tenants together and holds %d; this tenant holds %d, and its fair share is %d (the budget shared by the %d tenants holding objects and one more to come). "+
			"Its finished objects make room, but none is finished yet. Start the mock with a higher %s to keep more.",
		s.maxTotal, s.total, held, fair, len(s.tenants), budgetFlag))
}

// dropFinished removes the tenant's object of the given kinds that finished first, if it
// finished by the tenant's now, and reports whether it removed one. Each heap is ordered by
// DoneAt, so once every top is later than now no entry is due; stale entries met on the way are
// discarded. The tenant's books must exist.
func (t *tx) dropFinished(tenant string, ks ...kind) (bool, error) {
	b := t.s.tenants[tenant]
	now := doneKey(t.s.now(tenant))
	for {
		first := kind(-1)
		for _, k := range ks {
			if h := b[k].heap; len(h) > 0 && h[0].at <= now && (first < 0 || h[0].before(b[first].heap[0])) {
				first = k
			}
		}
		if first < 0 {
			return false, nil
		}
		sh := &b[first]
		dropped, err := t.drop(first, sh, t.pop(sh))
		if err != nil || dropped {
			return dropped, err
		}
	}
}

// drop removes the object entry e of the shelf sh stands for, and reports whether there was one
// (e was not stale).
func (t *tx) drop(k kind, sh *shelf, e entry) (bool, error) {
	rec, err := t.current(k, e)
	if rec == nil || err != nil {
		return false, err
	}
	return true, t.remove(sh, rec)
}

// held is a record and the shelf it is on.
type held struct {
	sh  *shelf
	rec *record
}

// resolve appends to doomed the record entry e of the shelf sh stands for, unless e is stale.
// Removing many objects, a transaction resolves them all first and then removes them (removeAll):
// a read after a write makes go-memdb clone the index and forget which of its nodes this
// transaction already copied, so reads between the removals would have each one copy its path
// again.
func (t *tx) resolve(doomed []held, k kind, sh *shelf, e entry) ([]held, error) {
	rec, err := t.current(k, e)
	if rec == nil || err != nil {
		return doomed, err
	}
	return append(doomed, held{sh: sh, rec: rec}), nil
}

// removeAll removes the records resolve found.
func (t *tx) removeAll(doomed []held) error {
	for _, d := range doomed {
		if err := t.remove(d.sh, d.rec); err != nil {
			return err
		}
	}
	return nil
}

// remove deletes rec, an object on the shelf sh. Its heap entry turns stale.
func (t *tx) remove(sh *shelf, rec *record) error {
	if err := t.txn.Delete(table, rec); err != nil {
		return err
	}
	if t.batched {
		t.wrote(ref{kindOf(rec.key), string(rec.key[hashBytes+1:])}, rec, nil)
	}
	t.count(sh, -1)
	return nil
}

// removeID deletes the object of kind k of owner's tenant stored under id, or returns
// mockserver.ErrNotFound.
func (t *tx) removeID(k kind, owner, id string) error {
	if !t.write {
		return errReadOnly
	}
	tenant := tenantOf(owner)
	rec, err := t.get(k, id)
	if err != nil {
		return err
	}
	if rec.Tenant != tenant {
		return mockserver.ErrNotFound
	}
	return t.remove(t.shelf(tenant, k), rec)
}

// owned returns the object of kind k stored under id if mine accepts it, or
// mockserver.ErrNotFound: objects of other accounts are not found.
func owned[T mockserver.Retained](t *tx, k kind, id string, mine func(T) bool) (T, error) {
	var zero T
	rec, err := t.get(k, id)
	if err != nil {
		return zero, err
	}
	obj := rec.Obj.(T)
	if !mine(obj) {
		return zero, mockserver.ErrNotFound
	}
	return obj, nil
}

func (t *tx) PaymentRequest(accountID, id string) (*mockserver.PaymentRequest, error) {
	return owned(t, kindPaymentRequest, id, func(pr *mockserver.PaymentRequest) bool {
		return accountID == "" || pr.AccountID == accountID
	})
}

func (t *tx) PutPaymentRequest(pr *mockserver.PaymentRequest) error {
	return t.put(kindPaymentRequest, pr.AccountID, pr.PaymentRequestID, pr)
}

func (t *tx) PaymentTransaction(accountID, id string) (*mockserver.PaymentTransaction, error) {
	return owned(t, kindPaymentTransaction, id, func(tr *mockserver.PaymentTransaction) bool { return tr.AccountID == accountID })
}

func (t *tx) PutPaymentTransaction(tr *mockserver.PaymentTransaction) error {
	return t.put(kindPaymentTransaction, tr.AccountID, tr.PaymentTransactionID, tr)
}

func (t *tx) CustomerToken(accountID, token string) (*mockserver.CustomerToken, error) {
	return owned(t, kindCustomerToken, token, func(ct *mockserver.CustomerToken) bool { return ct.AccountID == accountID })
}

func (t *tx) PutCustomerToken(ct *mockserver.CustomerToken) error {
	return t.put(kindCustomerToken, ct.AccountID, ct.Token, ct)
}

func (t *tx) NetworkSession(accountID, token string) (*mockserver.NetworkSession, error) {
	return owned(t, kindNetworkSession, token, func(ns *mockserver.NetworkSession) bool { return ns.AccountID == accountID })
}

func (t *tx) PutNetworkSession(ns *mockserver.NetworkSession) error {
	return t.put(kindNetworkSession, ns.AccountID, ns.Token, ns)
}

// idempotencyID joins scope and key; the NUL byte cannot occur in either (headers cannot carry it).
func idempotencyID(scope, key string) string { return scope + "\x00" + key }

// Idempotent returns the record stored for the key; the scope already isolates tenants.
func (t *tx) Idempotent(scope, key string) (*mockserver.IdempotencyRecord, error) {
	return owned(t, kindIdempotency, idempotencyID(scope, key), func(*mockserver.IdempotencyRecord) bool { return true })
}

// PutIdempotent stores the record under its tenant's quota.
func (t *tx) PutIdempotent(r *mockserver.IdempotencyRecord) error {
	return t.put(kindIdempotency, r.Tenant, idempotencyID(r.Scope, r.Key), r)
}
