package postgres

import "time"

// TenantSettings is what the store keeps of a tenant besides its objects, for a mock to restore
// when it starts and for the mocks sharing the database to agree on: how far the tenant moved its
// clock ahead of the mock's, its own rules document as it was sent (nil on the defaults), and
// whether its deliveries are paused.
type TenantSettings struct {
	ClockOffset time.Duration
	Rules       *string
	RulesJSON   bool
	// DeliveriesPaused reports that the tenant paused its webhook deliveries.
	DeliveriesPaused bool
}

// AddClockOffset moves the tenant's saved clock offset d further ahead, and returns the offset
// it is at now: moves made by several processes on the database add up, as moves on one clock
// do.
func (s *Store) AddClockOffset(tenant string, d time.Duration) (time.Duration, error) {
	var offset int64
	err := s.run(true, func(t *tx) error {
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		return dbError(t.c.queryRow(`
			INSERT INTO tenant_settings AS s (tenant, clock_offset) VALUES ($1, $2)
			ON CONFLICT (tenant) DO UPDATE SET clock_offset = s.clock_offset + excluded.clock_offset
			RETURNING clock_offset`, tenant, int64(d)).Scan(&offset))
	})
	return time.Duration(offset), err
}

// SaveTenantRules stores the tenant's rules document (nil: the defaults) in place of the one
// saved before, leaving its clock offset as it is.
func (s *Store) SaveTenantRules(tenant string, rules *string, json bool) error {
	return s.run(true, func(t *tx) error {
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		return dbError(t.c.exec(`
			INSERT INTO tenant_settings (tenant, rules, rules_json) VALUES ($1, $2, $3)
			ON CONFLICT (tenant) DO UPDATE SET rules = excluded.rules, rules_json = excluded.rules_json`,
			tenant, rules, json))
	})
}

// SaveDeliveriesPaused stores whether the tenant's deliveries are paused.
func (s *Store) SaveDeliveriesPaused(tenant string, paused bool) error {
	return s.run(true, func(t *tx) error {
		if _, err := t.lock(tenant); err != nil {
			return err
		}
		return dbError(t.c.exec(`
			INSERT INTO tenant_settings (tenant, deliveries_paused) VALUES ($1, $2)
			ON CONFLICT (tenant) DO UPDATE SET deliveries_paused = excluded.deliveries_paused`,
			tenant, paused))
	})
}

// TenantSettings returns every tenant's saved settings. Forgetting a tenant (ForgetTenant,
// DeleteTenant) removes its settings with its objects.
func (s *Store) TenantSettings() (map[string]TenantSettings, error) {
	out := map[string]TenantSettings{}
	err := s.run(false, func(t *tx) error {
		rows, err := t.c.query(`SELECT tenant, clock_offset, rules, rules_json, deliveries_paused FROM tenant_settings`)
		if err != nil {
			return dbError(err)
		}
		defer rows.Close()
		for rows.Next() {
			var tenant string
			var offset int64
			var ts TenantSettings
			if err := rows.Scan(&tenant, &offset, &ts.Rules, &ts.RulesJSON, &ts.DeliveriesPaused); err != nil {
				return dbError(err)
			}
			ts.ClockOffset = time.Duration(offset)
			out[tenant] = ts
		}
		return dbError(rows.Err())
	})
	return out, err
}
