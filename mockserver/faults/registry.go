package faults

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// Registry holds every tenant's faults. It is safe for concurrent use, and built for the request
// path: while no tenant holds a fault, Fire is one atomic load; a tenant's list is copied on
// every change and read without a lock.
type Registry struct {
	max int
	// held counts the faults of all tenants, so that a mock without faults looks up nothing.
	held atomic.Int64
	// mu guards tenants; each list is replaced, never changed in place, so a reader may keep
	// iterating one it read.
	mu      sync.RWMutex
	tenants map[string][]*Fault
}

// NewRegistry returns an empty registry whose tenants may hold maxPerTenant faults each; 0 or
// less means MaxPerTenant.
func NewRegistry(maxPerTenant int) *Registry {
	if maxPerTenant <= 0 {
		maxPerTenant = MaxPerTenant
	}
	return &Registry{max: maxPerTenant, tenants: map[string][]*Fault{}}
}

// Add checks def and gives tenant the fault it defines, created at now (the tenant's clock). A
// bad definition is a 400 VALIDATION_ERROR naming each offending field; a tenant that already
// holds its limit of faults gets a 403 FORBIDDEN, as an account at its limit of signing keys does.
func (r *Registry) Add(tenant string, def Definition, now time.Time) (View, error) {
	f, err := compile(def, now)
	if err != nil {
		return View{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	held := r.tenants[tenant]
	if len(held) >= r.max {
		return View{}, mockserver.NewError(mockserver.CodeForbidden, fmt.Sprintf(
			"This tenant already holds %d faults, the most it may; delete some (DELETE /mock/v1/faults) first.", r.max))
	}
	r.tenants[tenant] = append(slices.Clip(held), f)
	r.held.Add(1)
	return f.View(), nil
}

// List returns tenant's faults, oldest first. A fault that has hit its count of calls is retired
// and not listed.
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
// as an unknown one.
func (r *Registry) Delete(tenant, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	i := slices.IndexFunc(r.tenants[tenant], func(f *Fault) bool { return f.id == id })
	if i < 0 || r.tenants[tenant][i].spent() {
		return mockserver.NotFound("Fault", id)
	}
	r.removeLocked(tenant, i)
	return nil
}

// ForgetTenant removes every fault of tenant: DELETE /mock/v1/faults, and a reset or the mock
// forgetting an idle tenant.
func (r *Registry) ForgetTenant(tenant string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held.Add(-int64(len(r.tenants[tenant])))
	delete(r.tenants, tenant)
}

// Fire returns the fault that hits tenant's call of op, and counts it as fired; nil when none
// does. The oldest of the tenant's faults that names op (or All), whose conditions hold and that
// fires (its count not spent, its probability drawn) hits the call. facts gives the call's facts
// for conditions, nil for a call that is not an authorize; it is asked at most once, and only
// when a fault with conditions names op.
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
		if f.take() {
			if f.spent() {
				r.retire(tenant, f)
			}
			return f
		}
	}
	return nil
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
