package http

import "net/http"

// resetAnswer is the body of POST /mock/v1/reset.
type resetAnswer struct {
	Reset bool `json:"reset"`
	// ObjectsRemoved counts the stored objects of every kind (Payment Requests, transactions,
	// tokens, idempotency records, signing keys, webhooks, deliveries) the tenant held as the
	// reset began.
	ObjectsRemoved int `json:"objects_removed"`
}

// resetTenant wipes the caller's tenant, live data included, and forgets it, so that it no longer
// counts against the tenant limit (Deps.Reset). A suite sharing a long-lived mock calls it as a
// test ends, with the test's own key, to leave nothing behind. With an accounts file the tenant is
// the key's partner account, so every key of that account loses its state.
func (s *Server) resetTenant(w http.ResponseWriter, r *request) error {
	n, err := s.reset(r.tenant)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, resetAnswer{Reset: true, ObjectsRemoved: n})
}
