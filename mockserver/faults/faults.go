// Package faults makes Klarna's API misbehave on purpose, per tenant, so that an Acquiring
// Partner's retry, back-off and timeout paths can be tested: a fault says which calls it hits
// (operations, and optionally conditions in the outcome rules' `when` language), what happens to
// them (an error, added latency, a hang, a dropped connection, a truncated answer) and how often
// (the next count calls, or each call with a seeded probability).
//
// A Registry holds the faults of every tenant and decides, for each call, which fault hits it.
// It keeps no goroutine or timer: a fault only acts when a call asks. A Backing lets several
// registries share the faults, as several mocks on one database do. What an effect does to the
// HTTP exchange is the HTTP server's (mockserver/http, faults.go); docs/faults.md describes both.
package faults

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// Operation names the calls of Klarna's APIs a fault hits.
type Operation string

// The operations a fault can name.
const (
	Authorize            Operation = "authorize"
	PaymentRequestCreate Operation = "payment_request_create"
	PaymentRequestRead   Operation = "payment_request_read"
	PaymentRequestUpdate Operation = "payment_request_update"
	PaymentRequestCancel Operation = "payment_request_cancel"
	// Transaction is every call on a payment transaction: read, update, capture, refund, void.
	Transaction  Operation = "transaction"
	Presentation Operation = "presentation"
	// Tokens is the test and SDK tokens and the Identity API's customer token calls.
	Tokens Operation = "tokens"
	// Notifications is Klarna's Notifications API: signing keys, webhooks, simulate.
	Notifications Operation = "notifications"
	// All is every call of Klarna's APIs; never the mock's own control API.
	All Operation = "all"
)

// operations lists every Operation; an operation's bit in a fault's mask is its index here.
var operations = [...]Operation{Authorize, PaymentRequestCreate, PaymentRequestRead, PaymentRequestUpdate,
	PaymentRequestCancel, Transaction, Presentation, Tokens, Notifications, All}

// bit is op's bit in a fault's mask, 0 for an unknown operation.
func (op Operation) bit() uint16 {
	if i := slices.Index(operations[:], op); i >= 0 {
		return 1 << i
	}
	return 0
}

// Effect is what a fault does to a call it hits.
type Effect string

// The effects. Error, Latency and Hang act before the operation, which then either does not
// happen or happens late; Drop and Truncate act after it: the operation happened and its answer
// is lost, as when a network fails on the way back.
const (
	// Error answers a Klarna-shaped error with the fault's status instead.
	Error Effect = "error"
	// Latency waits LatencyMS, then serves the call.
	Latency Effect = "latency"
	// Hang waits LatencyMS or until the client gives up, then closes the connection unanswered.
	Hang Effect = "hang"
	// Drop serves the call, then closes the connection unanswered.
	Drop Effect = "drop"
	// Truncate serves the call, then sends its status and headers with the full Content-Length
	// but only part of the body, and closes the connection.
	Truncate Effect = "truncate"
)

var effects = []Effect{Error, Latency, Hang, Drop, Truncate}

// IDPrefix starts every fault's id; a uuid follows.
const IDPrefix = "krn:mock:fault:"

// Bounds and defaults of a fault definition.
const (
	// MaxPerTenant is how many faults a tenant may hold at once, unless NewRegistry is told
	// otherwise: far more than a test sets up, few enough that a call's scan stays short.
	MaxPerTenant = 100
	// DefaultStatus is the status of an Error fault that names none.
	DefaultStatus = http.StatusServiceUnavailable
	// DefaultHangMS is how long a Hang fault that names no latency_ms hangs: past any client's
	// timeout, and as long as the server's default write timeout.
	DefaultHangMS = 60_000
	// MaxLatencyMS bounds latency_ms (five minutes).
	MaxLatencyMS = 300_000
	// MaxRetryAfter bounds retry_after, in seconds (an hour).
	MaxRetryAfter = 3600
	// MaxCount bounds count.
	MaxCount = 1_000_000
	// MaxDescription bounds description, in bytes.
	MaxDescription = 500
	// maxOperations bounds the operations list; there are only ten operations.
	maxOperations = 10
	// maxWhenValues bounds the values a when lists, as a rules document's are (rules.Options).
	maxWhenValues = 1000
)

// statuses are the statuses an Error fault may answer, with the error_code of each: Klarna's
// codes where it has them (docs/klarna.md §5), the mock's own for the gateway statuses.
var statuses = map[int]string{
	http.StatusTooManyRequests:     mockserver.CodeRateLimited,
	http.StatusInternalServerError: mockserver.CodeInternal,
	http.StatusBadGateway:          "BAD_GATEWAY",
	http.StatusServiceUnavailable:  mockserver.CodeServiceUnavailable,
	http.StatusGatewayTimeout:      "GATEWAY_TIMEOUT",
}

// Definition is a fault as a client asks for it (POST /mock/v1/faults).
type Definition struct {
	Operations []Operation `json:"operations"`
	// When holds conditions in the outcome rules' `when` language (fixtures/README.md), judged
	// on an authorize call's facts; a call that is not an authorize never matches them.
	When   json.RawMessage `json:"when,omitempty"`
	Effect Effect          `json:"effect"`
	// Status is an Error fault's HTTP status: 429, 500, 502, 503 or 504.
	Status int `json:"status,omitempty"`
	// RetryAfter is the Retry-After header, in seconds, of an Error fault answering 429 or 503.
	RetryAfter *int `json:"retry_after,omitempty"`
	// LatencyMS is how long a Latency fault delays the call, or a Hang fault hangs.
	LatencyMS int `json:"latency_ms,omitempty"`
	// Count makes the fault hit the next Count matching calls, then retire.
	Count int `json:"count,omitempty"`
	// Probability makes the fault hit each matching call with this probability, drawn from a
	// generator seeded with Seed. Without Count or Probability a fault hits every matching call.
	Probability float64 `json:"probability,omitempty"`
	Seed        *int64  `json:"seed,omitempty"`
	Description string  `json:"description,omitempty"`
}

// View is a fault as the control API shows it: its definition with the defaults applied, and
// how often it fired.
type View struct {
	ID string `json:"fault_id"`
	Definition
	Fired int64 `json:"fired"`
	// Remaining is how many more calls a fault with a count hits; nil for one without.
	Remaining *int64    `json:"remaining"`
	CreatedAt time.Time `json:"created_at"`
}

// Fault is a fault of one tenant. Its methods are safe for concurrent use.
type Fault struct {
	id        string
	def       Definition
	createdAt time.Time
	ops       uint16     // the bits of def.Operations
	when      *rules.Set // def.When compiled; nil without conditions
	// fired counts the calls hit; a fault with a count is spent when it reaches the count.
	fired atomic.Int64
	// mu guards rng, whose draws must come in call order for a seed to replay a run.
	mu  sync.Mutex
	rng *rand.Rand
}

// ID returns the fault's id, krn:mock:fault:<uuid>.
func (f *Fault) ID() string { return f.id }

// Effect returns what the fault does.
func (f *Fault) Effect() Effect { return f.def.Effect }

// Latency returns how long a Latency fault delays a call or a Hang fault hangs.
func (f *Fault) Latency() time.Duration { return time.Duration(f.def.LatencyMS) * time.Millisecond }

// RetryAfter returns the Retry-After header value of an Error fault, and false when it sends
// none.
func (f *Fault) RetryAfter() (string, bool) {
	if f.def.RetryAfter == nil {
		return "", false
	}
	return fmt.Sprint(*f.def.RetryAfter), true
}

// Err returns the Klarna-shaped error an Error fault answers, with a fresh error_id.
func (f *Fault) Err() *mockserver.Error {
	code := statuses[f.def.Status]
	e := mockserver.NewError(code, fmt.Sprintf("The call failed with %d %s, as fault %s of this tenant makes it.",
		f.def.Status, http.StatusText(f.def.Status), f.id))
	// NewError knows the status of the mock's own codes; the gateway codes are a fault's alone.
	if e.Status != f.def.Status {
		e.Status, e.ErrorType = f.def.Status, mockserver.TechnicalError
	}
	return e
}

// View returns the fault as the control API shows it.
func (f *Fault) View() View {
	v := View{ID: f.id, Definition: f.def, Fired: f.fired.Load(), CreatedAt: f.createdAt}
	if f.def.Count > 0 {
		left := int64(f.def.Count) - v.Fired
		v.Remaining = &left
	}
	return v
}

// take decides whether the fault hits a call it matches, and counts it if so. A fault with a
// count takes exactly count calls however many race for them.
func (f *Fault) take() bool {
	if f.def.Count == 0 {
		if !f.draw() {
			return false
		}
		f.fired.Add(1)
		return true
	}
	for {
		n := f.fired.Load()
		if n >= int64(f.def.Count) {
			return false
		}
		if f.fired.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// draw reports whether a fault with a probability hits a call it matches, by its generator's next
// draw; any other fault hits every call it matches.
func (f *Fault) draw() bool {
	if f.rng == nil {
		return true
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rng.Float64() < f.def.Probability
}

// seen raises the fault's fired count to fired, what a backing counted across every registry on
// it; a count never goes back.
func (f *Fault) seen(fired int64) {
	for {
		n := f.fired.Load()
		if n >= fired || f.fired.CompareAndSwap(n, fired) {
			return
		}
	}
}

// restore builds the fault a backing kept as v: its id, definition, creation and fired count. A
// probability's generator starts from its seed again.
func restore(v View) (*Fault, error) {
	f, err := compile(v.Definition, v.CreatedAt)
	if err != nil {
		return nil, err
	}
	f.id = v.ID
	f.fired.Store(v.Fired)
	return f, nil
}

// spent reports whether a fault with a count has hit its count of calls.
func (f *Fault) spent() bool { return f.def.Count > 0 && f.fired.Load() >= int64(f.def.Count) }

// compile checks def and builds the fault it defines, with the defaults applied. Every problem
// is reported at once, as one 400 VALIDATION_ERROR naming each offending field.
func compile(def Definition, now time.Time) (*Fault, error) {
	var errs []mockserver.FieldError
	bad := func(parameter, format string, args ...any) {
		errs = append(errs, mockserver.FieldError{Parameter: parameter, ErrorMessage: fmt.Sprintf(format, args...)})
	}
	f := &Fault{id: IDPrefix + uuid.NewString(), createdAt: now}
	def.Operations = slices.Clone(def.Operations)
	switch {
	case len(def.Operations) == 0:
		bad("operations", "name at least one operation (%s)", list(operations[:]))
	case len(def.Operations) > maxOperations:
		bad("operations", "name at most %d operations", maxOperations)
	}
	for i, op := range def.Operations {
		if op.bit() == 0 {
			bad(fmt.Sprintf("operations[%d]", i), "unknown operation %q (want one of %s)", op, list(operations[:]))
		}
		f.ops |= op.bit()
	}
	if !slices.Contains(effects, def.Effect) {
		bad("effect", "unknown effect %q (want one of %s)", def.Effect, list(effects))
	}
	checkEffect(&def, bad)
	switch {
	case def.Count != 0 && def.Probability != 0:
		bad("probability", "give count or probability, not both")
	case def.Count < 0 || def.Count > MaxCount:
		bad("count", "must be between 1 and %d", MaxCount)
	case !(def.Probability >= 0 && def.Probability <= 1): // NaN included
		bad("probability", "must be more than 0 and at most 1")
	case def.Probability > 0:
		if def.Seed == nil {
			seed := rand.Int64()
			def.Seed = &seed
		}
		f.rng = rand.New(rand.NewPCG(uint64(*def.Seed), 0))
	case def.Seed != nil:
		bad("seed", "a seed only makes sense with a probability")
	}
	if len(def.Description) > MaxDescription {
		bad("description", "is %d bytes long, more than %d", len(def.Description), MaxDescription)
	}
	if w := strings.TrimSpace(string(def.When)); w == "" || w == "null" {
		def.When = nil
	} else {
		def.When = slices.Clone(def.When)
		var fs []mockserver.FieldError
		f.when, fs = compileWhen(def.When)
		errs = append(errs, fs...)
	}
	if len(errs) > 0 {
		return nil, mockserver.NewError(mockserver.CodeValidation,
			"The fault is invalid: "+errs[0].Parameter+": "+errs[0].ErrorMessage, errs...)
	}
	f.def = def
	return f, nil
}

// checkEffect checks and defaults the fields that depend on the effect: status and retry_after
// for Error, latency_ms for Latency and Hang.
func checkEffect(def *Definition, bad func(parameter, format string, args ...any)) {
	if def.Effect == Error {
		if def.Status == 0 {
			def.Status = DefaultStatus
		}
		if _, ok := statuses[def.Status]; !ok {
			bad("status", "an error fault answers 429, 500, 502, 503 or 504, not %d", def.Status)
		}
		if ra := def.RetryAfter; ra != nil {
			switch {
			case def.Status != http.StatusTooManyRequests && def.Status != http.StatusServiceUnavailable:
				bad("retry_after", "Retry-After goes with status 429 or 503, not %d", def.Status)
			case *ra < 0 || *ra > MaxRetryAfter:
				bad("retry_after", "must be between 0 and %d seconds", MaxRetryAfter)
			}
		}
	} else {
		if def.Status != 0 {
			bad("status", "only an error fault has a status")
		}
		if def.RetryAfter != nil {
			bad("retry_after", "only an error fault has a Retry-After")
		}
	}
	switch def.Effect {
	case Hang:
		if def.LatencyMS == 0 {
			def.LatencyMS = DefaultHangMS
		}
		fallthrough
	case Latency:
		if def.LatencyMS < 1 || def.LatencyMS > MaxLatencyMS {
			bad("latency_ms", "a %s fault needs latency_ms between 1 and %d", def.Effect, MaxLatencyMS)
		}
	default:
		if def.LatencyMS != 0 {
			bad("latency_ms", "only a latency or hang fault has a latency_ms")
		}
	}
}

// whenRule is the name of the one rule compileWhen wraps conditions in.
const whenRule = "fault"

// compileWhen compiles conditions in the outcome rules' `when` language with the rules package
// itself, as the one rule of a document, so that a fault's conditions mean, and are checked,
// exactly as a fixtures file's are. A problem is reported on the parameter the rules loader
// names (when, or when.<key>), without the line of the document made up here.
func compileWhen(when json.RawMessage) (*rules.Set, []mockserver.FieldError) {
	doc := fmt.Appendf(nil, `{"version": %d, "rules": [{"name": %q, "when": %s, "then": {"result": %q}}]}`,
		rules.Version, whenRule, when, rules.ResultApproved)
	set, err := rules.Parse("when", doc, rules.Options{JSON: true, MaxRules: 1, MaxValues: maxWhenValues})
	if err == nil {
		return set, nil
	}
	var out []mockserver.FieldError
	for _, e := range rules.Errors(err) {
		reason := strings.TrimPrefix(e.Reason, fmt.Sprintf("rule %q: ", whenRule))
		parameter := "when"
		if key, _, ok := strings.Cut(reason, ":"); ok && strings.HasPrefix(key, "when") && !strings.ContainsAny(key, " \"") {
			parameter = key
		}
		out = append(out, mockserver.FieldError{Parameter: parameter, ErrorMessage: reason})
	}
	if len(out) == 0 {
		out = append(out, mockserver.FieldError{Parameter: "when", ErrorMessage: err.Error()})
	}
	return nil, out
}

// list joins values for a message: "a, b, c".
func list[T ~string](values []T) string {
	s := make([]string, len(values))
	for i, v := range values {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}
