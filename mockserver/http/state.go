package http

import (
	"net/http"
	"strings"
)

// MaxStateBytes is the largest state document PUT /mock/v1/state accepts (16 MiB). A document
// holds a tenant's whole state, so it may be larger than an API call's MaxBodyBytes; the bound
// keeps one import from taking the memory every other tenant shares.
const MaxStateBytes = 16 << 20

// State exports and imports a tenant's state as one JSON document (docs/state.md).
type State interface {
	// ExportState returns the tenant's state document, ready to be written as JSON.
	ExportState(tenant string) (any, error)
	// ImportState validates doc and replaces the tenant's state with it; a document it refuses
	// changes nothing. mayUse reports whether the tenant may hold objects of a partner account.
	// It returns what was imported, ready to be written as JSON.
	ImportState(tenant string, doc []byte, mayUse func(partnerAccountID string) bool) (any, error)
}

// exportState answers the caller's tenant as one document.
func (s *Server) exportState(w http.ResponseWriter, r *request) error {
	doc, err := s.state.ExportState(r.tenant)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, doc)
}

// importState replaces the caller's tenant with the document in the body.
func (s *Server) importState(w http.ResponseWriter, r *request) error {
	out, err := s.state.ImportState(r.tenant, r.body, s.accountsOf(r.tenant))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// accountsOf returns which partner accounts the tenant's keys may call: with an accounts file
// only the tenant's own (a key used on another account's path gets 403), else any id a path can
// carry.
func (s *Server) accountsOf(tenant string) func(string) bool {
	if s.accounts == nil || s.accounts.byKey == nil {
		return func(account string) bool { return account != "" && !strings.Contains(account, "/") }
	}
	return func(account string) bool { return account == tenant }
}
