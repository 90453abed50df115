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

// JournalBytesPerTenant is how many bytes of bodies, requests' and answers', the journal keeps
// for each tenant (4 MiB). With the entry count it bounds the journal's memory by
// configuration: at most JournalBytesPerTenant plus JournalPerTenant small entries per tenant,
// times the tenant limit, whatever the tenants send; the oldest entries go first.
const JournalBytesPerTenant = 4 << 20

// JournalBytesTotal is how much the journal keeps for all tenants together (16 MiB), counting
// each entry as its body and answer plus journalEntryCost: the per-tenant bounds times the
// tenant limit would be gigabytes. Beyond it the tenant whose entries cost the most loses its
// oldest, so one tenant's load pushes out its own entries before another's.
const JournalBytesTotal = 16 << 20

// journalEntryCost is about what an entry holds beyond its body: the entry, its headers and its
// share of the ring's slice (measured with BenchmarkStepUpBytes in bench/memload).
const journalEntryCost = 1 << 10

// JournalMaxBody is the most of a request body a journal entry keeps (64 KiB). A longer body is
// cut there and ends with a marker saying how many bytes were left out, and the entry says
// body_truncated, so a reader never mistakes it for what was sent.
const JournalMaxBody = 64 << 10

// JournalMaxAnswer is the most of an answer's body a journal entry keeps (16 KiB): Klarna's
// answers are far smaller, error answers included (their errors lists are capped).
const JournalMaxAnswer = 16 << 10

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
	// Answer is the body the mock answered, as it went out, its first JournalMaxAnswer bytes;
	// AnswerTruncated reports that it went on. Absent for an answer without a body.
	Answer          string `json:"answer,omitempty"`
	AnswerTruncated bool   `json:"answer_truncated,omitempty"`
	// Rule names the outcome rule that decided an authorize call, as its Klarna-Mock-Rule
	// header did; absent for other calls and for refused ones.
	Rule string `json:"rule,omitempty"`
	// Fault is the id of the fault that hit the call, as its Klarna-Mock-Fault header said;
	// absent for calls no fault hit.
	Fault string `json:"fault,omitempty"`
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
	// cost is what the rings hold, by their cost, bounded by JournalBytesTotal.
	cost int
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
	r.bytes += len(e.Body) + len(e.Answer)
	for len(r.entries)-r.head > JournalPerTenant || (r.bytes > JournalBytesPerTenant && len(r.entries)-r.head > 1) {
		r.dropOldest()
	}
}

// dropOldest drops the oldest entry kept, of which there must be one.
func (r *journalRing) dropOldest() {
	r.bytes -= len(r.entries[r.head].Body) + len(r.entries[r.head].Answer)
	r.entries[r.head] = JournalEntry{}
	r.head++
	if r.head >= len(r.entries)-r.head {
		r.entries = append(r.entries[:0:0], r.entries[r.head:]...)
		r.head = 0
	}
}

// cost is what the ring's entries count against JournalBytesTotal.
func (r *journalRing) cost() int { return r.bytes + (len(r.entries)-r.head)*journalEntryCost }

func newJournal() *journal { return &journal{tenants: map[string]*journalRing{}} }

// record keeps a request in the tenant's ring, created on the tenant's first request, with the
// rule that decided it and the fault that hit it (empty for none) and the violations the mock
// accepted as warnings. The
// Authorization header is never kept. answer is the start of the answer's body as it went out
// (httpserver.StatusWriter.Kept), of which the entry keeps JournalMaxAnswer bytes.
func (j *journal) record(tenant, scope string, at time.Time, r *http.Request, body []byte, status int, rule, fault string, warnings []validate.Violation, answer ...byte) {
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if k == "Authorization" || len(v) == 0 {
			continue
		}
		headers[k] = v[0]
	}
	e := JournalEntry{ReceivedAt: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: headers, Status: status, Rule: rule, Fault: fault, scope: scope}
	e.Body, e.BodyTruncated = journalBody(body)
	if len(answer) > 0 {
		e.Answer = validUTF8(answer[:min(len(answer), JournalMaxAnswer)])
		e.AnswerTruncated = len(answer) > JournalMaxAnswer
	}
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
	before := ring.cost()
	ring.push(e)
	j.cost += ring.cost() - before
	for j.cost > JournalBytesTotal {
		// The scan is over the tenants, bounded by --max-tenants, and runs only once the journal
		// is full: about one drop per entry recorded.
		var heaviest *journalRing
		for _, r := range j.tenants {
			if r.head < len(r.entries) && (heaviest == nil || r.cost() > heaviest.cost()) {
				heaviest = r
			}
		}
		before := heaviest.cost()
		heaviest.dropOldest()
		j.cost -= before - heaviest.cost()
	}
}

// validUTF8 returns b as a string with each run of invalid UTF-8 replaced by one U+FFFD, as
// strings.ToValidUTF8 does; utf8.Valid checks the common case, valid, several bytes at a time,
// where strings.ToValidUTF8 goes byte by byte.
func validUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
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
	if r := j.tenants[tenant]; r != nil {
		j.cost -= r.cost()
	}
	delete(j.tenants, tenant)
}

// list returns the tenant's entries of scope (of every scope when scope is empty) in the order
// received, after seq since, whose path contains pathContains, at most limit of the newest.
func (j *journal) list(tenant, scope string, since uint64, pathContains string, limit int) []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	ring := j.tenants[tenant]
	if ring == nil {
		return nil
	}
	var out []JournalEntry
	for _, e := range ring.entries[ring.head:] {
		if (scope == "" || e.scope == scope) && e.Seq > since && strings.Contains(e.Path, pathContains) {
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
