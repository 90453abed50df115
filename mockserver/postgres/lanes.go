package postgres

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// maxGroup is how many write transactions one group commit sends at most.
const maxGroup = 64

// lanes queue, in this process, the write transactions of each tenant ahead of its advisory lock,
// which still serializes them across the processes sharing the database: a transaction waiting
// for a tenant another of this process's transactions holds waits here, as a goroutine, rather
// than as a PostgreSQL backend asleep on the lock, and the write transactions that wait are
// committed together (group commit). A tenant's lane is held by one session at a time, from
// the moment its advisory lock goes to the server until the transaction ended.
//
// A session waits for a lane only while it holds no lane, no connection and no advisory lock (it
// has sent nothing); every other lane it takes is taken only when free, and otherwise left to the
// advisory lock alone. So a session waiting here holds nothing any other waits for, and lanes
// add no deadlock to those PostgreSQL detects.
type lanes struct {
	mu sync.Mutex
	m  map[string]*lane
}

// lane is one tenant's turn.
type lane struct {
	tenant string
	// users counts the sessions holding the lane or waiting for it: at 0 the lane is forgotten.
	users int
	busy  bool
	queue []*laneWaiter
}

// laneWaiter is a session waiting for a lane: to hold it, or to have its writes committed by a
// group (commits).
type laneWaiter struct {
	commits bool
	// ready is closed when the lane is the waiter's or, for writes, when another session
	// committed them (done).
	ready chan struct{}
	// writes are the statements of a write transaction that sent nothing, its tenant's advisory
	// lock left out.
	writes []heldStatement
	// group, once a waiter with writes has the lane, is the waiters whose writes it commits,
	// itself first.
	group []*laneWaiter
	// done tells that the session that had the lane committed the writes, or failed to (err).
	done bool
	err  error
}

// join returns the tenant's lane once it is w's, waiting for it while ctx lasts, or, for a
// waiter with writes, once another committed them (w.done).
func (ls *lanes) join(ctx context.Context, tenant string, w *laneWaiter) (*lane, error) {
	ls.mu.Lock()
	l := ls.lane(tenant)
	l.users++
	if !l.busy {
		l.busy = true
		if w.commits {
			w.group = []*laneWaiter{w}
		}
		ls.mu.Unlock()
		return l, nil
	}
	w.ready = make(chan struct{})
	l.queue = append(l.queue, w)
	ls.mu.Unlock()
	select {
	case <-w.ready:
		return l, nil
	case <-ctx.Done():
	}
	ls.mu.Lock()
	if i := slices.Index(l.queue, w); i >= 0 {
		l.queue = slices.Delete(l.queue, i, i+1)
		ls.leave(l)
		ls.mu.Unlock()
		return nil, ctx.Err()
	}
	ls.mu.Unlock()
	// The lane was given to w, or w's writes are being committed, as ctx ran out: a group must
	// be committed by the waiter given it, and the session given the lane fails on its own.
	<-w.ready
	return l, nil
}

// try returns the tenant's lane when it is free, or nil.
func (ls *lanes) try(tenant string) *lane {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l := ls.lane(tenant)
	if l.busy {
		return nil
	}
	l.busy = true
	l.users++
	return l
}

// lane returns the tenant's lane, made when nobody uses it; ls.mu is held.
func (ls *lanes) lane(tenant string) *lane {
	l := ls.m[tenant]
	if l == nil {
		if ls.m == nil {
			ls.m = map[string]*lane{}
		}
		l = &lane{tenant: tenant}
		ls.m[tenant] = l
	}
	return l
}

// leave counts a session out of the lane; ls.mu is held.
func (ls *lanes) leave(l *lane) {
	l.users--
	if l.users == 0 {
		delete(ls.m, l.tenant)
	}
}

// release gives the lane up, to the first waiter: a session that holds it, or writes, which it
// gives every waiting write to commit with them (up to maxGroup).
func (ls *lanes) release(l *lane) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.leave(l)
	if len(l.queue) == 0 {
		l.busy = false
		return
	}
	next := l.queue[0]
	var group []*laneWaiter
	if next.commits {
		group = []*laneWaiter{next}
	}
	kept := l.queue[:0]
	for _, w := range l.queue[1:] {
		if group != nil && w.commits && len(group) < maxGroup {
			group = append(group, w)
		} else {
			kept = append(kept, w)
		}
	}
	next.group = group
	clear(l.queue[len(kept):])
	l.queue = kept
	close(next.ready)
}

// finish tells the group's waiters but the first, whose session had the lane, that their writes
// were committed or failed, and releases the lane.
func (ls *lanes) finish(l *lane, group []*laneWaiter) {
	ls.mu.Lock()
	for _, w := range group[1:] {
		w.done = true
		close(w.ready)
		ls.leave(l)
	}
	ls.mu.Unlock()
	ls.release(l)
}

// commitGroup commits the writes of a group, each waiter's err telling how its own went: all of
// them in one pipeline under the tenant's advisory lock (lock) as one implicit transaction, or,
// when the server refuses that transaction (and so rolled it back), each on its own, so that one
// refused write (make_room's quota, say) fails only its own transaction. Any other error (a
// connection lost, the time up) is every write's: whether the commit happened is not known, so
// nothing is sent again. The group runs within the store's timeout, whatever is left of the
// first waiter's: the others' writes depend on it.
func (s *Store) commitGroup(lock heldStatement, group []*laneWaiter) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err == nil {
		defer conn.Release()
		err = sendGroup(ctx, conn, lock, group)
	}
	if len(group) == 1 || !refused(err) {
		for _, w := range group {
			w.err = err
		}
		return
	}
	for _, w := range group {
		w.err = sendWrites(ctx, conn, lock, w.writes)
	}
}

// refused reports whether err is the server's refusal of a statement, which rolled back the
// transaction and left the connection usable.
func refused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr)
}

// sendGroup sends the writes of the group with its puts and events merged (mergedWrites), or,
// when they do not merge or the server refused the merged ones, as they are.
func sendGroup(ctx context.Context, conn *pgxpool.Conn, lock heldStatement, group []*laneWaiter) error {
	if merged := mergedWrites(group); merged != nil {
		if err := sendWrites(ctx, conn, lock, merged); !refused(err) {
			return err
		}
	}
	writes := make([]heldStatement, 0, len(group)*len(group[0].writes))
	for _, w := range group {
		writes = append(writes, w.writes...)
	}
	return sendWrites(ctx, conn, lock, writes)
}

// sendWrites sends the lock and the writes in one pipeline, as one implicit transaction.
func sendWrites(ctx context.Context, conn *pgxpool.Conn, lock heldStatement, writes []heldStatement) error {
	return sendStatements(ctx, conn, append([]heldStatement{lock}, writes...))
}

// sendStatements sends the statements in one pipeline, as one implicit transaction, and counts
// the rows of those that count them once it committed.
func sendStatements(ctx context.Context, conn *pgxpool.Conn, statements []heldStatement) error {
	b := &pgx.Batch{}
	for _, h := range statements {
		b.Queue(h.sql, h.args...)
	}
	br := conn.SendBatch(ctx, b)
	tags := make([]pgconn.CommandTag, b.Len())
	for i := range tags {
		var err error
		if tags[i], err = br.Exec(); err != nil {
			_ = br.Close()
			return err
		}
	}
	if err := br.Close(); err != nil {
		return err
	}
	for i, h := range statements {
		h.counted(tags[i])
	}
	return nil
}
