// Package http serves the acquirer over HTTP: the Partner API (contracts/acquirer.yaml) and the
// listener for Klarna's webhooks. Every route is checked against the contract before its handler
// runs; handlers return errors, which one function (fail) turns into the AP's error shape.
package http

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/validate"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// ContractFile is the contract of this API in contracts/.
const ContractFile = "acquirer.yaml"

// MaxBodyBytes is the largest request body accepted.
const MaxBodyBytes = 1 << 20

// HeaderRequestID is the response header carrying the AP's id of every request.
const HeaderRequestID = "AP-Request-Id"

// Deps are what the server needs.
type Deps struct {
	Service  *acquirer.Service
	Partners *acquirer.Partners
	// KlarnaKeys verifies the signatures of Klarna's webhooks.
	KlarnaKeys *klarna.Keyring
	// Logger receives every request at debug level and every failure; nil discards.
	Logger *slog.Logger
}

// Server is the acquirer's HTTP handler.
type Server struct {
	svc      *acquirer.Service
	partners *acquirer.Partners
	keys     *klarna.Keyring
	log      *slog.Logger
	router   *mux.Router
	contract *validate.Validator
	handler  http.Handler
}

// NewServer builds the handler, compiling the contract checks of every route once. It fails
// only if the embedded contract does not describe a route, a fault of the build.
func NewServer(d Deps) (*Server, error) {
	if d.Service == nil || d.Partners == nil || d.KlarnaKeys == nil {
		return nil, errors.New("http: Service, Partners and KlarnaKeys are required")
	}
	spec, err := contracts.Files.ReadFile(ContractFile)
	if err != nil {
		return nil, fmt.Errorf("contract %s: %w", ContractFile, err)
	}
	v, err := validate.New(spec)
	if err != nil {
		return nil, fmt.Errorf("contract %s: %w", ContractFile, err)
	}
	s := &Server{
		svc: d.Service, partners: d.Partners, keys: d.KlarnaKeys, log: cmp.Or(d.Logger, slog.New(slog.DiscardHandler)),
		router: mux.NewRouter(), contract: v,
	}
	s.router.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, acquirer.NewError(acquirer.CodeNotFound, fmt.Sprintf("No route %s %s.", r.Method, r.URL.Path)))
	})
	s.router.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, acquirer.NewError(acquirer.CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed on %s.", r.Method, r.URL.Path)))
	})
	if err := s.routes(); err != nil {
		return nil, err
	}
	s.handler = s.identify(s.recoverPanics(httpserver.CanonicalPaths(s.router)))
	return s, nil
}

// ServeHTTP serves a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// auth is how a route's caller proves who it is.
type auth int

const (
	// authPartner: a Partner API key, "Authorization: Bearer <key>".
	authPartner auth = iota
	// authKlarnaSignature: Klarna's signature of the body (Klarna-Signature).
	authKlarnaSignature
)

// route is one endpoint: where it is, who may call it, and its handler.
type route struct {
	method, path string
	auth         auth
	handle       handlerFunc
}

// request is what a handler gets: the HTTP request with its caller and its body already read
// and checked against the contract.
type request struct {
	*http.Request
	partner acquirer.Partner // for authPartner routes
	vars    map[string]string
	body    []byte
}

// handlerFunc handles a checked request: it writes a success response or returns an error.
type handlerFunc func(w http.ResponseWriter, r *request) error

// add compiles a route's contract checks and mounts it.
func (s *Server) add(rt route) error {
	op, err := s.contract.Operation(rt.method, rt.path)
	if err != nil {
		return fmt.Errorf("contract %s: %w", ContractFile, err)
	}
	s.router.HandleFunc(rt.path, func(w http.ResponseWriter, r *http.Request) {
		if err := s.serve(w, r, rt, op); err != nil {
			s.fail(w, r, err)
		}
	}).Methods(rt.method)
	return nil
}

// serve runs the steps every route shares: authenticate, read the body, check the contract,
// then call the handler.
func (s *Server) serve(w http.ResponseWriter, hr *http.Request, rt route, op *validate.Operation) error {
	r := &request{Request: hr, vars: mux.Vars(hr)}
	if rt.auth == authPartner {
		p, err := s.authenticate(hr)
		if err != nil {
			return err
		}
		r.partner = p
	}
	if hr.Method != http.MethodGet {
		body, err := readBody(w, hr)
		if err != nil {
			return err
		}
		r.body = body
	}
	if rt.auth == authKlarnaSignature {
		// Before anything else reads the body: only a signed body is Klarna's.
		if !s.keys.Verify(hr.Header.Get(klarna.HeaderSigningKeyID), r.body, hr.Header.Get(klarna.HeaderSignature)) {
			return acquirer.NewError(acquirer.CodeInvalidSignature, "The Klarna-Signature does not match the body.",
				acquirer.FieldError{Parameter: klarna.HeaderSignature, Message: "does not match the body"})
		}
	}
	if vs := op.Check(hr, r.vars, r.body); len(vs) > 0 {
		fields := make([]acquirer.FieldError, len(vs))
		for i, v := range vs {
			fields[i] = acquirer.FieldError{Parameter: v.Parameter, Message: v.Message}
		}
		return acquirer.Invalid(fields...)
	}
	return rt.handle(w, r)
}

// authenticate returns the Partner of the request's API key.
func (s *Server) authenticate(r *http.Request) (acquirer.Partner, error) {
	scheme, key, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "Bearer") {
		if p, ok := s.partners.Authenticate(strings.TrimSpace(key)); ok {
			return p, nil
		}
	}
	return acquirer.Partner{}, acquirer.NewError(acquirer.CodeUnauthorized, "Send a valid Partner API key as 'Authorization: Bearer <key>'.")
}

// readBody reads a JSON request body of at most MaxBodyBytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, acquirer.NewError(acquirer.CodePayloadTooLarge, fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes))
	}
	if err != nil {
		return nil, acquirer.Invalid(acquirer.FieldError{Parameter: "body", Message: "could not be read: " + err.Error()})
	}
	if ct := r.Header.Get("Content-Type"); len(body) > 0 && !httpserver.IsJSON(ct) {
		return nil, acquirer.NewError(acquirer.CodeUnsupportedMediaType, fmt.Sprintf("Send the body as application/json, not %q.", ct))
	}
	return body, nil
}

// decode decodes a body the contract already accepted.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return acquirer.Invalid(acquirer.FieldError{Parameter: "body", Message: "not valid JSON: " + err.Error()})
	}
	return nil
}

// errorBody is the AP's error shape (schema Error).
type errorBody struct {
	ErrorCode    acquirer.ErrorCode `json:"error_code"`
	ErrorMessage string             `json:"error_message"`
	RequestID    string             `json:"request_id"`
	Errors       []fieldError       `json:"errors,omitempty"`
	KlarnaError  *klarnaError       `json:"klarna_error,omitempty"`
}

type fieldError struct {
	Parameter    string `json:"parameter"`
	ErrorMessage string `json:"error_message"`
}

// klarnaError is Klarna's error as passed on to the Partner (schema KlarnaError).
type klarnaError struct {
	Status        int          `json:"status"`
	ErrorID       string       `json:"error_id,omitempty"`
	ErrorType     string       `json:"error_type,omitempty"`
	ErrorCode     string       `json:"error_code,omitempty"`
	ErrorMessage  string       `json:"error_message,omitempty"`
	CorrelationID string       `json:"correlation_id,omitempty"`
	Errors        []fieldError `json:"errors,omitempty"`
}

// fail writes err in the AP's error shape. It is the one place errors become responses.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := acquirer.AsError(err)
	status := e.Code.Status()
	switch {
	case status >= 500:
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "request_id", acquirer.RequestID(r.Context()), "code", e.Code, "err", err)
	case e.Klarna != nil:
		s.log.Warn("klarna refused", "method", r.Method, "path", r.URL.Path, "request_id", acquirer.RequestID(r.Context()), "err", err)
	}
	body := errorBody{ErrorCode: e.Code, ErrorMessage: e.Message, RequestID: acquirer.RequestID(r.Context())}
	for _, f := range e.Fields {
		body.Errors = append(body.Errors, fieldError{f.Parameter, f.Message})
	}
	if ke := e.Klarna; ke != nil && e.Code != acquirer.CodeKlarnaUnavailable {
		body.KlarnaError = &klarnaError{Status: ke.StatusCode, ErrorID: ke.ErrorID, ErrorType: ke.ErrorType,
			ErrorCode: ke.ErrorCode, ErrorMessage: ke.ErrorMessage, CorrelationID: ke.CorrelationID}
		for _, f := range ke.Errors {
			body.KlarnaError.Errors = append(body.KlarnaError.Errors, fieldError{f.Parameter, f.ErrorMessage})
		}
	}
	if e.Code == acquirer.CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(e.RetryAfter.Seconds()))))
	}
	if werr := httpserver.WriteJSON(w, status, body); werr != nil {
		s.log.Error("writing error response", "err", werr)
	}
}

// identify gives every request an id: in the AP-Request-Id response header, in the context
// (and from there in Partner-Correlation-Id to Klarna), and in the request log.
func (s *Server) identify(next http.Handler) http.Handler {
	logged := httpserver.LogRequests(s.log, next, func(_ http.ResponseWriter, r *http.Request) []slog.Attr {
		return []slog.Attr{slog.String("request_id", acquirer.RequestID(r.Context()))}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := acquirer.NewID("", 16)
		w.Header().Set(HeaderRequestID, id)
		logged.ServeHTTP(w, r.WithContext(acquirer.WithRequestID(r.Context(), id)))
	})
}

// recoverPanics turns a panic, always a bug, into a logged 500 instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return httpserver.RecoverPanics(s.log, next, func(w http.ResponseWriter, r *http.Request, v any) {
		s.fail(w, r, fmt.Errorf("panic: %v", v))
	})
}
