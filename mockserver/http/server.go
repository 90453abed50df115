// Package http serves the simulator over HTTP: Klarna's Payment API, the Purchase Journey and the
// mock's own control API. Every route is checked against its contract in contracts/ before its
// handler runs; handlers return errors, which one function turns into Klarna-shaped responses.
package http

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/validate"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	"github.com/klarna-mock/klarna-mock/mockserver/metrics"
	"github.com/klarna-mock/klarna-mock/mockserver/tenant"
)

// MaxBodyBytes is the largest request body accepted; Klarna answers 413 above 1 MB.
const MaxBodyBytes = 1 << 20

// Deps are what the HTTP server needs.
type Deps struct {
	Service *mockserver.Service
	// Store keeps idempotency records beside the service's state.
	Store mockserver.Store
	// Accounts decides which API keys are accepted; nil accepts any test key.
	Accounts *Accounts
	Logger   *slog.Logger
	// PublicURL is the base URL customers reach the mock at, used in payment_request_url; empty
	// means the scheme and Host of each request.
	PublicURL string
	// MaxTenants is how many tenants the server admits at once; 0 means DefaultMaxTenants.
	MaxTenants int
	// UndocumentedFields is what a body property Klarna's API contracts do not describe gets;
	// the zero value means WarnUndocumented.
	UndocumentedFields FieldPolicy
	// Reset wipes a tenant for POST /mock/v1/reset and returns how many stored objects it
	// removed (app.Mock.Reset, which reaches every part that keeps tenant state); required.
	Reset func(tenant string) (int, error)
	// State exports and imports a tenant for GET and PUT /mock/v1/state (app.Mock); required.
	State State
	// Metrics records what the server serves, for GET /metrics; nil means metrics of the
	// server's own.
	Metrics *metrics.Metrics
	// Version is the mock's version, as GET /readyz reports it.
	Version string
	// Ready are the checks GET /readyz makes besides the contracts', such as the store answering.
	Ready []ReadyCheck
	// Faults are the tenants' faults (faults.go), for /mock/v1/faults and every call of Klarna's
	// APIs; nil means a registry of the server's own.
	Faults *faults.Registry
	// Journal keeps the journal of what each account sent (journal.go); nil means one in memory
	// of the server's own.
	Journal JournalStore
	// Journaled, when set, is told the tenant of each journal entry once it is kept, for the
	// dashboard's live updates; it must not block.
	Journaled func(tenant string)
	// ClockMoved, when set, is told the tenant whose clock POST /mock/v1/clock/advance moved,
	// before the move is answered (a mock on a shared database saves it); it may block briefly.
	ClockMoved func(tenant string)
}

// Server is the mock's HTTP handler.
type Server struct {
	svc       *mockserver.Service
	store     mockserver.Store
	accounts  *Accounts
	log       *slog.Logger
	publicURL string
	// lastBaseURL is the base URL of the last request baseURL read, when publicURL is empty.
	lastBaseURL atomic.Pointer[requestBaseURL]
	// scopes remembers the scopes of the tenants and partner accounts calling, so that a call
	// does not build its scope again and every object stored under it shares the one string.
	scopes memo[[2]string, string]
	// accountVars remembers the path variables of the partner accounts calling, for the routes
	// whose one variable is the account (pathPattern.varsOf).
	accountVars memo[string, map[string]string]
	// ruleHeaders remembers the HeaderRule values of the rules deciding authorizes (ruleHeader).
	ruleHeaders memo[string, []string]
	router      *mux.Router
	handler     http.Handler
	// contracts holds, per contract document by file name, its validator, compiled on first use
	// (compileContracts); warmUp starts compiling them all (WarmUp).
	contracts map[string]func() (*validate.Validator, error)
	warmUp    func()
	// inflight holds the idempotent requests being processed, so concurrent duplicates wait for
	// the first instead of creating a second resource.
	inflightMu sync.Mutex
	inflight   map[string]*flight
	journal    *journal
	tenants    *tenant.Registry
	fields     FieldPolicy
	reset      func(tenant string) (int, error)
	state      State
	faults     *faults.Registry
	// shutdowns holds, per http.Server serving faulted calls, a channel closed as it shuts down
	// (faults.go).
	shutdowns sync.Map
	// metrics, metricsHandler, version and ready serve the operations endpoints (ops.go).
	metrics        *metrics.Metrics
	metricsHandler http.Handler
	version        string
	ready          []ReadyCheck
	journaled      func(tenant string)
	clockMoved     func(tenant string)
}

// NewServer builds the handler; each route's contract checks are compiled once, on its first
// call or by the background warm-up (WarmUp), whichever comes first.
func NewServer(d Deps) (*Server, error) {
	s := &Server{
		svc:       d.Service,
		store:     d.Store,
		accounts:  d.Accounts,
		log:       d.Logger,
		publicURL: strings.TrimRight(d.PublicURL, "/"),
		router:    mux.NewRouter(),
		contracts: map[string]func() (*validate.Validator, error){},
		inflight:  map[string]*flight{},
		journal:   newJournal(d.Journal),
		tenants:   tenant.New(cmp.Or(d.MaxTenants, DefaultMaxTenants)),
		fields:    cmp.Or(d.UndocumentedFields, WarnUndocumented),
		reset:     d.Reset,
		faults:    d.Faults,
		state:     d.State,
		journaled: d.Journaled,
	}
	s.clockMoved = d.ClockMoved
	if s.accounts == nil {
		s.accounts = &Accounts{} // test keys, with a tenant cache of the server's own
	}
	if s.reset == nil {
		return nil, errors.New("mockhttp: Deps.Reset is required: POST /mock/v1/reset needs it")
	}
	if s.faults == nil {
		s.faults = faults.NewRegistry(0)
	}
	if s.state == nil {
		return nil, errors.New("mockhttp: Deps.State is required: GET and PUT /mock/v1/state need it")
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.failUnrouted(w, r, mockserver.NewError(mockserver.CodeNotFound,
			fmt.Sprintf("No route %s %s.", r.Method, r.URL.Path)))
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.failUnrouted(w, r, mockserver.NewError(mockserver.CodeMethodNotAllowed,
			fmt.Sprintf("%s is not allowed on %s.", r.Method, r.URL.Path)))
	})
	s.enableOps(d)
	s.compileContracts(contractControl, contractPayments, contractNotify, contractIdentity)
	if err := s.routes(); err != nil {
		return nil, err
	}
	s.handler = s.logRequests(s.recoverPanics(http.HandlerFunc(s.dispatch)))
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// request is what a handler gets: the HTTP request with its authenticated scope, path variables
// and body already read and checked against the contract.
type request struct {
	*http.Request
	tenant string
	// scope is where the call's objects live (see mockserver.Scope); empty for routes without a
	// partner account, in the path or, on Klarna's paths for direct Partners, the key's own.
	scope string
	vars  map[string]string
	// body is the request's body as read.
	body []byte
	// warnings are the undocumented body properties the contract check let through (see
	// FieldPolicy), kept in the journal.
	warnings []validate.Violation
}

// handlerFunc handles a checked request; it writes a success response or returns an error.
type handlerFunc func(w http.ResponseWriter, r *request) error

// route is one endpoint: where it is, which contract describes it, and how it is handled.
type route struct {
	method, path string
	contract     string // contract file name in contracts/, e.g. "klarna-payments.yaml"
	public       bool   // no API key needed (the Purchase Journey)
	idempotent   bool   // honours Klarna-Idempotency-Key
	raw          bool   // not JSON: the handler reads and answers in its own format (HTML forms)
	journaled    bool   // Klarna's API: kept in the journal of what each account sent
	direct       bool   // Klarna's path for direct Partners: the account is the key's own (ownAccount)
	maxBody      int64  // the largest body accepted; 0 means MaxBodyBytes
	// fault is the operation faults name the route by (faults.go); set by add, empty for routes
	// no fault hits.
	fault  faults.Operation
	handle handlerFunc
}

// compileContracts sets up the contract documents to be compiled each on its first use, or by
// the warm-up (WarmUp), one after the other in the order given, whichever comes first.
// Compiling them is most of the mock's start-up time (parsing the YAML above all), and the mock
// must answer within milliseconds of starting: this way its first answer waits only for its own
// document, still checked in full, and the others are ready soon after, on at most one core.
// Routes are mounted without a document, from the index of its operations (contracts.Operations).
// What is compiled is each embedded document cut down to what checking a request needs
// (contracts.RequestDocument), half the work of the whole; the whole documents are checked as
// OpenAPI documents by contracts/validate's tests, so they are compiled without checking them
// again (validate.NewTrusted).
func (s *Server) compileContracts(names ...string) {
	for _, name := range names {
		s.contracts[name] = sync.OnceValues(func() (*validate.Validator, error) {
			var v *validate.Validator
			spec, err := contracts.RequestDocument(name)
			if err == nil {
				v, err = validate.NewTrusted(spec)
			}
			if err != nil {
				return nil, fmt.Errorf("contract %s: %w", name, err)
			}
			return v, nil
		})
	}
	s.warmUp = sync.OnceFunc(func() {
		go func() {
			for _, name := range names {
				if _, err := s.contracts[name](); err != nil {
					s.log.Error("compiling a contract", "err", err)
				}
			}
		}()
	})
}

// WarmUp starts compiling, in the background, every contract document no call has compiled yet;
// later calls do nothing. app.New calls it once the mock is assembled, rather than NewServer at
// once: on a busy machine, compiling would take the cores from the rest of the start-up, which
// the first answer waits for, where it waits for no document but its own.
func (s *Server) WarmUp() { s.warmUp() }

// add mounts a route with its contract checks, looked up on the route's first call. A route
// whose operation has nothing to check (contracts.Operation.Checked) gets none, so that its first
// call, such as a probe's, does not wait for its document to compile.
func (s *Server) add(rt route) error {
	var op func() (*validate.Operation, error)
	if rt.contract != "" {
		validator, ok := s.contracts[rt.contract]
		if !ok {
			return fmt.Errorf("contract %s is not one the server compiles", rt.contract)
		}
		found, ok := contracts.FindOperation(rt.contract, rt.method, rt.path)
		if !ok {
			return fmt.Errorf("contract %s: no operation %s %s in the document", rt.contract, rt.method, rt.path)
		}
		if found.Checked {
			op = sync.OnceValues(func() (*validate.Operation, error) {
				v, err := validator()
				if err != nil {
					return nil, err
				}
				return v.Operation(rt.method, rt.path)
			})
		}
	}
	name := s.operationName(rt)
	rt.fault = faultOperation(rt.contract, name)
	return s.mount(rt, &routeHandler{s: s, rt: rt, op: op, observed: s.metrics.Operation(name)})
}

// routeHandler serves the calls of one route, handed to it by Server.dispatch.
type routeHandler struct {
	s  *Server
	rt route
	// op is the route's contract checks, nil for a route without any.
	op func() (*validate.Operation, error)
	// observed records each call's status and latency.
	observed *metrics.Operation
}

// ServeHTTP serves a call that reached the route through the router's own ServeHTTP, which
// hands over the path variables in the request's context; Server.dispatch calls serve instead.
func (h *routeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{}
	x.match.Vars = mux.Vars(r)
	h.serve(x, w, r)
}

// serve serves the call of x, matched to the route: the route's steps (Server.serve), the
// journal entry of a journaled route, and the call's metrics.
func (h *routeHandler) serve(x *exchange, w http.ResponseWriter, hr *http.Request) {
	start := time.Now()
	s, rt := h.s, h.rt
	x.sw = httpserver.StatusWriter{ResponseWriter: w, Status: http.StatusOK}
	x.r = request{Request: hr, vars: x.match.Vars}
	sw, r := &x.sw, &x.r
	if rt.journaled {
		sw.Keep = JournalMaxAnswer + 1 // one byte more tells an answer cut from one that fits
	}
	if err := s.serve(sw, r, rt, h.op); err != nil {
		s.fail(sw, hr, err)
	}
	if rt.journaled && r.scope != "" {
		h := sw.Header()
		s.journal.record(r.tenant, r.scope, s.svc.ClockOf(r.tenant).Now(), hr, r.body, sw.Status, headerValue(h, HeaderRule), headerValue(h, HeaderFault), r.warnings, sw.Kept())
		if s.journaled != nil {
			s.journaled(r.tenant)
		}
	}
	h.observed.Observe(sw.Status, time.Since(start))
}

// exchange is one call: its route match, its request, the writer of its answer and the values
// of its correlation headers, which live exactly as long as each other, so that every call
// allocates them once, together.
type exchange struct {
	match mux.RouteMatch
	sw    httpserver.StatusWriter
	r     request
	// correlation holds the values of the correlation headers (correlate).
	correlation [2]string
}

// dispatch sets the correlation headers and serves the request with the route the router
// matches, as the router's own ServeHTTP would but without what that costs every call: it copies
// the request twice, to add the path variables and the route to its context (two allocations
// each), where the routes take their variables from the match and nothing asks for the route
// (mux.CurrentRoute). A path in no canonical form gets the router's NotFoundHandler, as
// httpserver.CanonicalPaths answers it.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	x := &exchange{}
	correlate(w.Header(), r, &x.correlation)
	if !httpserver.CanonicalPath(r.URL.Path) {
		s.router.NotFoundHandler.ServeHTTP(w, r)
		return
	}
	// The router has a NotFoundHandler and a MethodNotAllowedHandler, so it always matches.
	s.router.Match(r, &x.match)
	if h, ok := x.match.Handler.(*routeHandler); ok {
		h.serve(x, w, r)
		return
	}
	x.match.Handler.ServeHTTP(w, r)
}

// serve runs the steps every route shares: authenticate, read the body, check the contract,
// honour idempotency, then call the handler. It fills r in as far as it gets, for the journal.
func (s *Server) serve(w http.ResponseWriter, r *request, rt route, op func() (*validate.Operation, error)) error {
	hr := r.Request
	if !rt.public {
		account := r.vars[varAccount]
		tenant, err := s.accounts.Resolve(headerValue(hr.Header, headerAuthorization), account)
		if err != nil {
			return err
		}
		if err := s.tenants.Admit(tenant, s.svc.Clock().Now()); err != nil {
			return err
		}
		r.tenant = tenant
		switch {
		case account != "":
			r.scope = s.scope(tenant, account)
		case rt.direct:
			r.scope = s.scope(tenant, s.ownAccount(tenant))
		}
	}
	if hr.Body != nil && hr.Method != http.MethodGet && hr.Method != http.MethodDelete {
		body, err := readBody(hr, rt.raw, cmp.Or(rt.maxBody, MaxBodyBytes))
		if err != nil {
			return err
		}
		r.body = body
	}
	if op != nil {
		checks, err := op()
		if err != nil {
			return err
		}
		if vs := checks.Check(hr, r.vars, r.body); len(vs) > 0 {
			var refused []validate.Violation
			refused, r.warnings = s.fields.sort(rt.contract, vs)
			if len(refused) > 0 {
				return violationsError(refused)
			}
			s.log.Info("request accepted with undocumented fields", "method", hr.Method, "path", hr.URL.Path, "fields", parametersOf(r.warnings))
		}
	}
	if rt.fault != "" {
		if f := s.fireFault(r, rt); f != nil {
			return s.injectFault(w, r, rt, f)
		}
	}
	return s.handle(w, r, rt)
}

// scope is the scope of a tenant and a partner account (mockserver.Scope), remembered
// (Server.scopes) unless the account is too long to be.
func (s *Server) scope(tenant, account string) string {
	if len(account) > maxMemoKey {
		return mockserver.Scope(tenant, account)
	}
	if scope, ok := s.scopes.lookup([2]string{tenant, account}); ok {
		return scope
	}
	// The memo keeps a copy of the account, not the path it may be a part of.
	return s.scopes.get([2]string{tenant, strings.Clone(account)}, scopeOf)
}

// scopeOf is the scope of a tenant and a partner account (mockserver.Scope), for Server.scopes.
func scopeOf(k [2]string) string { return mockserver.Scope(k[0], k[1]) }

// handle calls the route's handler, once per Klarna-Idempotency-Key where the route honours one.
func (s *Server) handle(w http.ResponseWriter, r *request, rt route) error {
	if rt.idempotent {
		if key := headerValue(r.Header, headerIdempotencyKey); key != "" {
			return s.idempotently(w, r, key, rt.handle)
		}
	}
	return rt.handle(w, r)
}

// readBody reads a request body of at most limit bytes, insisting on JSON unless the route
// takes another format.
func readBody(r *http.Request, raw bool, limit int64) ([]byte, error) {
	body, err := readAll(r.Body, min(r.ContentLength, limit), limit)
	if err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return nil, mockserver.NewError(mockserver.CodePayloadTooLarge,
				fmt.Sprintf("The request body is larger than %d bytes.", limit))
		}
		return nil, mockserver.Invalid("body", "the request body could not be read: "+err.Error())
	}
	if ct := headerValue(r.Header, headerContentType); len(body) > 0 && !raw && !httpserver.IsJSON(ct) {
		return nil, mockserver.NewError(mockserver.CodeUnsupportedMediaType,
			fmt.Sprintf("Send the body as application/json, not %q.", ct))
	}
	return body, nil
}

// readAll reads r to its end, as io.ReadAll does, into one buffer of size bytes and one more,
// size being the length the client declared (http.Request.ContentLength, -1 when unknown):
// io.ReadAll starts at 512 bytes and grows by copying, twice for a typical authorize. A length
// above maxPresized is not trusted with a buffer before its bytes arrive. A body longer than
// limit bytes fails with an *http.MaxBytesError, as http.MaxBytesReader's reads do: the limit is
// kept here rather than by wrapping r in one, an allocation on every call, which would not make
// net/http close the connection either, since the writer it is given is the route's wrapper.
func readAll(r io.Reader, size, limit int64) ([]byte, error) {
	const maxPresized = 64 << 10
	if size < 0 || size > maxPresized {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err == nil && int64(len(b)) > limit {
			err = &http.MaxBytesError{Limit: limit}
		}
		return b, err
	}
	// The byte more lets the read that finds the end find room, rather than grow the buffer.
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case int64(len(b)) > limit:
			return b, &http.MaxBytesError{Limit: limit}
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // a body longer than declared: net/http refuses it, a test's reader may not
		}
	}
}

// violationsError turns contract violations into one Klarna VALIDATION_ERROR naming every field.
func violationsError(vs []validate.Violation) error {
	fields := make([]mockserver.FieldError, len(vs))
	for i, v := range vs {
		fields[i] = mockserver.FieldError{Parameter: v.Parameter, ErrorMessage: v.Message}
	}
	msg := "The request is invalid: " + vs[0].Parameter + ": " + vs[0].Message
	if len(vs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(vs)-1)
	}
	return mockserver.NewError(mockserver.CodeValidation, msg, fields...)
}

// decodeJSON decodes a body the contract already accepted into v. It only fails for JSON the
// contract cannot describe (such as numbers out of int64 range), reported as a Klarna error.
func decodeJSON(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	// The authorize request, on every authorize, is decoded without reflection when its body is
	// plain; decodeAuthorize says when it is, and gives then what encoding/json would.
	if ab, ok := v.(*authorizeBody); ok {
		v = &ab.req
		if ab.req == (mockserver.AuthorizeRequest{}) {
			if decodeAuthorize(body, &ab.req, &ab.room) {
				return nil
			}
			*ab = authorizeBody{}
		}
	}
	return unmarshalJSON(body, v)
}

// unmarshalJSON decodes body into v with encoding/json, its failures reported as Klarna errors.
func unmarshalJSON(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return mockserver.Invalid(te.Field, "expected "+te.Type.String()+", got "+te.Value)
		}
		return mockserver.Invalid("body", "the body is not valid JSON: "+err.Error())
	}
	return nil
}

// writeJSON writes v as the JSON response body with status, as httpserver.WriteJSON does; an
// approved authorize's answer is encoded without reflection (appendApproved).
func writeJSON(w http.ResponseWriter, status int, v any) error {
	if resp, ok := v.(*mockserver.AuthorizeResponse); ok {
		return httpserver.WriteJSONAppended(w, status, v, func(b []byte) ([]byte, bool) { return appendApproved(b, resp) })
	}
	return httpserver.WriteJSON(w, status, v)
}

// fail writes err as a Klarna error response. It is the one place errors become responses.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	ke := capErrors(mockserver.AsError(err))
	if ke.Status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	b, merr := json.Marshal(ke)
	if merr != nil {
		b = []byte(`{"error_type":"TECHNICAL_ERROR","error_code":"INTERNAL_ERROR","error_message":"unencodable error"}`)
	}
	httpserver.SetJSONContentType(w.Header())
	w.WriteHeader(ke.Status)
	_, _ = w.Write(b)
}

// MaxErrorEntries is the most errors[] entries an error answer lists, so that a body with
// thousands of faults gets an answer of a few kilobytes, not megabytes: the first hundred are
// enough to fix a client, and the message says how many more there were.
const MaxErrorEntries = 100

// capErrors returns ke, or when it lists more than MaxErrorEntries errors a copy listing the first
// MaxErrorEntries whose message says how many were left out.
func capErrors(ke *mockserver.Error) *mockserver.Error {
	if len(ke.Errors) <= MaxErrorEntries {
		return ke
	}
	c := *ke
	c.Errors = ke.Errors[:MaxErrorEntries]
	c.ErrorMessage = strings.TrimSuffix(ke.ErrorMessage, ".") + fmt.Sprintf(
		". The errors list shows the first %d of %d problems; %d are left out.",
		MaxErrorEntries, len(ke.Errors), len(ke.Errors)-MaxErrorEntries)
	return &c
}

// baseURL is where customers reach this mock: the configured public URL or the request's own.
func (s *Server) baseURL(r *http.Request) string {
	if s.publicURL != "" {
		return s.publicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	// Clients reach a mock under one or two names: the last one's URL is kept, so that calls
	// under it do not build it again.
	if last := s.lastBaseURL.Load(); last != nil && last.host == r.Host && last.scheme == scheme {
		return last.url
	}
	u := scheme + "://" + r.Host
	s.lastBaseURL.Store(&requestBaseURL{scheme: scheme, host: r.Host, url: u})
	return u
}

// requestBaseURL is the base URL baseURL made from a request's scheme and Host.
type requestBaseURL struct{ scheme, host, url string }

// correlate sets the correlation headers every response carries in h, their values held in
// ids, which live as long as the response (exchange.correlation).
func correlate(h http.Header, r *http.Request, ids *[2]string) {
	// The names are canonical (TestHeaderNamesCanonical), so the values are assigned, not Set,
	// each a slice of ids whose capacity is its length, so that an Add appends to a copy.
	ids[0] = mockserver.NewID("")
	h[headerKlarnaCorrelationID] = ids[:1:1]
	// Only a well-formed id is echoed; a malformed one is reported by the contract check instead.
	if partner := headerValue(r.Header, headerPartnerCorrelationID); partner != "" && validCorrelationID(partner) {
		ids[1] = partner
		h[headerPartnerCorrelationID] = ids[1:2:2]
	}
}

// The correlation headers (docs/klarna.md §1), in their canonical form.
const (
	headerKlarnaCorrelationID  = "Klarna-Correlation-Id"
	headerPartnerCorrelationID = "Partner-Correlation-Id"
)

// The request headers every call's steps read (Server.serve), in their canonical form.
const (
	headerAuthorization  = "Authorization"
	headerIdempotencyKey = "Klarna-Idempotency-Key"
	headerContentType    = "Content-Type"
)

// headerValue is h.Get(name) for a canonical name (TestHeaderNamesCanonical), without Get's
// canonicalizing name again on every call, which on the ten headers an authorize reads took
// about 1% of its CPU in-process. The result is the same: net/http and httptest store every
// valid name in its canonical form, and Get finds no other.
func headerValue(h http.Header, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// validCorrelationID reports whether id is a Partner-Correlation-Id as Klarna defines it:
// 1 to 255 ASCII letters and digits.
func validCorrelationID(id string) bool {
	if len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}
