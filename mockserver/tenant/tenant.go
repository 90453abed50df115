// Package tenant bounds how many tenants one mock process serves. A tenant is what
// mockhttp.Accounts.Resolve returns for an API key; every object, clock, journal and webhook
// queue of the mock is kept per tenant, so without a bound an unlimited number of fresh keys
// would grow the mock without end.
package tenant

import (
	"fmt"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// Registry knows every tenant the mock serves and when each last called. It is safe for
// concurrent use.
type Registry struct {
	max  int
	mu   sync.Mutex
	last map[string]time.Time
}

// New returns a Registry admitting at most max tenants at once; max must be positive.
func New(max int) *Registry {
	return &Registry{max: max, last: map[string]time.Time{}}
}

// Admit records a call of tenant id at now. A known tenant is always admitted; a new one only
// while fewer than max tenants are known, and otherwise gets the 429 QUOTA_EXCEEDED naming
// --max-tenants, the flag that raises the limit. The times given to Admit and Idle must come
// from one clock.
func (r *Registry) Admit(id string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if last, ok := r.last[id]; ok {
		// A call's time never goes back: calls racing each other keep the latest.
		if now.After(last) {
			r.last[id] = now
		}
		return nil
	}
	if len(r.last) >= r.max {
		return mockserver.NewError(mockserver.CodeQuotaExceeded, fmt.Sprintf(
			"The mock already serves %d tenants (API keys, or accounts of its accounts file), the most it serves at once. Start the mock with a higher --max-tenants to serve more.",
			r.max))
	}
	r.last[id] = now
	return nil
}

// Idle returns the tenants whose last call was before cutoff, in no particular order.
func (r *Registry) Idle(cutoff time.Time) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for id, last := range r.last {
		if last.Before(cutoff) {
			out = append(out, id)
		}
	}
	return out
}

// Forget drops tenant id, making room for a new tenant; when id calls again it is admitted as
// a new one.
func (r *Registry) Forget(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.last, id)
}

// Len is how many tenants are known.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.last)
}
