package app

import (
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/webhook"
)

// SyncInterval is how often, in real time, a mock on a database takes up the tenants' clock
// moves, rules uploads and faults other mocks on the database made, and saves its own that are
// not saved yet (a clock move through the API is saved before it is answered, a fault before
// it is created).
const SyncInterval = 200 * time.Millisecond

// sharedSettings is what a mock on a database agreed with it of each tenant's settings: the
// clock offset and rules document it last saved or took up, so that each sync tells its own
// changes from the other mocks'. Moves add up: a mock saves how far it moved the clock since
// they last agreed, and the database answers the sum of every mock's moves, which the mock then
// moves its own clock to.
type sharedSettings struct {
	db *postgres.Store
	// mu makes syncs one at a time, and keeps them from running while a tenant is forgotten
	// (Mock.forgetTenant).
	mu sync.Mutex
	// tenants holds what was agreed of each tenant whose settings the database holds.
	tenants map[string]*agreed
}

// agreed is what a mock and the database agreed of one tenant's settings: the offset, the rules
// saved and the mock's own rules then (which differ when the mock could not read the saved ones),
// and the pause.
type agreed struct {
	offset     time.Duration
	rules      rulesText
	localRules rulesText
	paused     bool
}

// rulesText is a rules document as saved: its text (nil on the defaults) and whether it is JSON.
type rulesText struct {
	text *string
	json bool
}

func (r rulesText) equal(o rulesText) bool {
	return r.json == o.json && (r.text == nil && o.text == nil || r.text != nil && o.text != nil && *r.text == *o.text)
}

func newSharedSettings(db *postgres.Store) *sharedSettings {
	return &sharedSettings{db: db, tenants: map[string]*agreed{}}
}

// AdoptInterval is how often, in real time, a mock on a database takes up the pending webhook
// deliveries it does not hold (webhook.Notifier.Adopt) and the events waiting in the outbox
// (webhook.Notifier.DrainOutbox): those of a mock that stopped for good are made by the others
// within it.
const AdoptInterval = 5 * time.Second

// syncLoop runs syncSettings every SyncInterval, and adopt every AdoptInterval, until Close.
func (m *Mock) syncLoop(db *postgres.Store) {
	defer close(m.synced)
	tick := time.NewTicker(SyncInterval)
	defer tick.Stop()
	adopt := time.NewTicker(AdoptInterval)
	defer adopt.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-tick.C:
			if err := m.syncSettings(); err != nil {
				m.log.Error("syncing the tenants' settings with the database", "err", err)
			}
		case <-adopt.C:
			if err := m.adopt(db); err != nil {
				m.log.Error("taking up pending webhook deliveries", "err", err)
			}
		}
	}
}

// adopt hands the notifier every pending delivery the database holds, tenant by tenant, which
// queues those it does not hold, then has it drain the outbox.
func (m *Mock) adopt(db *postgres.Store) error {
	pending, err := db.PendingDeliveries()
	if err != nil {
		return err
	}
	byTenant := map[string][]*webhook.Delivery{}
	for _, d := range pending {
		byTenant[d.AccountID] = append(byTenant[d.AccountID], d)
	}
	for tenant, ds := range byTenant {
		m.Notifier.Adopt(tenant, ds)
	}
	m.Notifier.DrainOutbox()
	return nil
}

// syncSettings agrees every tenant's settings with a shared store: the tenants the database holds
// settings of and those this mock serves. A clock moved here since the last agreement is saved
// as the move it made; one the others moved is moved here too; rules uploaded and deliveries
// paused or resumed here are saved, those changed elsewhere taken up. A tenant whose settings the
// database no longer holds though it did was reset, or forgotten as idle, by another mock: it is
// forgotten here too (its clock, timers, journal, faults and queues; the store has removed its
// objects already). The faults of each tenant whose faults changed since the last sync, on any
// mock, are taken up (faults.Registry.Sync): one read of the tenants' versions when none did.
// A store of the process's own has nothing to agree.
func (m *Mock) syncSettings() error {
	s := m.store.shared()
	if s == nil {
		return nil
	}
	// An import wipes and refills the tenant's settings: agree with what it leaves.
	m.stateMu.Lock()
	defer m.stateMu.Unlock()
	// The settings are read under s.mu: a tenant ClockMoved agrees meanwhile (it saves the
	// tenant's row and notes the tenant, under s.mu) would otherwise be noted but missing from
	// what was read, and taken for a tenant another mock reset.
	s.mu.Lock()
	defer s.mu.Unlock()
	saved, err := s.db.TenantSettings()
	if err != nil {
		return err
	}
	// The server registry's tenants are those that called since they were last forgotten: all
	// of them, with a cutoff in the future.
	served := m.server.IdleTenants(m.Clock.Now().Add(time.Hour))
	seen := make(map[string]bool, len(saved)+len(served))
	for tenant, ts := range saved {
		seen[tenant] = true
		m.syncTenantLocked(s, tenant, &ts)
	}
	for tenant := range s.tenants {
		if !seen[tenant] {
			seen[tenant] = true
			m.syncTenantLocked(s, tenant, nil)
		}
	}
	for _, tenant := range served {
		if !seen[tenant] {
			m.syncTenantLocked(s, tenant, nil)
		}
	}
	// Under s.mu, so that a reset here (forgetTenant) does not run meanwhile.
	return m.Faults.Sync()
}

// syncTenantLocked agrees one tenant's settings, saved as ts (nil: none saved); s.mu is held.
func (m *Mock) syncTenantLocked(s *sharedSettings, tenant string, ts *postgres.TenantSettings) {
	a := s.tenants[tenant]
	if ts == nil && a != nil {
		delete(s.tenants, tenant)
		if err := m.forgetLocally(tenant); err != nil {
			m.log.Error("forgetting a tenant another mock reset", "tenant", tenant, "err", err)
			return
		}
		m.log.Debug("forgot a tenant another mock reset", "tenant", tenant)
		return
	}
	if a == nil {
		a = &agreed{}
	}
	var saved postgres.TenantSettings
	if ts != nil {
		saved = *ts
	} else {
		// A tenant this mock serves gets its row, so that a reset elsewhere, which removes
		// it, is seen here.
		offset, err := s.db.AddClockOffset(tenant, 0)
		if err != nil {
			m.log.Error("saving a tenant's settings", "tenant", tenant, "err", err)
			return
		}
		saved.ClockOffset = offset
	}
	// Kept from here on, so that a move saved below is not saved again by the next sync.
	s.tenants[tenant] = a
	if !m.syncClockLocked(s, tenant, a, saved.ClockOffset) {
		return
	}
	stored := rulesText{text: saved.Rules, json: saved.RulesJSON}
	switch local := m.localRules(tenant); {
	case !local.equal(a.localRules):
		if err := s.db.SaveTenantRules(tenant, local.text, local.json); err != nil {
			m.log.Error("saving a tenant's rules", "tenant", tenant, "err", err)
			return
		}
		a.rules, a.localRules = local, local
	case !stored.equal(a.rules):
		m.takeUpRules(tenant, stored)
		a.rules, a.localRules = stored, m.localRules(tenant)
	}
	switch local := m.Notifier.Status(tenant).Paused; {
	case local != a.paused:
		if err := s.db.SaveDeliveriesPaused(tenant, local); err != nil {
			m.log.Error("saving a tenant's delivery pause", "tenant", tenant, "err", err)
			return
		}
		a.paused = local
	case saved.DeliveriesPaused != a.paused:
		if saved.DeliveriesPaused {
			m.Notifier.Pause(tenant)
		} else {
			m.Notifier.Resume(tenant)
		}
		a.paused = saved.DeliveriesPaused
	}
}

// localRules returns the tenant's rules document as this mock has it.
func (m *Mock) localRules(tenant string) rulesText {
	if doc := m.Service.TenantRules(tenant); doc != nil {
		return rulesText{text: &doc.Text, json: doc.JSON}
	}
	return rulesText{}
}

// syncClockLocked agrees the tenant's clock: the move made here since the last agreement is
// saved, and the clock moved to the offset of all mocks' moves together, the saved one when
// nothing moved here. It reports false when the database could not be reached; s.mu is held.
func (m *Mock) syncClockLocked(s *sharedSettings, tenant string, a *agreed, saved time.Duration) bool {
	c := m.Clock.Tenant(tenant)
	local := c.Offset() - m.Clock.Offset()
	target := saved
	if moved := local - a.offset; moved > 0 {
		var err error
		if target, err = s.db.AddClockOffset(tenant, moved); err != nil {
			m.log.Error("saving a tenant's clock move", "tenant", tenant, "err", err)
			return false
		}
	}
	// One move may be at most clock.MaxAdvance; the moves saved may add up to more.
	for left := target - local; left > 0; left -= clock.MaxAdvance {
		if _, err := c.TryAdvance(min(left, clock.MaxAdvance)); err != nil {
			m.log.Error("moving a tenant's clock to the saved offset", "tenant", tenant, "offset", target, "err", err)
			break
		}
	}
	a.offset = max(target, local)
	return true
}

// ClockMoved saves, before the move is answered, a move of the tenant's clock made through the
// API, on a store other mocks may share; they take it up within SyncInterval. On a store of the
// process's own it does nothing.
func (m *Mock) ClockMoved(tenant string) {
	s := m.store.shared()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.tenants[tenant]
	if a == nil {
		a = &agreed{}
	}
	local := m.Clock.Tenant(tenant).Offset() - m.Clock.Offset()
	if local <= a.offset {
		return
	}
	if m.syncClockLocked(s, tenant, a, a.offset) {
		s.tenants[tenant] = a
	}
}

// pauseChanged saves a pause or resume of the tenant's deliveries at once, on a store other mocks
// may share: their claims of the tenant's attempts are refused from now on, and they pause their
// own queues within SyncInterval. On a store of the process's own it does nothing.
func (m *Mock) pauseChanged(tenant string, paused bool) {
	s := m.store.shared()
	if s == nil {
		return
	}
	if err := s.db.SaveDeliveriesPaused(tenant, paused); err != nil {
		m.log.Error("saving a tenant's delivery pause", "tenant", tenant, "paused", paused, "err", err)
	}
}

// takeUpRules makes a rules document saved by another mock the tenant's. One this binary cannot
// read (a newer check refuses it) is logged and left out, rather than keeping the mock from
// starting.
func (m *Mock) takeUpRules(tenant string, r rulesText) {
	if r.text == nil {
		m.Service.SetTenantRules(tenant, nil)
		return
	}
	doc, err := mockserver.ParseRules([]byte(*r.text), r.json)
	if err != nil {
		m.log.Error("taking up a tenant's rules", "tenant", tenant, "err", err)
		return
	}
	m.Service.SetTenantRules(tenant, doc)
}
