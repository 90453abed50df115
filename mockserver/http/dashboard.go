package http

import (
	"bytes"
	"context"
	"io"
	"net/http"
)

// EnableDashboard mounts the dashboard h at /dashboard and redirects / there (dashboardRoutes).
// Call it once, before the server serves requests; without it those paths answer 404.
func (s *Server) EnableDashboard(h http.Handler) error {
	for _, rt := range dashboardRoutes(h) {
		if err := s.add(rt); err != nil {
			return err
		}
	}
	return nil
}

// passTo hands a route's request to h with its body, which serve has already read, to read
// again.
func passTo(h http.Handler) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		r.Request.Body = io.NopCloser(bytes.NewReader(r.body))
		h.ServeHTTP(w, r.Request)
		return nil
	}
}

// Authenticate resolves an Authorization header to its tenant as every API route does
// (Accounts.Resolve on a path without a partner account) and admits the tenant, counted against
// the tenant limit like an API call, so that what the dashboard changes for a tenant is forgotten
// with it.
func (s *Server) Authenticate(authorization string) (string, error) {
	tenant, err := s.accounts.Resolve(authorization, "")
	if err != nil {
		return "", err
	}
	if err := s.tenants.Admit(tenant, s.svc.Clock().Now()); err != nil {
		return "", err
	}
	return tenant, nil
}

// Journal returns the tenant's journal entries of every partner account in the order received,
// after seq since, at most limit of the newest (all of them when limit is 0); none, logged, when
// the journal's store cannot be read.
func (s *Server) Journal(tenant string, since uint64, limit int) []JournalEntry {
	entries, err := s.journal.list(context.Background(), tenant, "", since, "", limit)
	if err != nil {
		s.log.Warn("reading the journal for the dashboard", "tenant", tenant, "err", err)
	}
	return entries
}
