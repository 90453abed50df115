package faults

import (
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// Backing keeps the tenants' faults where several registries share them: a database several
// mocks run on (mockserver/postgres). The backing holds what is true of a fault, its definition
// and how often it fired on every mock; a registry keeps a copy of it for the request path, which
// asks the backing only when a fault matches a call (Claim).
type Backing interface {
	// Save keeps the tenant's new fault v, unless the tenant holds limit faults already: it
	// reports whether it saved it.
	Save(tenant string, v View, limit int) (bool, error)
	// Delete removes the tenant's fault id, and reports whether the backing held it.
	Delete(tenant, id string) (bool, error)
	// Clear removes every fault of the tenant.
	Clear(tenant string) error
	// Claim counts one call hit by the tenant's fault id and returns how many it hit in all;
	// false when the fault is gone: removed, or its count of calls spent. A fault with a count
	// is claimed exactly count times however many registries race for it, and retires with the
	// last claim.
	Claim(tenant, id string) (fired int64, ok bool, err error)
	// Load returns the tenant's faults, oldest first, and the tenant's version, read together.
	Load(tenant string) (vs []View, version int64, err error)
	// Versions returns the version of every tenant whose faults the backing keeps. A tenant's
	// version changes with every change of its faults, calls hit included, and never comes back
	// to one it had; a tenant forgotten (reset) is no longer listed.
	Versions() (map[string]int64, error)
}

// Registry holds every tenant's faults. It is safe for concurrent use, and built for the request
// path: while no tenant holds a fault, Fire is one atomic load; a tenant's list is copied on
// every change and read without a lock.
//
// A registry with a Backing (NewSharedRegistry) writes every change through to it, claims each
// call a fault hits from it, and takes up the changes other registries on it made when Sync or
// Refresh asks: a fault added through one registry hits the matching calls of another once it
// took it up, and a fault with a count fires count times across all of them.
type Registry struct {
	max     int
	backing Backing
	log     *slog.Logger
	// held counts the faults of all tenants, so that a mock without faults looks up nothing.
	held atomic.Int64
	// mu guards tenants, versions and changedAt; each list is replaced, never changed in
	// place, so a reader may keep iterating one it read.
	mu      sync.RWMutex
	tenants map[string][]*Fault
	// versions holds the backing's version of each tenant whose faults the registry took up,
	// so that Sync loads again only the tenants changed since.
	versions map[string]int64
	// changes counts the changes made through this registry to the backing; changedAt holds
	// the count at each tenant's last one, and floor stands for the entries Sync dropped. What
	// the backing answered before a change of the tenant here may not hold the change, and is
	// not taken up (takeUp).
	changes   atomic.Uint64
	changedAt map[string]uint64
	floor     uint64
}

// NewRegistry returns an empty registry, of this process only, whose tenants may hold
// maxPerTenant faults each; 0 or less means MaxPerTenant.
func NewRegistry(maxPerTenant int) *Registry {
	return NewSharedRegistry(maxPerTenant, nil, nil)
}

// NewSharedRegistry returns a registry whose faults b keeps (nil: none, as NewRegistry's), with
// the limit NewRegistry takes. A call whose claim the backing cannot answer is logged on logger
// (nil: nowhere) and served without a fault.
func NewSharedRegistry(maxPerTenant int, b Backing, logger *slog.Logger) *Registry {
	if maxPerTenant <= 0 {
		maxPerTenant = MaxPerTenant
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Registry{max: maxPerTenant, backing: b, log: logger, tenants: map[string][]*Fault{},
		versions: map[string]int64{}, changedAt: map[string]uint64{}}
}

// Add checks def and gives tenant the fault it defines, created at now (the tenant's clock). A
// bad definition is a 400 VALIDATION_ERROR naming each offending field; a tenant that already
// holds its limit of faults gets a 403 FORBIDDEN, as an account at its limit of signing keys does.
// With a backing, the fault is saved there first, and the backing's count is the one limited.
func (r *Registry) Add(tenant string, def Definition, now time.Time) (View, error) {
	f, err := compile(def, now)
	if err != nil {
		return View{}, err
	}
	if r.backing != nil {
		saved, err := r.backing.Save(tenant, f.View(), r.max)
		if err != nil {
			return View{}, err
		}
		if !saved {
			return View{}, r.full()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.tenants[tenant]
	if r.backing != nil {
		r.changedLocked(tenant)
		// A Refresh since the save may have taken the fault up already.
		if slices.ContainsFunc(held, func(h *Fault) bool { return h.id == f.id }) {
			return f.View(), nil
		}
	} else if len(held) >= r.max {
		return View{}, r.full()
	}
	r.tenants[tenant] = append(slices.Clip(held), f)
	r.held.Add(1)
	return f.View(), nil
}

// full is the 403 of a tenant at its limit of faults.
func (r *Registry) full() error {
	return mockserver.NewError(mockserver.CodeForbidden, fmt.Sprintf(
		"This tenant already holds %d faults, the most it may; delete some (DELETE /mock/v1/faults) first.", r.max))
}

// List returns tenant's faults, oldest first. A fault that has hit its count of calls is retired
// and not listed. With a backing, the list is the registry's copy: Refresh first to read the
// backing's.
func (r *Registry) List(tenant string) []View {
	r.mu.RLock()
	held := r.tenants[tenant]
	r.mu.RUnlock()
	out := make([]View, 0, len(held))
	for _, f := range held {
		if !f.spent() {
			out = append(out, f.View())
		}
	}
	return out
}

// Delete removes tenant's fault id; another tenant's fault, or a retired one, is a 404 NOT_FOUND
// as an unknown one. With a backing, the fault is removed there, whichever registry added it.
func (r *Registry) Delete(tenant, id string) error {
	found := false
	if r.backing != nil {
		var err error
		if found, err = r.backing.Delete(tenant, id); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.tenants[tenant], func(f *Fault) bool { return f.id == id })
	if r.backing != nil {
		r.changedLocked(tenant)
	} else {
		found = i >= 0 && !r.tenants[tenant][i].spent()
	}
	if i >= 0 {
		r.removeLocked(tenant, i)
	}
	if !found {
		return mockserver.NotFound("Fault", id)
	}
	return nil
}

// Clear removes every fault of tenant, from the backing too: DELETE /mock/v1/faults.
func (r *Registry) Clear(tenant string) error {
	if r.backing != nil {
		if err := r.backing.Clear(tenant); err != nil {
			return err
		}
	}
	r.ForgetTenant(tenant)
	return nil
}

// ForgetTenant removes every fault the registry holds of tenant, for a reset or the mock
// forgetting an idle tenant, and for a tenant another mock on the backing forgot. A backing's
// faults stay: the store forgetting the tenant removes them with the rest of its state.
func (r *Registry) ForgetTenant(tenant string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.backing != nil {
		r.changedLocked(tenant)
	}
	r.forgetLocked(tenant)
}

// forgetLocked drops what the registry holds of tenant; r.mu is held.
func (r *Registry) forgetLocked(tenant string) {
	r.held.Add(-int64(len(r.tenants[tenant])))
	delete(r.tenants, tenant)
	delete(r.versions, tenant)
}

// changedLocked notes a change of tenant's faults made through the registry; r.mu is held.
func (r *Registry) changedLocked(tenant string) {
	r.changedAt[tenant] = r.changes.Add(1)
}

// changedSinceLocked reports whether tenant's faults changed through the registry after the
// count since was read; r.mu is held.
func (r *Registry) changedSinceLocked(tenant string, since uint64) bool {
	at, ok := r.changedAt[tenant]
	if !ok {
		at = r.floor
	}
	return at > since
}

// Fire returns the fault that hits tenant's call of op, and counts it as fired; nil when none
// does. The oldest of the tenant's faults that names op (or All), whose conditions hold and that
// fires (its count not spent, its probability drawn) hits the call. facts gives the call's facts
// for conditions, nil for a call that is not an authorize; it is asked at most once, and only
// when a fault with conditions names op. With a backing, a fault that matches is claimed from the
// backing, which has the last word on its count; one the backing no longer holds retires and lets
// the next one try.
func (r *Registry) Fire(tenant string, op Operation, facts func() *rules.Facts) *Fault {
	if r.held.Load() == 0 {
		return nil
	}
	r.mu.RLock()
	held := r.tenants[tenant]
	r.mu.RUnlock()
	bit := op.bit() | All.bit()
	var fs *rules.Facts
	judged := false
	for _, f := range held {
		if f.ops&bit == 0 {
			continue
		}
		if f.when != nil {
			if !judged {
				fs, judged = facts(), true
			}
			if _, ok := f.when.Lookup(fs); !ok {
				continue
			}
		}
		if r.backing == nil {
			if !f.take() {
				continue
			}
		} else if hit, err := r.claim(tenant, f); err != nil {
			r.log.Warn("claiming a fault's firing", "tenant", tenant, "fault", f.id, "err", err)
			return nil
		} else if !hit {
			continue
		}
		if f.spent() {
			r.retire(tenant, f)
		}
		return f
	}
	return nil
}

// claim decides whether f, which matches tenant's call, hits it: its probability drawn, then
// the firing claimed from the backing. One the backing no longer holds retires.
func (r *Registry) claim(tenant string, f *Fault) (bool, error) {
	if f.spent() || !f.draw() {
		return false, nil
	}
	fired, ok, err := r.backing.Claim(tenant, f.id)
	if err != nil || !ok {
		if err == nil {
			r.retire(tenant, f)
		}
		return false, err
	}
	f.seen(fired)
	return true, nil
}

// Refresh takes up tenant's faults as the backing holds them now: those other registries added
// or removed, and how often each fired on all of them. Without a backing it does nothing.
func (r *Registry) Refresh(tenant string) error {
	if r.backing == nil {
		return nil
	}
	since := r.changes.Load()
	vs, version, err := r.backing.Load(tenant)
	if err != nil {
		return err
	}
	r.takeUp(tenant, vs, version, since)
	return nil
}

// Sync takes up the changes other registries made on the backing: the faults of each tenant whose
// version is not the one last taken up are loaded again, and a tenant the backing no longer
// holds is forgotten. A tenant whose faults did not change costs nothing beyond the one read of
// the versions. Without a backing it does nothing.
func (r *Registry) Sync() error {
	if r.backing == nil {
		return nil
	}
	since := r.changes.Load()
	versions, err := r.backing.Versions()
	if err != nil {
		return err
	}
	var stale []string
	r.mu.Lock()
	for tenant, v := range versions {
		if known, ok := r.versions[tenant]; !ok || known != v {
			stale = append(stale, tenant)
		}
	}
	// A tenant the backing no longer holds was forgotten by another registry (a reset).
	forget := func(tenant string) {
		if _, ok := versions[tenant]; !ok && !r.changedSinceLocked(tenant, since) {
			r.forgetLocked(tenant)
		}
	}
	for tenant := range r.tenants {
		forget(tenant)
	}
	for tenant := range r.versions {
		forget(tenant)
	}
	// The changes before this sync began stand together for the tenants they were of, so that
	// changedAt keeps only the tenants changed since: a read that began before them all is still
	// not taken up.
	for tenant, at := range r.changedAt {
		if at <= since {
			delete(r.changedAt, tenant)
		}
	}
	r.floor = max(r.floor, since)
	r.mu.Unlock()
	for _, tenant := range stale {
		if err := r.Refresh(tenant); err != nil {
			return err
		}
	}
	return nil
}

// takeUp makes vs, the backing's faults of tenant at version, the registry's, unless the
// tenant's faults changed through the registry since the read began (since): the read may not
// hold that change, and the next Sync reads again. A fault the registry holds already keeps its
// generator's draws and the larger fired count; one this binary cannot read is logged and left
// out, rather than keeping the others from being taken up.
func (r *Registry) takeUp(tenant string, vs []View, version int64, since uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changedSinceLocked(tenant, since) {
		return
	}
	old := r.tenants[tenant]
	list := make([]*Fault, 0, len(vs))
	for _, v := range vs {
		if i := slices.IndexFunc(old, func(f *Fault) bool { return f.id == v.ID }); i >= 0 {
			old[i].seen(v.Fired)
			list = append(list, old[i])
			continue
		}
		f, err := restore(v)
		if err != nil {
			r.log.Error("taking up a fault", "tenant", tenant, "fault", v.ID, "err", err)
			continue
		}
		list = append(list, f)
	}
	r.held.Add(int64(len(list) - len(old)))
	if len(list) == 0 {
		delete(r.tenants, tenant)
	} else {
		r.tenants[tenant] = list
	}
	if version == 0 {
		delete(r.versions, tenant)
	} else {
		r.versions[tenant] = version
	}
}

// retire removes a fault that hit its count of calls, unless it is already gone.
func (r *Registry) retire(tenant string, f *Fault) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i := slices.Index(r.tenants[tenant], f); i >= 0 {
		r.removeLocked(tenant, i)
	}
}

// removeLocked removes tenant's i-th fault into a new list; r.mu is held.
func (r *Registry) removeLocked(tenant string, i int) {
	held := r.tenants[tenant]
	if len(held) == 1 {
		delete(r.tenants, tenant)
	} else {
		r.tenants[tenant] = slices.Delete(slices.Clone(held), i, i+1)
	}
	r.held.Add(-1)
}
