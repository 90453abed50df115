package postgres

import (
	"cmp"
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// session is one transaction on one pooled connection. The statements whose answers the store
// does not wait for, BEGIN, the advisory locks and the writes (putSQL), are held back and sent
// in one pipeline with the next statement it does wait for, a read or the COMMIT: a transaction
// that reads one row costs two round trips (that read, COMMIT) rather than three, and a write
// transaction storing objects one rather than four or more. A write transaction that read nothing
// sends its statements without BEGIN and COMMIT: a pipeline ends with one Sync, and the
// statements before it are one implicit transaction, committed together or not at all. A
// transaction that sent nothing ends without a round trip. A single session (Store.ViewOne) is
// one statement outside a transaction, which sees a consistent snapshot of its own: one round
// trip.
//
// The session takes its connection when it first sends, and, before it sends a tenant's advisory
// lock, the tenant's lane in this process (lanes.go), held until it ended. A write transaction
// that read nothing and locked one tenant goes to its tenant's lane at the end instead: while
// another session has it, the transaction's writes wait there to be committed with the others
// waiting (group commit), and it needs no connection of its own.
type session struct {
	ctx context.Context
	s   *Store
	// conn is the connection, once one statement went out; lanes are the lanes the session holds.
	conn  *pgxpool.Conn
	lanes []*lane
	// held are the statements waiting for the next one; sent tells whether BEGIN went out, or,
	// in a single session, the statement.
	held []heldStatement
	sent bool
	// single marks a session of one statement; more records that it was asked for another,
	// which it refused.
	single, more bool
}

// errMore is the error of a second statement in a single session.
var errMore = errors.New("postgres: a second statement in a single-statement read")

type heldStatement struct {
	sql  string
	args []any
	// rows, when set, is added the number of rows the statement inserted, changed or deleted.
	rows *int64
	// tenant, when set, is the tenant whose advisory lock the statement takes.
	tenant string
	// each, for statements merged into this one (emitsSQL) that insert one row each and all
	// insert theirs or none do, are their rows: each is added one when the statement inserted any.
	each []*int64
}

// counted adds the rows of tag to h.rows, when h counts them, and to the counts of each.
func (h heldStatement) counted(tag pgconn.CommandTag) {
	if h.rows != nil {
		*h.rows += tag.RowsAffected()
	}
	if tag.RowsAffected() > 0 {
		for _, rows := range h.each {
			*rows++
		}
	}
}

// begin begins a session of the store and holds back beginSQL, the transaction's BEGIN; an empty
// one begins a single session.
func begin(ctx context.Context, s *Store, beginSQL string) *session {
	if beginSQL == "" {
		return &session{ctx: ctx, s: s, single: true}
	}
	return &session{ctx: ctx, s: s, held: []heldStatement{{sql: beginSQL}}}
}

// lockSQL takes a tenant's advisory lock, until the transaction ends.
const lockSQL = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`

// lock holds back the statement taking the tenant's advisory lock.
func (c *session) lock(tenant string) error {
	return c.holdStatement(heldStatement{sql: lockSQL, args: []any{c.s.lockspace + "/" + tenant}, tenant: tenant})
}

// connect takes the lanes of the tenants whose locks are held, and a connection unless the
// session has one. A lane is waited for only by a session that holds nothing yet, neither lane
// nor connection; a session that does takes a lane only when it is free, and otherwise leaves
// it to the advisory lock (see lanes).
func (c *session) connect() error {
	for _, h := range c.held {
		if h.tenant == "" {
			continue
		}
		if c.conn != nil || len(c.lanes) > 0 {
			if l := c.s.lanes.try(h.tenant); l != nil {
				c.lanes = append(c.lanes, l)
			}
			continue
		}
		l, err := c.s.lanes.join(c.ctx, h.tenant, &laneWaiter{})
		if err != nil {
			return err
		}
		c.lanes = append(c.lanes, l)
	}
	if c.conn != nil {
		return nil
	}
	var err error
	c.conn, err = c.s.pool.Acquire(c.ctx)
	return err
}

// another reports whether a single session refuses the statement it is about to send, its
// second, and records that it was asked for it.
func (c *session) another() bool {
	if !c.single {
		return false
	}
	if c.sent {
		c.more = true
		return true
	}
	c.sent = true
	return false
}

// maxHeld is how many statements are held back at most: a transaction writing a whole tenant (a
// state import) sends them in pipelines of this many rather than keeping them all.
const maxHeld = 256

// hold queues a statement whose result is not needed, to go with the next one, or sends the
// held ones now when there are maxHeld of them.
func (c *session) hold(sql string, args ...any) error {
	return c.holdStatement(heldStatement{sql: sql, args: args})
}

// holdCounting is hold for a statement whose changed rows are added to *rows once it ran.
func (c *session) holdCounting(rows *int64, sql string, args ...any) error {
	return c.holdStatement(heldStatement{sql: sql, args: args, rows: rows})
}

func (c *session) holdStatement(h heldStatement) error {
	c.held = append(c.held, h)
	if len(c.held) < maxHeld {
		return nil
	}
	last := c.held[len(c.held)-1]
	c.held = c.held[:len(c.held)-1]
	return c.run(last)
}

// pipeline connects, sends the held statements and then sql, and returns the batch's results
// with the held ones consumed, or nil when nothing was held.
func (c *session) pipeline(sql string, args []any) (pgx.BatchResults, error) {
	if err := c.connect(); err != nil || len(c.held) == 0 {
		return nil, err
	}
	b := &pgx.Batch{}
	for _, h := range c.held {
		b.Queue(h.sql, h.args...)
	}
	b.Queue(sql, args...)
	held := c.held
	c.held, c.sent = nil, true
	br := c.conn.SendBatch(c.ctx, b)
	for _, h := range held {
		tag, err := br.Exec()
		if err != nil {
			_ = br.Close()
			return nil, err
		}
		h.counted(tag)
	}
	return br, nil
}

// batchRow is the row of a pipelined query; scanning it ends the batch.
type batchRow struct {
	br  pgx.BatchResults
	err error
}

func (r batchRow) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.br.QueryRow().Scan(dest...)
	return cmp.Or(err, r.br.Close())
}

// queryRow runs a query answering one row, after the held statements.
func (c *session) queryRow(sql string, args ...any) pgx.Row {
	if c.another() {
		return batchRow{err: errMore}
	}
	if c.single {
		return coalescedRow{s: c.s, ctx: c.ctx, sql: sql, args: args}
	}
	br, err := c.pipeline(sql, args)
	if err != nil || br != nil {
		return batchRow{br: br, err: err}
	}
	return c.conn.QueryRow(c.ctx, sql, args...)
}

// exec runs a statement, after the held ones.
func (c *session) exec(sql string, args ...any) error {
	return c.run(heldStatement{sql: sql, args: args})
}

// run runs a statement after the held ones, counting its rows when it counts them.
func (c *session) run(h heldStatement) error {
	if c.another() {
		return errMore
	}
	br, err := c.pipeline(h.sql, h.args)
	var tag pgconn.CommandTag
	switch {
	case err != nil:
		return err
	case br != nil:
		tag, err = br.Exec()
		err = cmp.Or(err, br.Close())
	default:
		tag, err = c.conn.Exec(c.ctx, h.sql, h.args...)
	}
	if err == nil {
		h.counted(tag)
	}
	return err
}

// batchRows are the rows of a pipelined query; closing them ends the batch.
type batchRows struct {
	pgx.Rows
	br pgx.BatchResults
}

func (r batchRows) Close() {
	r.Rows.Close()
	_ = r.br.Close()
}

// query runs a query answering rows, after the held statements.
func (c *session) query(sql string, args ...any) (pgx.Rows, error) {
	if c.another() {
		return nil, errMore
	}
	br, err := c.pipeline(sql, args)
	switch {
	case err != nil:
		return nil, err
	case br != nil:
		rows, err := br.Query()
		if err != nil {
			_ = br.Close()
			return nil, err
		}
		return batchRows{Rows: rows, br: br}, nil
	}
	return c.conn.Query(c.ctx, sql, args...)
}

// end commits or rolls back the transaction and gives the connection and the lanes back.
// Statements still held go with the COMMIT, or as an implicit transaction when nothing went out
// before, with the other writes of the tenant's lane when they lock one tenant (group); when one
// of them or the commit fails, the transaction is rolled back and the error returned. A
// transaction that sent nothing needs no round trip to roll back, nor to commit when it held
// nothing but its BEGIN. A connection left inside a transaction (a rollback that failed) is
// closed by the pool rather than reused.
func (c *session) end(commit bool) error {
	defer c.release()
	if c.single {
		return nil // its statement committed itself
	}
	if commit && !c.sent && len(c.held) > 1 {
		if lock, writes, ok := c.grouped(); ok {
			return c.s.commitGrouped(c.ctx, lock, writes)
		}
		// Nothing went out yet: the held statements go without their BEGIN and the COMMIT, as
		// one implicit transaction.
		last := c.held[len(c.held)-1]
		c.held = c.held[1 : len(c.held)-1]
		return c.run(last)
	}
	if commit && c.sent {
		err := c.exec("COMMIT")
		if err != nil && c.conn.Conn().PgConn().TxStatus() != 'I' {
			_, _ = c.conn.Exec(c.ctx, "ROLLBACK")
		}
		return err
	}
	if !c.sent {
		return nil
	}
	_, err := c.conn.Exec(c.ctx, "ROLLBACK")
	return err
}

// release gives the connection and the lanes back.
func (c *session) release() {
	if c.conn != nil {
		c.conn.Release()
	}
	for _, l := range c.lanes {
		c.s.lanes.release(l)
	}
}

// grouped splits the held statements of a transaction that sent nothing into the advisory lock
// of its one tenant and its writes, or reports that it locks more than one tenant.
func (c *session) grouped() (lock heldStatement, writes []heldStatement, ok bool) {
	writes = make([]heldStatement, 0, len(c.held)-2)
	for _, h := range c.held[1:] {
		switch {
		case h.tenant == "":
			writes = append(writes, h)
		case lock.tenant != "":
			return lock, nil, false
		default:
			lock = h
		}
	}
	return lock, writes, lock.tenant != ""
}

// commitGrouped commits the writes of a transaction that locks one tenant in the tenant's lane:
// at once when the lane is free, else with the others waiting for it (a group commit, by the
// first of them given the lane), and with the groups of other tenants committing meanwhile
// (commits.go). It returns once they were committed, or failed.
func (s *Store) commitGrouped(ctx context.Context, lock heldStatement, writes []heldStatement) error {
	w := &laneWaiter{writes: writes, commits: true}
	l, err := s.lanes.join(ctx, lock.tenant, w)
	if err != nil {
		return err
	}
	if !w.done {
		// Until the commit tells each waiter how its writes went: should it panic, the others
		// are released (finish, deferred) with an error, as after a lost connection, rather
		// than left waiting or told their writes were committed.
		for _, g := range w.group {
			g.err = errGroupAbandoned
		}
		defer s.lanes.finish(l, w.group)
		s.commitTenants(lock, w.group)
	}
	return w.err
}

// errGroupAbandoned is the outcome of the writes of a group whose commit ended in a panic: whether
// they were committed is not known.
var errGroupAbandoned = errors.New("postgres: the group commit was abandoned")
