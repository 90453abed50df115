package http

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// JournalSize is how many requests the journal keeps, for all accounts together; the oldest are
// dropped first. A test reads the journal right after its own calls, so this is plenty even
// when several CI jobs share one mock, and it keeps memory bounded under load.
const JournalSize = 2000

// JournalEntry is one request an account sent to Klarna's API, as the mock received it. Tests use
// the journal to check what an Acquiring Partner actually sent: headers forwarded unaltered,
// idempotency keys, step_up_config only for a present customer, and so on.
type JournalEntry struct {
	Seq        uint64            `json:"seq"`
	ReceivedAt time.Time         `json:"received_at"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body,omitempty"`
	Status     int               `json:"status"`
	scope      string
}

// journal is a bounded ring of the requests sent to Klarna's API.
type journal struct {
	mu      sync.Mutex
	entries []JournalEntry
	next    int
	seq     uint64
}

func newJournal() *journal { return &journal{entries: make([]JournalEntry, 0, JournalSize)} }

// record keeps a request. The Authorization header is never kept.
func (j *journal) record(scope string, at time.Time, r *http.Request, body []byte, status int) {
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if k == "Authorization" || len(v) == 0 {
			continue
		}
		headers[k] = v[0]
	}
	e := JournalEntry{ReceivedAt: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: headers, Body: string(body), Status: status, scope: scope}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if len(j.entries) < JournalSize {
		j.entries = append(j.entries, e)
		return
	}
	j.entries[j.next] = e
	j.next = (j.next + 1) % JournalSize
}

// list returns the scope's entries in the order received, after seq since, whose path contains
// pathContains, at most limit of the newest.
func (j *journal) list(scope string, since uint64, pathContains string, limit int) []JournalEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []JournalEntry
	n := len(j.entries)
	for i := range n {
		e := j.entries[(j.next+i)%n]
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

// readJournal lists what the account sent to Klarna's API.
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
	entries := s.journal.list(r.scope, since, q.Get("path_contains"), limit)
	if entries == nil {
		entries = []JournalEntry{}
	}
	return writeJSON(w, http.StatusOK, journalPage{Entries: entries})
}
