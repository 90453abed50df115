package postgres

import (
	"cmp"
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// session is one transaction on one pooled connection. The statements whose answers the store
// does not wait for, BEGIN, the advisory locks and the writes (put_object), are held back and sent
// in one pipeline with the next statement it does wait for, a read or the COMMIT: a transaction
// that reads one row costs two round trips (that read, COMMIT) rather than three, and a write
// transaction storing objects one rather than four or more. A transaction that sent nothing
// ends without a round trip.
type session struct {
	ctx  context.Context
	conn *pgxpool.Conn
	// held are the statements waiting for the next one; sent tells whether BEGIN went out.
	held []heldStatement
	sent bool
}

type heldStatement struct {
	sql  string
	args []any
}

// begin acquires a connection and holds back the BEGIN of opts.
func begin(ctx context.Context, pool *pgxpool.Pool, beginSQL string) (*session, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	return &session{ctx: ctx, conn: conn, held: []heldStatement{{sql: beginSQL}}}, nil
}

// maxHeld is how many statements are held back at most: a transaction writing a whole tenant (a
// state import) sends them in pipelines of this many rather than keeping them all.
const maxHeld = 256

// hold queues a statement whose result is not needed, to go with the next one, or sends the
// held ones now when there are maxHeld of them.
func (c *session) hold(sql string, args ...any) error {
	c.held = append(c.held, heldStatement{sql: sql, args: args})
	if len(c.held) < maxHeld {
		return nil
	}
	last := c.held[len(c.held)-1]
	c.held = c.held[:len(c.held)-1]
	return c.exec(last.sql, last.args...)
}

// pipeline sends the held statements and then sql, and returns the batch's results with the
// held ones consumed, or nil when nothing was held.
func (c *session) pipeline(sql string, args []any) (pgx.BatchResults, error) {
	if len(c.held) == 0 {
		return nil, nil
	}
	b := &pgx.Batch{}
	for _, h := range c.held {
		b.Queue(h.sql, h.args...)
	}
	b.Queue(sql, args...)
	n := len(c.held)
	c.held, c.sent = nil, true
	br := c.conn.SendBatch(c.ctx, b)
	for range n {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
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
	br, err := c.pipeline(sql, args)
	if err != nil || br != nil {
		return batchRow{br: br, err: err}
	}
	return c.conn.QueryRow(c.ctx, sql, args...)
}

// exec runs a statement, after the held ones.
func (c *session) exec(sql string, args ...any) error {
	br, err := c.pipeline(sql, args)
	switch {
	case err != nil:
		return err
	case br != nil:
		_, err := br.Exec()
		return cmp.Or(err, br.Close())
	}
	_, err = c.conn.Exec(c.ctx, sql, args...)
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

// end commits or rolls back the transaction and gives the connection back. Statements still
// held go with the COMMIT; when one of them or the commit fails, the transaction is rolled back
// and the error returned. A transaction that sent nothing needs no round trip to roll back, nor
// to commit when it held nothing but its BEGIN. A connection left inside a transaction (a
// rollback that failed) is closed by the pool rather than reused.
func (c *session) end(commit bool) error {
	defer c.conn.Release()
	if commit && (c.sent || len(c.held) > 1) {
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
