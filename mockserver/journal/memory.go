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

// ring is one tenant's entries in the order received, at most PerTenant of them holding at most
// BytesPerTenant of bodies: a circular buffer, the i-th oldest at entries[(head+i)%len(entries)],
// so that an entry in and the oldest out neither allocate nor move the others.
type ring struct {
	entries []kept
	head, n int
	bytes   int
	seq     uint64
}

// minRing is the fewest entries a ring makes room for at once.
const minRing = 8

// at is the i-th oldest entry kept, for i below n.
func (r *ring) at(i int) *kept { return &r.entries[(r.head+i)%len(r.entries)] }

// push appends e and drops the oldest entries until the ring is within both bounds again; the
// newest entry is kept whatever its size.
func (r *ring) push(e kept) {
	if r.n == PerTenant {
		r.dropOldest()
	}
	if r.n == len(r.entries) {
		r.resize(min(max(2*r.n, minRing), PerTenant))
	}
	*r.at(r.n) = e
	r.n++
	r.bytes += e.Bytes()
	for r.bytes > BytesPerTenant && r.n > 1 {
		r.dropOldest()
	}
}

// dropOldest drops the oldest entry kept, of which there must be one. A ring down to a quarter
// of its room gives half of it back, so that one that held many small entries once does not keep
// the room for them.
func (r *ring) dropOldest() {
	old := r.at(0)
	r.bytes -= old.Bytes()
	*old = kept{}
	r.head = (r.head + 1) % len(r.entries)
	r.n--
	if len(r.entries) > minRing && r.n <= len(r.entries)/4 {
		r.resize(max(2*r.n, minRing))
	}
}

// resize moves the entries kept, oldest first, into room for size of them.
func (r *ring) resize(size int) {
	entries := make([]kept, size)
	for i := range r.n {
		entries[i] = *r.at(i)
	}
	r.entries, r.head = entries, 0
}

// cost is what the ring's entries count against BytesTotal.
func (r *ring) cost() int { return r.bytes + r.n*entryCost }

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
			if r.n > 0 && (heaviest == nil || r.cost() > heaviest.cost()) {
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
	for i := range r.n {
		e := r.at(i)
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
