// Package postgres keeps the simulator's state in PostgreSQL through jackc/pgx, so that it
// survives a restart: mockserver.Store and, through Notifications, webhook.Store.
//
// The schema is versioned: the SQL files of migrations/ are applied in order at Open and recorded
// in schema_migrations, and Open refuses a database whose schema is newer than the binary.
// Every object lives in one table, objects, under its kind and id, with the columns it is looked
// up and bounded by (tenant, account, the webhook of a delivery, DoneAt) and the object itself
// encoded with MessagePack (vmihailenco/msgpack): the domain types' JSON tags describe Klarna's
// wire format and leave out fields the mock keeps, MessagePack keeps every exported field.
//
// The bounds are memdb's (see package memdb): at most Config.MaxObjectsPerTenant objects of each
// kind per tenant, a new object in a full table taking the place of the tenant's object of the
// kind that finished first, if one has by the tenant's now, and Prune removing finished objects
// once Config.Retention has passed on their tenant's clock. The counts live in tenant_counts,
// changed in the same transaction as the objects.
//
// Write transactions are serialized per tenant, across every process on the database: the first
// time a write transaction touches a tenant it takes a transaction-scoped advisory lock on it, so
// a final authorize or an idempotent retry creates exactly one resource however many replicas
// serve the tenant, and writes of different tenants run side by side. Within one process the
// writes of a tenant also queue in the tenant's lane (lanes.go) before its lock, and those that
// read nothing are committed together, many in one pipeline and one commit (group commit). Read
// transactions run on a repeatable-read snapshot and never wait for writers; concurrent reads of
// one object each (ViewOne) go in one pipeline (reads.go).
//
// Several mocks may share the database and behave as one: claims (claims.go, the table claims)
// give each webhook delivery attempt (Claims, a webhook.Claimer) and each idempotency key's first
// request to one of them, and the tenants' settings (clock offset, rules, delivery pause) are
// kept for them to agree on (settings.go).
//
// A database that cannot be reached, or does not answer within Config.Timeout, makes a call
// fail with a Klarna-shaped 503 SERVICE_UNAVAILABLE; the pool reconnects by itself once the
// database is back.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// Defaults of Config.
const (
	DefaultPoolSize            = 10
	DefaultTimeout             = 5 * time.Second
	DefaultMaxObjectsPerTenant = 5000
	DefaultRetention           = 24 * time.Hour
)

// quotaFlag is the klarna-mock flag that sets Config.MaxObjectsPerTenant; the quota error names it.
const quotaFlag = "--max-objects"

// Config chooses the database and bounds the store.
type Config struct {
	// URL is the database, as a postgres:// URL or a libpq key=value string.
	URL string
	// PoolSize is how many connections the store keeps open at most; 0 means DefaultPoolSize.
	PoolSize int
	// Timeout bounds each transaction, connecting included, and a transaction over a whole tenant
	// (ViewAll, UpdateAll) twelve times as much; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxObjectsPerTenant is how many objects of each kind one tenant may hold; 0 means
	// DefaultMaxObjectsPerTenant.
	MaxObjectsPerTenant int
	// Retention is how long a finished object is kept after its DoneAt, on its tenant's clock,
	// before Prune removes it; 0 means DefaultRetention.
	Retention time.Duration
	// Clock is the base clock; a tenant's now is Clock.Tenant(tenant).Now(). Nil means the wall
	// clock for every tenant.
	Clock *clock.Clock
}

// Store is a mockserver.Store on PostgreSQL.
type Store struct {
	pool      *pgxpool.Pool
	max       int64
	retention time.Duration
	timeout   time.Duration
	clock     *clock.Clock
	// lockspace prefixes the tenant in advisory lock keys: the schema, so that stores on
	// different schemas of one database (the tests') do not wait for each other.
	lockspace string
	// holder names the store in its claims of idempotency keys (claims.go).
	holder string
	// watch is what the notifier asked of the outbox (Outbox.Notify); nil records every event
	// and wakes nobody.
	watch atomic.Pointer[outboxWatch]
	// lanes queue this process's write transactions of each tenant (lanes.go), committer
	// commits the groups of several tenants together (commits.go), readers gathers its single
	// reads (reads.go).
	lanes     lanes
	committer committer
	readers   readers
}

// Open connects to the database, checks it answers and migrates its schema. It fails, without
// leaving anything open, when the URL is malformed, the database cannot be reached, or its schema
// is newer than this binary (ErrSchemaTooNew).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if cfg.PoolSize > 0 {
		pcfg.MaxConns = int32(min(cfg.PoolSize, 1<<20))
	} else {
		pcfg.MaxConns = DefaultPoolSize
	}
	s := &Store{
		max:       int64(positiveOr(cfg.MaxObjectsPerTenant, DefaultMaxObjectsPerTenant)),
		retention: positiveOr(cfg.Retention, DefaultRetention),
		timeout:   positiveOr(cfg.Timeout, DefaultTimeout),
		clock:     cfg.Clock,
		holder:    newHolder(),
	}
	// A write transaction that reads nothing runs as an implicit transaction (session.end),
	// at the isolation its BEGIN would have set.
	pcfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "read committed"
	if pcfg.ConnConfig.ConnectTimeout == 0 {
		pcfg.ConnConfig.ConnectTimeout = s.timeout
	}
	s.pool, err = pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := s.start(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// start checks the database answers, migrates it and learns the lock space.
func (s *Store) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	if err := migrate(ctx, s.pool); err != nil {
		return fmt.Errorf("database schema: %w", err)
	}
	return s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&s.lockspace)
}

// positiveOr returns v, or def when v is not positive.
func positiveOr[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Close closes the pool's connections, waiting for those in use to be given back.
func (s *Store) Close() { s.pool.Close() }

// Ping reports whether the database answers, for a readiness check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// View runs fn in a read-only transaction on a consistent snapshot.
func (s *Store) View(fn func(mockserver.Tx) error) error {
	return s.run(false, func(t *tx) error { return fn(t) })
}

// Update runs fn in a write transaction, committed only when fn returns nil.
func (s *Store) Update(fn func(mockserver.Tx) error) error {
	return s.run(true, func(t *tx) error { return fn(t) })
}

// run runs fn in a transaction bounded by the store's timeout: read-only on a repeatable-read
// snapshot, or a read-committed write transaction whose tenants are locked as it reaches them.
// The transaction is rolled back when fn fails or panics.
func (s *Store) run(write bool, fn func(*tx) error) error {
	return s.runWithin(s.timeout, write, fn)
}

// bulkTimeouts is how many times the store's timeout a transaction over a whole tenant (ViewAll,
// UpdateAll: a state export or import) may take.
const bulkTimeouts = 12

// ViewOne runs fn, which makes one read and has no other effect, as that read alone: a
// statement outside a transaction sees a consistent snapshot of its own, so the read costs one
// round trip and no BEGIN nor COMMIT. Should fn make a second read, it is run again in a
// read-only transaction (View). It implements mockserver.SingleReader.
func (s *Store) ViewOne(fn func(mockserver.Tx) error) error {
	var c *session
	err := s.runSession(s.timeout, "", false, func(t *tx) error {
		c = t.c
		return fn(t)
	})
	if c != nil && c.more {
		return s.View(fn)
	}
	return err
}

// runWithin is run bounded by timeout.
func (s *Store) runWithin(timeout time.Duration, write bool, fn func(*tx) error) error {
	beginSQL := "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	if write {
		beginSQL = "BEGIN ISOLATION LEVEL READ COMMITTED"
	}
	return s.runSession(timeout, beginSQL, write, fn)
}

// runSession runs fn in a session begun with beginSQL (see begin), bounded by timeout.
func (s *Store) runSession(timeout time.Duration, beginSQL string, write bool, fn func(*tx) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := begin(ctx, s, beginSQL)
	committed := false
	defer func() {
		if !committed {
			_ = c.end(false)
		}
	}()
	t := &tx{s: s, c: c, write: write}
	if err := fn(t); err != nil {
		return err
	}
	committed = true
	if err := c.end(true); err != nil {
		return dbError(err)
	}
	t.woke()
	return nil
}

// dbError turns an error of the database into what the mock answers. The put's refusals
// (make_room) are the quota's 429 and the 409 of another tenant's id. The database being away
// (no connection, a connection lost, no answer in time, the server shutting down or full) is a
// 503 SERVICE_UNAVAILABLE that a retry may cure; any other error the server answered is a fault
// of the mock, left as it is (a 500). It returns nil for nil.
func dbError(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || unavailableCode(pgErr.Code) {
		return mockserver.NewError(mockserver.CodeServiceUnavailable,
			"The mock's database is unavailable at the moment; retry the request later.")
	}
	switch pgErr.Code {
	case "KM001":
		limit, _ := strconv.Atoi(pgErr.Detail)
		return mockserver.QuotaExceeded(kindNamed(pgErr.Message).what, limit, quotaFlag)
	case "KM003":
		return mockserver.ErrKeyInFlight
	case "KM002":
		return mockserver.NewError(mockserver.CodeAlreadyExists,
			fmt.Sprintf("The id %q of one of the %s is another tenant's.", pgErr.Detail, kindNamed(pgErr.Message).what))
	}
	return fmt.Errorf("database: %w", err)
}

// unavailableCode reports whether a SQLSTATE says the server cannot serve now rather than that
// the statement was wrong: connection exceptions (class 08), insufficient resources (class 53),
// operator intervention (class 57: shutdown, cancel) and the lock or deadlock timeouts of
// class 40P01 and 55P03.
func unavailableCode(code string) bool {
	switch code[:2] {
	case "08", "53", "57":
		return true
	}
	return code == "40P01" || code == "55P03"
}

// now is the tenant's time.
func (s *Store) now(tenant string) time.Time {
	if s.clock == nil {
		return time.Now()
	}
	return s.clock.Tenant(tenant).Now()
}
