package http

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/klarna-mock/klarna-mock/contracts/validate"
	"github.com/klarna-mock/klarna-mock/mockserver"
	journals "github.com/klarna-mock/klarna-mock/mockserver/journal"
)

// The journal's bounds (package journal).
const (
	// JournalPerTenant is how many requests the journal keeps for each tenant.
	JournalPerTenant = journals.PerTenant
	// JournalBytesPerTenant is how many bytes of bodies the journal keeps for each tenant.
	JournalBytesPerTenant = journals.BytesPerTenant
	// JournalBytesTotal is how much the memory journal keeps for all tenants together.
	JournalBytesTotal = journals.BytesTotal
	// JournalMaxBody is the most of a request body a journal entry keeps.
	JournalMaxBody = journals.MaxBody
	// JournalMaxAnswer is the most of an answer's body a journal entry keeps.
	JournalMaxAnswer = journals.MaxAnswer
)

// JournalEntry is one request an account sent to Klarna's API, as the mock received it
// (journal.Entry).
type JournalEntry = journals.Entry

// Warning is one thing the mock let through although its contract does not describe it.
type Warning = journals.Warning

// JournalStore keeps the journal (Deps.Journal): in memory, or in a database the mocks on it
// share.
type JournalStore = journals.Store

// journal is the server's side of its JournalStore: it makes each call's entry.
type journal struct{ store journals.Store }

// newJournal returns the journal kept by store, or in memory when store is nil.
func newJournal(store journals.Store) *journal {
	if store == nil {
		store = journals.NewMemory()
	}
	return &journal{store: store}
}

// record keeps a request in the tenant's journal, with the rule that decided it and the fault
// that hit it (empty for none) and the violations the mock accepted as warnings. answer is the
// start of the answer's body as it went out (httpserver.StatusWriter.Kept). It returns once the
// entry is kept, so that the answer, sent once the handler returns, is listed by then; the store
// bounds that wait and never fails the call.
func (j *journal) record(tenant, scope string, at time.Time, r *http.Request, body []byte, status int, rule, fault string, warnings []validate.Violation, answer string) {
	e := journals.NewEntry(at, r, nil, status, rule, fault, nil)
	e.KeepBody(string(body))
	e.KeepAnswer(answer) // the writer's copy, not another
	for _, v := range warnings {
		e.Warnings = append(e.Warnings, Warning{Parameter: v.Parameter, Message: v.Message})
	}
	j.store.Record(r.Context(), tenant, scope, e)
}

// forget drops the tenant's entries, for when the mock forgets the tenant.
func (j *journal) forget(tenant string) { j.store.Forget(tenant) }

// list returns the tenant's entries of scope (of every scope when scope is empty) in the order
// received, after seq since, whose path contains pathContains, at most limit of the newest.
func (j *journal) list(ctx context.Context, tenant, scope string, since uint64, pathContains string, limit int) ([]JournalEntry, error) {
	return j.store.List(ctx, tenant, journals.Filter{Scope: scope, Since: since, PathContains: pathContains, Limit: limit})
}

// journalPage is the body of the journal endpoint.
type journalPage struct {
	Entries []JournalEntry `json:"entries"`
}

// readJournal lists what the account sent to Klarna's API with the caller's tenant.
func (s *Server) readJournal(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	var since uint64
	if v := q.Get("since"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return mockserver.Invalid("since", "not a sequence number")
		}
		since = n
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return mockserver.Invalid("limit", "not a positive number")
		}
		limit = n
	}
	entries, err := s.journal.list(r.Context(), r.tenant, r.scope, since, q.Get("path_contains"), limit)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []JournalEntry{}
	}
	return writeJSON(w, http.StatusOK, journalPage{Entries: entries})
}
