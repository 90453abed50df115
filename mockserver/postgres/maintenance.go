package postgres

import (
	"context"
	"errors"
	"maps"
	"strconv"
)

// pruneSQL removes the tenant's objects finished by the cutoff ($2) and uncounts them, answering
// how many it removed. $3 lists every kind (kindNames), so that the index objects_done finds the
// finished objects kind by kind.
const pruneSQL = `
WITH gone AS (
	DELETE FROM objects WHERE tenant = $1 AND kind = ANY($3) AND done_at <= $2 RETURNING kind
), by_kind AS (
	SELECT kind, count(*) AS n FROM gone GROUP BY kind
), counted AS (
	UPDATE tenant_counts c SET n = c.n - b.n FROM by_kind b WHERE c.tenant = $1 AND c.kind = b.kind
)
SELECT coalesce(sum(n), 0) FROM by_kind`

// Prune removes every finished object whose DoneAt lies Retention or more before its tenant's
// now, and reports how many it removed. It runs one write transaction per tenant, so a writer
// waits for at most one tenant's share; it is meant for one background loop, never the request
// path. Several replicas may prune the same database: each tenant's turn holds its lock.
func (s *Store) Prune() (removed int, err error) {
	tenants, err := s.Tenants()
	if err != nil {
		return 0, err
	}
	cutoffs := make([]int64, len(tenants))
	for i, tenant := range tenants {
		cutoffs[i] = doneKey(s.now(tenant).Add(-s.retention))
	}
	// One query finds the tenants with something to prune, so that a quiet sandbox costs one
	// round trip per sweep, not a transaction per tenant.
	var due []int
	err = s.run(false, func(t *tx) error {
		due, err = scanAll(t, `
			SELECT c.i::text FROM unnest($1::text[], $2::bigint[]) WITH ORDINALITY AS c(tenant, cutoff, i)
			WHERE EXISTS (SELECT 1 FROM objects o WHERE o.tenant = c.tenant AND o.kind = ANY($3) AND o.done_at <= c.cutoff)`,
			func(_ string, i []byte) (int, error) { return strconv.Atoi(string(i)) }, tenants, cutoffs, kindNames())
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, i := range due {
		tenant, cutoff := tenants[i-1], cutoffs[i-1]
		err := s.run(true, func(t *tx) error {
			if _, err := t.lock(tenant); err != nil {
				return err
			}
			var n int
			if err := t.c.queryRow(pruneSQL, tenant, cutoff, kindNames()).Scan(&n); err != nil {
				return dbError(err)
			}
			removed += n
			return nil
		})
		if err != nil {
			return removed, err
		}
	}
	// The counts of kinds no tenant holds any more go too. A writer counting a new object takes
	// the row's lock first, and the delete then sees its count and leaves the row. So do the
	// claims that ran out, which grant nothing any more.
	return removed, s.run(true, func(t *tx) error {
		return dbError(errors.Join(t.c.hold(`DELETE FROM claims WHERE until < now()`),
			t.c.exec(`DELETE FROM tenant_counts WHERE n <= 0`)))
	})
}

// ForgetTenant removes every object of the tenant, live or finished, in one transaction.
func (s *Store) ForgetTenant(tenant string) error {
	return s.run(true, func(t *tx) error { return t.DeleteTenant(tenant) })
}

// Count reports how many objects of each kind the tenant holds, keyed by memdb's table names
// (payment_request, payment_transaction, customer_token, network_session, idempotency,
// notification_signing_key, notification_webhook, notification_delivery); kinds it holds none of
// are left out.
func (s *Store) Count(tenant string) (map[string]int, error) {
	return s.counts(`SELECT kind, n FROM tenant_counts WHERE tenant = $1 AND n > 0`, tenant)
}

// Totals reports how many objects of each kind the store holds for all tenants together, keyed
// as Count is; every kind is listed, held or not, so that a metric of each stays continuous.
func (s *Store) Totals() (map[string]int, error) {
	held, err := s.counts(`SELECT kind, sum(n)::bigint FROM tenant_counts GROUP BY kind`)
	if err != nil {
		return nil, err
	}
	out := make(map[string]int, len(allKinds))
	for _, k := range allKinds {
		out[k.name] = 0
	}
	maps.Copy(out, held)
	return out, nil
}

// counts runs a query answering (kind, n) rows.
func (s *Store) counts(q string, args ...any) (map[string]int, error) {
	return queryMap[int](s, q, args...)
}

// queryMap runs a query answering (key, value) rows, within the store's timeout, and returns them
// as a map.
func queryMap[V any](s *Store, q string, args ...any) (map[string]V, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, dbError(err)
	}
	defer rows.Close()
	out := map[string]V{}
	for rows.Next() {
		var k string
		var v V
		if err := rows.Scan(&k, &v); err != nil {
			return nil, dbError(err)
		}
		out[k] = v
	}
	return out, dbError(rows.Err())
}

// Tenants lists the tenants that hold objects, for resuming their timers at start.
func (s *Store) Tenants() ([]string, error) {
	var tenants []string
	err := s.run(false, func(t *tx) error {
		var err error
		tenants, err = scanAll(t, `SELECT DISTINCT tenant FROM tenant_counts WHERE n > 0 ORDER BY tenant`,
			func(_ string, tenant []byte) (string, error) { return string(tenant), nil })
		return err
	})
	return tenants, err
}
