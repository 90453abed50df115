package http

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klarna-mock/klarna-mock/contracts/validate"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// JournalPerTenant is how many requests the journal keeps for each tenant; a tenant's oldest are
// dropped first. Each tenant has a ring of its own, so one tenant's load never pushes another's
// entries out. A test reads the journal right after its own calls, so this is plenty, and it
// keeps memory bounded under load.
const JournalPerTenant = 1000

// JournalBytesPerTenant is how many bytes of request bodies the journal keeps for each tenant
// (4 MiB). With the entry count it bounds the journal's memory by configuration: at most
// JournalBytesPerTenant plus JournalPerTenant small entries per tenant, times the tenant limit,
// whatever the tenants send; the oldest entries go first.
const JournalBytesPerTenant = 4 << 20

// JournalMaxBody is the most of a request body a journal entry keeps (64 KiB). A longer body is
// cut there and ends with a marker saying how many bytes were left out, and the entry says
// body_truncated, so a reader never mistakes it for what was sent.
const JournalMaxBody = 64 << 10

// JournalEntry is one request an account sent to Klarna's API, as the mock received it. Tests use
// the journal to check what an Acquiring Partner actually sent: headers forwarded unaltered,
// idempotency keys, step_up_config only for a present customer, and so on.
type JournalEntry struct {
	// Seq increases with every request of the tenant the journal keeps.
	Seq        uint64            `json:"seq"`
	ReceivedAt time.Time         `json:"received_at"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body,omitempty"`
	// BodyTruncated reports that Body holds only the first JournalMaxBody bytes of the body,
	// followed by the truncation marker.
	BodyTruncated bool `json:"body_truncated,omitempty"`
	Status        int  `json:"status"`
	// Rule names the outcome rule that decided an authorize call, as its Klarna-Mock-Rule
	// header did; absent for other calls and for refused ones.
	Rule string `json:"rule,omitempty"`
	// Warnings are the body properties the contract does not describe that the mock accepted
	// (FieldPolicy WarnUndocumented); absent when there were none.
	Warnings []Warning `json:"warnings,omitempty"`
	scope    string
}

// Warning is one thing the mock let through although its contract does not describe it.
type Warning struct {
	// Parameter names the property as errors do: a dotted path with indexes.
	Parameter string `json:"parameter"`
	Message   string `json:"message"`
}

// journal keeps, per tenant, a bounded ring of the requests sent to Klarna's API.
type journal struct {
	mu      sync.Mutex
	tenants map[string]*journalRing
}

// journalRing is one tenant's entries in the order received: entries[head:] are kept, at most
// JournalPerTenant of them holding at most JournalBytesPerTenant of bodies.
type journalRing struct {
	entries []JournalEntry
	head    int
	bytes   int
	seq     uint64
}

// push appends e and drops the oldest entries until the ring is within both bounds again. The
// dropped prefix is compacted away once it is as long as what is kept, so the slice never holds
// more than twice the bound.
func (r *journalRing) push(e JournalEntry) {
	r.entries = append(r.entries, e)
	r.bytes += len(e.Body)
	for len(r.entries)-r.head > JournalPerTenant || (r.bytes > JournalBytesPerTenant && len(r.entries)-r.head > 1) {
		r.bytes -= len(r.entries[r.head].Body)
		r.entries[r.head] = JournalEntry{}
		r.head++
	}
	if r.head > 0 && r.head >= len(r.entries)-r.head {
		r.entries = append(r.entries[:0:0], r.entries[r.head:]...)
		r.head = 0
	}
}

func newJournal() *journal { return &journal{tenants: map[string]*journalRing{}} }

// record keeps a request in the tenant's ring, created on the tenant's first request, with the
// rule that decided it (empty for none) and the violations the mock accepted as warnings. The
// Authorization header is never kept.
func (j *journal) record(tenant, scope string, at time.Time, r *http.Request, body []byte, status int, rule string, warnings []validate.Violation) {
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if k == "Authorization" || len(v) == 0 {
			continue
		}
		headers[k] = v[0]
	}
	e := JournalEntry{ReceivedAt: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: headers, Status: status, Rule: rule, scope: scope}
	e.Body, e.BodyTruncated = journalBody(body)
	for _, v := range warnings {
		e.Warnings = append(e.Warnings, Warning{Parameter: v.Parameter, Message: v.Message})
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	ring := j.tenants[tenant]
	if ring == nil {
		ring = &journalRing{}
		j.tenants[tenant] = ring
	}
	ring.seq++
	e.Seq = ring.seq
	ring.push(e)
}

// journalBody is what an entry keeps of body: all of it up to JournalMaxBody bytes, otherwise
// the first JournalMaxBody bytes (less the start of a character cut in two) and the marker
// "…[truncated: N bytes]" naming how many bytes were left out; truncated reports the cut.
func journalBody(body []byte) (kept string, truncated bool) {
	if len(body) <= JournalMaxBody {
		return string(body), false
	}
	cut := JournalMaxBody
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(body[cut]); i++ {
		cut--
	}
	return string(body[:cut]) + fmt.Sprintf("…[truncated: %d bytes]", len(body)-cut), true
}

// forget drops the tenant's entries, for when the mock forgets the tenant.
func (j *journal) forget(tenant string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.tenants, tenant)
}

// list returns the tenant's entries of scope in the order received, after seq since, whose path
// contains pathContains, at most limit of the newest.
func (j *journal) list(tenant, scope string, since uint64, pathContains string, limit int) []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	ring := j.tenants[tenant]
	if ring == nil {
		return nil
	}
	var out []JournalEntry
	for _, e := range ring.entries[ring.head:] {
		if e.scope == scope && e.Seq > since && strings.Contains(e.Path, pathContains) {
			out = append(out, e)
		}
	}
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	return out
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
	entries := s.journal.list(r.tenant, r.scope, since, q.Get("path_contains"), limit)
	if entries == nil {
		entries = []JournalEntry{}
	}
	return writeJSON(w, http.StatusOK, journalPage{Entries: entries})
}
