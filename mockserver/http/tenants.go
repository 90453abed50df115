package http

import "time"

// DefaultMaxTenants is how many tenants a server admits at once unless Deps.MaxTenants says
// otherwise: far more than the CI jobs sharing one mock, few enough that each tenant's bounded
// state (objects, journal, webhook queues) times the tenants fits in memory.
const DefaultMaxTenants = 1000

// IdleTenants returns the tenants whose last authenticated call was before cutoff, on the
// service's base clock: candidates for forgetting once they hold no live data.
func (s *Server) IdleTenants(cutoff time.Time) []string { return s.tenants.Idle(cutoff) }

// Tenants reports how many tenants the server admits now: those counted against the limit.
func (s *Server) Tenants() int { return s.tenants.Len() }

// ForgetTenant drops what the server keeps of a tenant, its journal and its place among the
// admitted tenants, so a new tenant can take it. The tenant's objects, clock and webhook queues
// are their owners' to forget.
func (s *Server) ForgetTenant(tenant string) {
	s.journal.forget(tenant)
	s.tenants.Forget(tenant)
}
