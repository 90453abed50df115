package postgres

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klarna-mock/klarna-mock/mockserver/faults"
)

// Faults returns the store's faults.Backing: the tenants' faults in the table faults, shared by
// every mock on the database (migrations/0006_faults.sql).
//
// Every change of a tenant's faults, and every call one hit, also moves the tenant's version on
// (fault_versions), so that each mock reads again only the tenants whose faults changed. A
// change locks the fault's row before the version's, and an add, a removal or a clear holds the
// tenant's lock, so that they never wait for each other in a circle.
func (s *Store) Faults() faults.Backing { return faultStore{s: s} }

type faultStore struct{ s *Store }

// bumpFaultsSQL moves the tenant's version on.
const bumpFaultsSQL = `
INSERT INTO fault_versions (tenant, version) VALUES ($1, nextval('fault_version'))
ON CONFLICT (tenant) DO UPDATE SET version = excluded.version`

// Save stores the fault under the tenant's lock, unless the tenant holds limit faults already.
func (b faultStore) Save(tenant string, v faults.View, limit int) (bool, error) {
	def, err := json.Marshal(v.Definition)
	if err != nil {
		return false, fmt.Errorf("postgres: encoding fault %s: %w", v.ID, err)
	}
	var count *int
	if v.Count > 0 {
		count = &v.Count
	}
	saved := false
	err = b.s.run(true, func(t *tx) error {
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		var held int
		if err := t.c.queryRow(`SELECT count(*) FROM faults WHERE tenant = $1`, tenant).Scan(&held); err != nil || held >= limit {
			return dbError(err)
		}
		saved = true
		return dbError(errors.Join(
			t.c.hold(`INSERT INTO faults (tenant, fault_id, definition, count, fired, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
				tenant, v.ID, string(def), count, v.Fired, v.CreatedAt.UnixNano()),
			t.c.hold(bumpFaultsSQL, tenant)))
	})
	return saved && err == nil, err
}

// Delete removes the fault under the tenant's lock.
func (b faultStore) Delete(tenant, id string) (bool, error) {
	found := false
	err := b.s.run(true, func(t *tx) error {
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		var n int
		if err := t.c.queryRow(`WITH gone AS (DELETE FROM faults WHERE tenant = $1 AND fault_id = $2 RETURNING 1)
			SELECT count(*) FROM gone`, tenant, id).Scan(&n); err != nil || n == 0 {
			return dbError(err)
		}
		found = true
		return dbError(t.c.hold(bumpFaultsSQL, tenant))
	})
	return found && err == nil, err
}

// Clear removes every fault of the tenant under its lock, keeping its version (moved on) so that
// every mock takes the removal up.
func (b faultStore) Clear(tenant string) error {
	return b.s.run(true, func(t *tx) error {
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		return dbError(errors.Join(t.c.hold(`DELETE FROM faults WHERE tenant = $1`, tenant), t.c.hold(bumpFaultsSQL, tenant)))
	})
}

// claimFaultSQL counts one call hit by a fault whose count is not spent, answering the calls it
// hit in all and its count (0 for none). Concurrent claims of one fault wait for each other on
// its row, and each sees the count the one before it left.
const claimFaultSQL = `
UPDATE faults SET fired = fired + 1
WHERE tenant = $1 AND fault_id = $2 AND (count IS NULL OR fired < count)
RETURNING fired, coalesce(count, 0)`

// Claim counts one call hit by the fault without the tenant's lock, which the call's own writes
// may hold: the fault's row serializes the claims. The claim that spends a count deletes the row.
func (b faultStore) Claim(tenant, id string) (int64, bool, error) {
	var fired, count int64
	ok := false
	err := b.s.run(true, func(t *tx) error {
		if err := t.c.queryRow(claimFaultSQL, tenant, id).Scan(&fired, &count); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			return dbError(err)
		}
		ok = true
		if count > 0 && fired >= count {
			if err := t.c.hold(`DELETE FROM faults WHERE tenant = $1 AND fault_id = $2`, tenant, id); err != nil {
				return dbError(err)
			}
		}
		return dbError(t.c.hold(bumpFaultsSQL, tenant))
	})
	return fired, ok && err == nil, err
}

// Load reads the tenant's faults and version in one statement, so one snapshot.
func (b faultStore) Load(tenant string) ([]faults.View, int64, error) {
	var out []faults.View
	var version int64
	err := b.s.run(false, func(t *tx) error {
		out, version = nil, 0
		rows, err := t.c.query(`
			SELECT v.version, f.fault_id, f.definition, f.fired, f.created_at
			FROM (SELECT coalesce((SELECT version FROM fault_versions WHERE tenant = $1), 0) AS version) v
			LEFT JOIN faults f ON f.tenant = $1
			ORDER BY f.seq`, tenant)
		if err != nil {
			return dbError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id, def *string
			var fired, created *int64
			if err := rows.Scan(&version, &id, &def, &fired, &created); err != nil {
				return dbError(err)
			}
			if id == nil {
				continue // no fault: the row of the version alone
			}
			v := faults.View{ID: *id, Fired: *fired, CreatedAt: time.Unix(0, *created).UTC()}
			if err := json.Unmarshal([]byte(*def), &v.Definition); err != nil {
				return fmt.Errorf("postgres: decoding fault %s: %w", *id, err)
			}
			out = append(out, v)
		}
		return dbError(rows.Err())
	})
	return out, version, err
}

// Versions reads every tenant's version in one statement, outside a transaction: every mock on
// the database asks at each sync.
func (b faultStore) Versions() (map[string]int64, error) {
	return queryMap[int64](b.s, `SELECT tenant, version FROM fault_versions`)
}
