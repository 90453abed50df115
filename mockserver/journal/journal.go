// Package journal keeps what each account sent to Klarna's API, as the mock received it and
// with what it answered: the journal a test reads (GET /mock/v1/accounts/{id}/journal) to check
// what an Acquiring Partner actually sent. Entry is the wire shape of one call, Store what keeps
// the entries; Memory keeps them in a bounded ring per tenant, and the PostgreSQL store
// (mockserver/postgres) in the database, shared by every mock on it.
package journal

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// PerTenant is how many requests the journal keeps for each tenant; a tenant's oldest are
// dropped first. A test reads the journal right after its own calls, so this is plenty, and it
// keeps memory bounded under load.
const PerTenant = 1000

// BytesPerTenant is how many bytes of bodies, requests' and answers', the journal keeps for each
// tenant (4 MiB). With the entry count it bounds the journal by configuration: at most
// BytesPerTenant plus PerTenant small entries per tenant, times the tenant limit, whatever the
// tenants send; the oldest entries go first.
const BytesPerTenant = 4 << 20

// BytesTotal is how much the memory journal keeps for all tenants together (16 MiB), counting
// each entry as its body and answer plus entryCost: the per-tenant bounds times the tenant limit
// would be gigabytes. Beyond it the tenant whose entries cost the most loses its oldest, so one
// tenant's load pushes out its own entries before another's. A database's journal is bounded by
// the per-tenant bounds and the tenant limit, as its objects are.
const BytesTotal = 16 << 20

// entryCost is about what an entry holds beyond its body: the entry, its headers and its share of
// the ring's slice (measured with BenchmarkStepUpBytes in bench/memload).
const entryCost = 1 << 10

// MaxBody is the most of a request body an entry keeps (64 KiB). A longer body is cut there and
// ends with a marker saying how many bytes were left out, and the entry says body_truncated, so a
// reader never mistakes it for what was sent.
const MaxBody = 64 << 10

// MaxAnswer is the most of an answer's body an entry keeps (16 KiB): Klarna's answers are far
// smaller, error answers included (their errors lists are capped).
const MaxAnswer = 16 << 10

// Entry is one request an account sent to Klarna's API, as the mock received it. Tests use the
// journal to check what an Acquiring Partner actually sent: headers forwarded unaltered,
// idempotency keys, step_up_config only for a present customer, and so on.
type Entry struct {
	// Seq increases with every request of the tenant the journal keeps.
	Seq        uint64            `json:"seq"`
	ReceivedAt time.Time         `json:"received_at"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query,omitempty"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body,omitempty"`
	// BodyTruncated reports that Body holds only the first MaxBody bytes of the body, followed
	// by the truncation marker.
	BodyTruncated bool `json:"body_truncated,omitempty"`
	Status        int  `json:"status"`
	// Answer is the body the mock answered, as it went out, its first MaxAnswer bytes;
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
	// (the server's FieldPolicy WarnUndocumented); absent when there were none.
	Warnings []Warning `json:"warnings,omitempty"`
}

// Warning is one thing the mock let through although its contract does not describe it.
type Warning struct {
	// Parameter names the property as errors do: a dotted path with indexes.
	Parameter string `json:"parameter"`
	Message   string `json:"message"`
}

// Bytes is what the entry counts against BytesPerTenant: its body and its answer.
func (e *Entry) Bytes() int { return len(e.Body) + len(e.Answer) }

// NewEntry is the entry of a request received at at, with the body read from it and the answer
// given: status, the rule that decided it and the fault that hit it (empty for none), and answer,
// the start of the answer's body as it went out, of which the entry keeps MaxAnswer bytes. The
// Authorization header is never kept, and of a header sent several times the first value.
func NewEntry(at time.Time, r *http.Request, body []byte, status int, rule, fault string, answer []byte) Entry {
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		if k == "Authorization" || len(v) == 0 {
			continue
		}
		headers[k] = v[0]
	}
	e := Entry{ReceivedAt: at, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: headers, Status: status, Rule: rule, Fault: fault}
	e.Body, e.BodyTruncated = keptBody(body)
	e.KeepAnswer(string(answer[:min(len(answer), MaxAnswer+1)]))
	return e
}

// KeepBody sets the entry's body to what it keeps of body (MaxBody bytes), for a caller that has
// it as a string already: one that fits is kept without a copy.
func (e *Entry) KeepBody(body string) { e.Body, e.BodyTruncated = keptBody(body) }

// KeepAnswer sets the entry's answer to answer's first MaxAnswer bytes, the body as it went out,
// for a caller that has it as a string already: a valid one is kept without a copy.
func (e *Entry) KeepAnswer(answer string) {
	e.Answer = validUTF8(answer[:min(len(answer), MaxAnswer)])
	e.AnswerTruncated = len(answer) > MaxAnswer
}

// validUTF8 returns s with each run of invalid UTF-8 replaced by one U+FFFD, as
// strings.ToValidUTF8 does; utf8.ValidString checks the common case, valid, several bytes at a
// time, where strings.ToValidUTF8 goes byte by byte and copies.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// keptBody is what an entry keeps of body: all of it up to MaxBody bytes, otherwise the first
// MaxBody bytes (less the start of a character cut in two) and the marker "…[truncated: N bytes]"
// naming how many bytes were left out; truncated reports the cut.
func keptBody[B string | []byte](body B) (kept string, truncated bool) {
	if len(body) <= MaxBody {
		return string(body), false
	}
	cut := MaxBody
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(body[cut]); i++ {
		cut--
	}
	return string(body[:cut]) + fmt.Sprintf("…[truncated: %d bytes]", len(body)-cut), true
}

// Filter chooses the entries List returns.
type Filter struct {
	// Scope keeps the entries of one partner account's scope (mockserver.Scope); empty keeps
	// every scope's.
	Scope string
	// Since keeps the entries after that seq.
	Since uint64
	// PathContains keeps the entries whose path contains it.
	PathContains string
	// Limit keeps at most that many of the newest; 0 keeps all.
	Limit int
}

// Store keeps the journal. Each tenant's entries are bounded by PerTenant and BytesPerTenant, the
// oldest going first.
type Store interface {
	// Record keeps e, the call of the tenant within scope, as the tenant's newest entry, with the
	// next seq. It returns once the entry is listed by List (on a shared store, by every mock on
	// it), or, when it cannot keep it, once it has logged and counted the loss: a journal that
	// fails never fails the call, and Record's wait is bounded whatever ctx says.
	Record(ctx context.Context, tenant, scope string, e Entry)
	// List returns the tenant's entries f keeps, in the order received.
	List(ctx context.Context, tenant string, f Filter) ([]Entry, error)
	// Forget drops what the store keeps of the tenant in this process. A database's entries of
	// the tenant go with its other rows when the tenant is deleted from the database.
	Forget(tenant string)
}
