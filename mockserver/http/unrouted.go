package http

import (
	"io"
	"net/http"
	"strings"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// DirectAccountID is the partner account of Klarna's account-less paths (/v2/payment/...) when
// API keys are not mapped to accounts: by default a key has no partner account of its own, so its
// direct calls act on this one, within the key's tenant. With an accounts file they act on the
// account the key is mapped to. Either way the objects are those of
// /v2/accounts/{that account}/..., and the journal of the calls is that account's.
const DirectAccountID = "krn:partner:global:account:test:DIRECT"

// ownAccount is the partner account a tenant's calls on the account-less paths act on: the API
// key's own (docs/klarna.md §2).
func (s *Server) ownAccount(tenant string) string {
	if s.accounts == nil || s.accounts.byKey == nil {
		return DirectAccountID
	}
	// With an accounts file the tenant is the partner account the key is mapped to.
	return tenant
}

// failUnrouted answers a call no route serves (unknown path, or a method the path does not
// take) and journals it when it carries an API key the mock accepts, so that a conformance check
// sees a client calling a path Klarna does not serve. The mock's own paths (/mock/, /journey/)
// are not Klarna's API and are not journaled.
func (s *Server) failUnrouted(w http.ResponseWriter, r *http.Request, ke *mockserver.Error) {
	sw := httpserver.NewStatusWriter(w)
	sw.Keep = JournalMaxAnswer + 1
	s.fail(sw, r, ke)
	if strings.HasPrefix(r.URL.Path, "/mock/") || strings.HasPrefix(r.URL.Path, "/journey/") {
		return
	}
	account := pathAccount(r.URL.Path)
	tenant, err := s.accounts.Resolve(r.Header.Get("Authorization"), account)
	if err != nil || s.tenants.Admit(tenant, s.svc.Clock().Now()) != nil {
		return
	}
	if account == "" {
		account = s.ownAccount(tenant)
	}
	var body []byte
	if r.Body != nil {
		// What the client sent, up to the size any route reads; the journal keeps its start.
		body, _ = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes))
	}
	s.journal.record(tenant, mockserver.Scope(tenant, account), s.svc.ClockOf(tenant).Now(), r, body, sw.Status, "", "", nil, sw.Kept())
}

// pathAccount returns the {partner_account_id} of a path under /v2/accounts/, or "" when the path
// names none (or only an empty, "." or ".." segment, which no account is).
func pathAccount(path string) string {
	rest, ok := strings.CutPrefix(path, "/v2/accounts/")
	if !ok {
		return ""
	}
	account, _, _ := strings.Cut(rest, "/")
	if account == "." || account == ".." {
		return ""
	}
	return account
}
