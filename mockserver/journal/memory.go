package journal

import (
	"context"
	"strings"
	"sync"
)

// Memory is the journal of a mock of its own: per tenant, a bounded ring of its entries, within
// BytesTotal for all tenants together. Each tenant has a ring of its own, so one tenant's load
// never pushes another's entries out.
type Memory struct {
	mu      sync.Mutex
	tenants map[string]*ring
	// cost is what the rings hold, by their cost, bounded by BytesTotal.
	cost int
}

// kept is an entry in a ring, with the scope List filters it by.
type kept struct {
	Entry
	scope string
}

// ring is one tenant's entries in the order received: entries[head:] are kept, at most PerTenant
// of them holding at most BytesPerTenant of bodies.
type ring struct {
	entries []kept
	head    int
	bytes   int
	seq     uint64
}

// push appends e and drops the oldest entries until the ring is within both bounds again. The
// dropped prefix is compacted away once it is as long as what is kept, so the slice never holds
// more than twice the bound.
func (r *ring) push(e kept) {
	r.entries = append(r.entries, e)
	r.bytes += e.Bytes()
	for len(r.entries)-r.head > PerTenant || (r.bytes > BytesPerTenant && len(r.entries)-r.head > 1) {
		r.dropOldest()
	}
}

// dropOldest drops the oldest entry kept, of which there must be one.
func (r *ring) dropOldest() {
	r.bytes -= r.entries[r.head].Bytes()
	r.entries[r.head] = kept{}
	r.head++
	if r.head >= len(r.entries)-r.head {
		r.entries = append(r.entries[:0:0], r.entries[r.head:]...)
		r.head = 0
	}
}

// cost is what the ring's entries count against BytesTotal.
func (r *ring) cost() int { return r.bytes + (len(r.entries)-r.head)*entryCost }

// NewMemory returns an empty journal in memory.
func NewMemory() *Memory { return &Memory{tenants: map[string]*ring{}} }

// Record keeps e in the tenant's ring, created on the tenant's first entry, and drops the oldest
// entries of the heaviest tenants while the journal holds more than BytesTotal. It never waits.
func (m *Memory) Record(_ context.Context, tenant, scope string, e Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.tenants[tenant]
	if r == nil {
		r = &ring{}
		m.tenants[tenant] = r
	}
	r.seq++
	e.Seq = r.seq
	before := r.cost()
	r.push(kept{Entry: e, scope: scope})
	m.cost += r.cost() - before
	for m.cost > BytesTotal {
		// The scan is over the tenants, bounded by the tenant limit, and runs only once the
		// journal is full: about one drop per entry recorded.
		var heaviest *ring
		for _, r := range m.tenants {
			if r.head < len(r.entries) && (heaviest == nil || r.cost() > heaviest.cost()) {
				heaviest = r
			}
		}
		before := heaviest.cost()
		heaviest.dropOldest()
		m.cost -= before - heaviest.cost()
	}
}

// List returns the tenant's entries f keeps, in the order received; it never fails.
func (m *Memory) List(_ context.Context, tenant string, f Filter) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.tenants[tenant]
	if r == nil {
		return nil, nil
	}
	var out []Entry
	for i := range r.entries[r.head:] {
		e := &r.entries[r.head+i]
		if (f.Scope == "" || e.scope == f.Scope) && e.Seq > f.Since && strings.Contains(e.Path, f.PathContains) {
			out = append(out, e.Entry)
		}
	}
	if f.Limit > 0 && len(out) > f.Limit {
		out = out[len(out)-f.Limit:]
	}
	return out, nil
}

// Forget drops the tenant's entries, and its seq: a tenant the mock meets again starts afresh.
func (m *Memory) Forget(tenant string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r := m.tenants[tenant]; r != nil {
		m.cost -= r.cost()
	}
	delete(m.tenants, tenant)
}
