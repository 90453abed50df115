package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
)

// maxReading is how many pipelines of single reads one store has out at once: one, so that the
// reads that come meanwhile wait for it and go together, which costs PostgreSQL less CPU per read
// than a second pipeline would (docs/storage.md, Performance).
const maxReading = 1

// readers coalesce this process's single reads (Store.ViewOne): while maxReading pipelines of
// them are out, the reads that come wait, and the first one's session sends them all, up to
// maxGroup, in the next pipeline, each its own statement. Many concurrent reads cost one round
// trip, and one wake-up of one backend. A read waiting sees every change committed before it
// came, as it would sent at once.
type readers struct {
	mu    sync.Mutex
	out   int
	queue []*singleRead
}

// singleRead is one single read: its statement, where its row goes, and how it went.
type singleRead struct {
	sql  string
	args []any
	dest []any
	err  error
	// ready is closed when the read is the one to send its group, or was read by another's.
	ready chan struct{}
	// group, set before ready is closed, are the reads this one sends, itself first.
	group []*singleRead
}

// coalescedRow is the row of a single read, read with the others waiting when Scan is called.
type coalescedRow struct {
	s    *Store
	ctx  context.Context
	sql  string
	args []any
}

func (r coalescedRow) Scan(dest ...any) error {
	return r.s.readSingle(r.ctx, &singleRead{sql: r.sql, args: r.args, dest: dest})
}

// readSingle reads r, with the reads waiting when maxReading pipelines are out, and returns its
// error.
func (s *Store) readSingle(ctx context.Context, r *singleRead) error {
	rs := &s.readers
	rs.mu.Lock()
	if rs.out < maxReading {
		rs.out++
		rs.mu.Unlock()
		r.group = []*singleRead{r}
		s.sendReads(r.group)
		return r.err
	}
	r.ready = make(chan struct{})
	rs.queue = append(rs.queue, r)
	rs.mu.Unlock()
	select {
	case <-r.ready:
	case <-ctx.Done():
		rs.mu.Lock()
		if i := slices.Index(rs.queue, r); i >= 0 {
			rs.queue = slices.Delete(rs.queue, i, i+1)
			rs.mu.Unlock()
			return ctx.Err()
		}
		rs.mu.Unlock()
		<-r.ready // in a group already: its sender needs no context of r's
	}
	if r.group != nil {
		s.sendReads(r.group)
	}
	return r.err
}

// sendReads reads the group, tells its reads but the first, and hands the pipeline over to the
// reads waiting. Each read's outcome is errReadAbandoned until the read tells it, and the rest
// is deferred, so that a panic in the read fails the group's other reads rather than leave them,
// and every read after them, waiting.
func (s *Store) sendReads(group []*singleRead) {
	for _, r := range group {
		r.err = errReadAbandoned
	}
	defer s.readers.next(group)
	s.readGroup(group)
}

// errReadAbandoned is the outcome of a coalesced read whose pipeline ended in a panic.
var errReadAbandoned = errors.New("postgres: the coalesced read was abandoned")

// next hands the pipeline the group had over to the reads waiting, and tells the group's reads
// but the first, whose session sent it, that they were read.
func (rs *readers) next(group []*singleRead) {
	rs.mu.Lock()
	if len(rs.queue) == 0 {
		rs.out--
	} else {
		n := min(len(rs.queue), maxGroup)
		next := rs.queue[0]
		next.group = slices.Clone(rs.queue[:n])
		rs.queue = slices.Delete(rs.queue, 0, n)
		close(next.ready)
	}
	rs.mu.Unlock()
	for _, r := range group[1:] {
		close(r.ready)
	}
}

// readGroup sends the group's reads in one pipeline, within the store's timeout, and scans each
// into its destination. The pipeline is one implicit transaction, which a read the server refuses
// ends: the reads after it are read again, each on its own.
func (s *Store) readGroup(group []*singleRead) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		for _, r := range group {
			r.err = err
		}
		return
	}
	defer conn.Release()
	if len(group) == 1 {
		group[0].err = conn.QueryRow(ctx, group[0].sql, group[0].args...).Scan(group[0].dest...)
		return
	}
	b := &pgx.Batch{}
	for _, r := range group {
		b.Queue(r.sql, r.args...)
	}
	br := conn.SendBatch(ctx, b)
	failed := len(group)
	for i, r := range group {
		r.err = br.QueryRow().Scan(r.dest...)
		if r.err != nil && !errors.Is(r.err, pgx.ErrNoRows) && failed == len(group) {
			failed = i
		}
	}
	_ = br.Close()
	for _, r := range group[min(failed+1, len(group)):] {
		r.err = conn.QueryRow(ctx, r.sql, r.args...).Scan(r.dest...)
	}
}
