package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/klarna-mock/klarna-mock/mockserver/journal"
)

// Bounds of the journal's writer.
const (
	// JournalWait bounds how long a call waits for its journal entry to be stored, from the
	// moment the first entry of its batch was handed over: a healthy database stores a batch in
	// milliseconds, and one that stopped answering adds at most this to a call that already
	// waited for the store. A batch not stored by then is given up, its entries counted lost.
	JournalWait = time.Second
	// journalQueue and journalQueueBytes bound the entries waiting for the batch being stored:
	// an entry beyond either is lost (counted and logged) rather than held in memory.
	journalQueue      = 1024
	journalQueueBytes = 8 << 20
	// pruneEvery and pruneEveryBytes are how many entries, or bytes of bodies, this mock stores
	// for a tenant before it prunes the tenant's journal back to journal.PerTenant and
	// journal.BytesPerTenant: pruning goes with about one batch in a hundred, not with each call.
	pruneEvery      = journal.PerTenant / 10
	pruneEveryBytes = journal.BytesPerTenant / 10
)

// errJournalFull is why an entry is lost when the queue is full.
var errJournalFull = errors.New("the queue of journal entries waiting for the database is full")

// errJournalClosed is why an entry is lost after Close.
var errJournalClosed = errors.New("the journal is closed")

// Journal is the journal (journal.Store) in the table journal, shared by every mock on the
// database, so that a restart keeps it and a call answered by one mock is listed by all.
//
// Record hands the entry to the journal's one writer goroutine and waits: the writer stores all
// the entries waiting in one INSERT (group commit) and then releases every call of the batch, so
// many concurrent calls cost one round trip. Each tenant's seq is the table's identity, which
// increases with every row: within one mock in the order Record was called, across mocks in the
// order the rows were inserted (two mocks inserting at the same moment may commit in the other
// order, so a reader polling with since can meet a seq just below one it has seen). Pruning to
// the bounds happens in the writer after a batch, once every pruneEvery entries of a tenant, and
// List returns journal.PerTenant entries at most.
type Journal struct {
	s   *Store
	log *slog.Logger
	// mu guards pending, closed and debt.
	mu      sync.Mutex
	pending *journalBatch
	closed  bool
	// debt is, per tenant, what this mock stored since it last pruned the tenant's journal.
	debt map[string]pruneDebt
	// wake tells the writer a batch is pending; stop ends it, which closes done.
	wake, stop, done chan struct{}
	// lost counts the entries not stored, batches the INSERTs that stored some.
	lost, batches atomic.Uint64
}

// journalBatch is the entries stored in one INSERT, and the calls waiting for it.
type journalBatch struct {
	began time.Time
	// the columns of the rows, in the order the entries came; bytes is the size of entries.
	tenants                []string
	scopes, paths, entries [][]byte
	sizes                  []int32
	bytes                  int
	// done is closed once the batch is stored or given up.
	done chan struct{}
}

// journalBatchRows is how many rows a batch has room for before its columns grow: about as many
// calls as wait together under load.
const journalBatchRows = 16

// newJournalBatch is an empty batch begun now.
func newJournalBatch() *journalBatch {
	return &journalBatch{
		began:   time.Now(),
		tenants: make([]string, 0, journalBatchRows),
		scopes:  make([][]byte, 0, journalBatchRows),
		paths:   make([][]byte, 0, journalBatchRows),
		entries: make([][]byte, 0, journalBatchRows),
		sizes:   make([]int32, 0, journalBatchRows),
		done:    make(chan struct{}),
	}
}

// encodeEntry is e as MessagePack, in a buffer sized for its body and answer at once.
func encodeEntry(e *journal.Entry) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(e.Bytes() + 1024)
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	if err := enc.Encode(e); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pruneDebt is what a mock stored of a tenant since it last pruned the tenant's journal.
type pruneDebt struct{ entries, bytes int }

// Journal starts the store's journal, whose writer runs until Journal.Close; log hears of the
// entries lost.
func (s *Store) Journal(log *slog.Logger) *Journal {
	j := &Journal{
		s: s, log: log, debt: map[string]pruneDebt{},
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go j.write()
	return j
}

// Record queues e for the writer and waits until it is stored, JournalWait at most, or until ctx
// ends. An entry not stored is logged and counted (Lost), never an error of the call.
func (j *Journal) Record(ctx context.Context, tenant, scope string, e journal.Entry) {
	body, err := encodeEntry(&e)
	if err != nil {
		j.lose(1, err)
		return
	}
	j.mu.Lock()
	b := j.pending
	switch {
	case j.closed:
		err = errJournalClosed
	case b != nil && (len(b.entries) >= journalQueue || b.bytes+len(body) > journalQueueBytes):
		err = errJournalFull
	}
	if err != nil {
		j.mu.Unlock()
		j.lose(1, err)
		return
	}
	if b == nil {
		b = newJournalBatch()
		j.pending = b
	}
	b.tenants = append(b.tenants, tenant)
	b.scopes = append(b.scopes, []byte(scope))
	b.paths = append(b.paths, []byte(e.Path))
	b.entries = append(b.entries, body)
	b.sizes = append(b.sizes, int32(e.Bytes()))
	b.bytes += len(body)
	j.mu.Unlock()
	select {
	case j.wake <- struct{}{}:
	default: // the writer is told already
	}
	select {
	case <-b.done:
	case <-ctx.Done():
	}
}

// lose counts and logs n entries not stored.
func (j *Journal) lose(n int, err error) {
	total := j.lost.Add(uint64(n))
	j.log.Warn("journal entries not stored", "entries", n, "lost_total", total, "err", err)
}

// Lost reports how many entries the journal could not store since it started.
func (j *Journal) Lost() uint64 { return j.lost.Load() }

// Batches reports how many INSERTs stored the journal's entries since it started: with the
// entries recorded, how well calls share them.
func (j *Journal) Batches() uint64 { return j.batches.Load() }

// write is the writer: it stores each pending batch, releases its calls, and prunes the tenants
// that have grown by pruneEvery since; after Close it stores what is pending and returns.
func (j *Journal) write() {
	defer close(j.done)
	for {
		stopping := false
		select {
		case <-j.wake:
		case <-j.stop:
			stopping = true
		}
		j.mu.Lock()
		b := j.pending
		j.pending = nil
		j.mu.Unlock()
		if b != nil {
			j.store(b)
		}
		if stopping {
			return
		}
	}
}

// insertJournal stores a batch's rows in one statement; the identity gives seq in row order.
const insertJournal = `
	INSERT INTO journal (tenant, scope, path, bytes, entry)
	SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::int[], $5::bytea[])`

// store inserts b, releases its calls, and prunes the tenants it made due.
func (j *Journal) store(b *journalBatch) {
	ctx, cancel := context.WithDeadline(context.Background(), b.began.Add(JournalWait))
	_, err := j.s.pool.Exec(ctx, insertJournal, b.tenants, b.scopes, b.paths, b.sizes, b.entries)
	cancel()
	close(b.done)
	if err != nil {
		j.lose(len(b.entries), dbError(err))
		return
	}
	j.batches.Add(1)
	j.mu.Lock()
	for i, t := range b.tenants {
		d := j.debt[t]
		j.debt[t] = pruneDebt{entries: d.entries + 1, bytes: d.bytes + int(b.sizes[i])}
	}
	var due []string
	for _, t := range b.tenants {
		// Deleting the debt of a tenant found due lists it once however many of its entries
		// the batch held.
		if d, ok := j.debt[t]; ok && (d.entries >= pruneEvery || d.bytes >= pruneEveryBytes) {
			due = append(due, t)
			delete(j.debt, t)
		}
	}
	j.mu.Unlock()
	if len(due) > 0 {
		if err := j.prune(due); err != nil {
			j.log.Warn("pruning the journal", "tenants", len(due), "err", err)
		}
	}
}

// pruneJournal deletes, of each tenant given, the entries beyond its newest $2 and beyond the
// newest that hold $3 bytes of bodies together (keeping the newest one whatever its size): it
// finds the oldest entry kept among the newest $2 alone, then deletes the older ones by the
// primary key, rather than ranking and joining every row of the tenant. When the newest $2 hold
// $3 bytes at most, as they mostly do, the oldest of them is the oldest kept, and the running
// sums that find it otherwise are not computed.
const pruneJournal = `
	DELETE FROM journal j USING (
		SELECT t.tenant, coalesce((
			SELECT CASE WHEN sum(bytes) <= $3 THEN min(seq) END
			FROM (SELECT seq, bytes FROM journal WHERE tenant = t.tenant ORDER BY seq DESC LIMIT $2) newest
		), (
			SELECT min(seq) FROM (
				SELECT seq, row_number() OVER w AS n, sum(bytes) OVER w AS total
				FROM (SELECT seq, bytes FROM journal WHERE tenant = t.tenant ORDER BY seq DESC LIMIT $2) newest
				WINDOW w AS (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING)
			) ranked WHERE n = 1 OR total <= $3
		)) AS oldest
		FROM unnest($1::text[]) t(tenant)
	) kept WHERE j.tenant = kept.tenant AND j.seq < kept.oldest`

// prune brings the tenants' journals back within their bounds.
func (j *Journal) prune(tenants []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), j.s.timeout)
	defer cancel()
	_, err := j.s.pool.Exec(ctx, pruneJournal, tenants, journal.PerTenant, journal.BytesPerTenant)
	return err
}

// listJournal reads a tenant's newest entries a filter keeps, newest first.
const listJournal = `
	SELECT seq, entry FROM journal
	WHERE tenant = $1 AND ($2::bytea = '' OR scope = $2) AND seq > $3 AND position($4::bytea IN path) > 0
	ORDER BY seq DESC LIMIT $5`

// List returns the tenant's entries f keeps, in the order received: the newest journal.PerTenant
// at most, whether or not the writer has pruned the older ones yet.
func (j *Journal) List(ctx context.Context, tenant string, f journal.Filter) ([]journal.Entry, error) {
	if f.Since >= math.MaxInt64 {
		return nil, nil
	}
	limit := journal.PerTenant
	if f.Limit > 0 {
		limit = min(f.Limit, limit)
	}
	ctx, cancel := context.WithTimeout(ctx, j.s.timeout)
	defer cancel()
	rows, err := j.s.pool.Query(ctx, listJournal, tenant, []byte(f.Scope), int64(f.Since), []byte(f.PathContains), limit)
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	var out []journal.Entry
	for rows.Next() {
		var seq int64
		var body []byte
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, dbError(err)
		}
		var e journal.Entry
		if err := msgpack.Unmarshal(body, &e); err != nil {
			return nil, fmt.Errorf("postgres: decoding a journal entry: %w", err)
		}
		e.Seq, e.ReceivedAt = uint64(seq), e.ReceivedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError(err)
	}
	slices.Reverse(out)
	return out, nil
}

// Forget drops what the journal keeps of the tenant in this process; its rows go with the
// tenant's others (Store.ForgetTenant).
func (j *Journal) Forget(tenant string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.debt, tenant)
}

// Close stores the entries still waiting and stops the writer; an entry recorded afterwards is
// lost. Close the journal before its store.
func (j *Journal) Close() {
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return
	}
	j.closed = true
	j.mu.Unlock()
	close(j.stop)
	<-j.done
}
