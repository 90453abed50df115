package http

import (
	"context"
	"net/http"
	"time"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/metrics"
)

// The operations endpoints, for probes and scrapers: no key, so that a container runtime, a
// load balancer or Prometheus reaches them without a tenant's credentials. They answer about
// the whole process and name no tenant.

// ReadyCheck is one condition of readiness that /readyz tests on every call: a part the mock
// cannot serve without, such as its store (or, with a database, the database answering).
type ReadyCheck struct {
	// Name identifies the check in the /readyz answer.
	Name string
	// Check reports why the part cannot serve, or nil when it can. It must honour ctx, which
	// ends after ReadyTimeout.
	Check func(ctx context.Context) error
}

// ReadyTimeout bounds a /readyz call's checks together: a probe that hangs tells the prober
// nothing, a prompt 503 does.
const ReadyTimeout = 2 * time.Second

// Readiness statuses of /readyz and its checks.
const (
	statusOK       = "ok"
	statusReady    = "ready"
	statusNotReady = "not_ready"
	statusFailing  = "failing"
)

// health is the answer of /healthz.
type health struct {
	Status string `json:"status"`
}

// readiness is the answer of /readyz.
type readiness struct {
	Status  string       `json:"status"`
	Version string       `json:"version"`
	Checks  []checkState `json:"checks"`
}

// checkState is how one ReadyCheck went.
type checkState struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// healthz answers that the process is up and serving HTTP; it checks nothing else, so that a
// liveness probe restarts the mock only when it cannot answer at all.
func (s *Server) healthz(w http.ResponseWriter, _ *request) error {
	return writeJSON(w, http.StatusOK, health{Status: statusOK})
}

// readyz answers whether the mock can serve: the contracts are always ready, since a call whose
// document the start-up warm-up has not compiled yet waits for that one document (server.go,
// compileContracts), and every ReadyCheck passes. It is 200 when ready, 503 naming the failing
// checks when not.
func (s *Server) readyz(w http.ResponseWriter, r *request) error {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	out := readiness{Status: statusReady, Version: s.version, Checks: []checkState{{Name: "contracts", Status: statusOK}}}
	for _, c := range s.ready {
		st := checkState{Name: c.Name, Status: statusOK}
		if err := c.Check(ctx); err != nil {
			st.Status, st.Error = statusFailing, err.Error()
			out.Status = statusNotReady
		}
		out.Checks = append(out.Checks, st)
	}
	status := http.StatusOK
	if out.Status != statusReady {
		status = http.StatusServiceUnavailable
	}
	return writeJSON(w, status, out)
}

// serveMetrics answers the scrape with the mock's metrics in the Prometheus text format.
func (s *Server) serveMetrics(w http.ResponseWriter, r *request) error {
	s.metricsHandler.ServeHTTP(w, r.Request)
	return nil
}

// operationName is a route's operation label in the metrics: the operationId of the contract
// operation describing it, whether or not the route is checked against it (the Purchase Journey
// page is documented but not checked), else its method and path template, which are as few as
// the routes.
func (s *Server) operationName(rt route) string {
	if op, ok := contracts.FindOperation(rt.contract, rt.method, rt.path); ok && op.ID != "" {
		return op.ID
	}
	for name := range s.contracts {
		if op, ok := contracts.FindOperation(name, rt.method, rt.path); ok && op.ID != "" {
			return op.ID
		}
	}
	return rt.method + " " + rt.path
}

// unrouted is the operation label of requests no route matched.
const unrouted = "(unrouted)"

// enableOps sets up what the operations endpoints serve from d, and counts the requests no
// route matches under one label, so that a client calling wrong paths shows without a series
// per path. It runs before the routes are mounted, which record their requests in s.metrics.
func (s *Server) enableOps(d Deps) {
	s.metrics, s.version, s.ready = d.Metrics, d.Version, d.Ready
	if s.metrics == nil {
		s.metrics = metrics.New(d.Version)
	}
	s.metricsHandler = s.metrics.Handler()
	op := s.metrics.Operation(unrouted)
	for _, h := range []*http.Handler{&s.router.NotFoundHandler, &s.router.MethodNotAllowedHandler} {
		next := *h
		*h = observed(op, func(w http.ResponseWriter, r *http.Request) int {
			sw := httpserver.NewStatusWriter(w)
			next.ServeHTTP(sw, r)
			return sw.Status
		})
	}
}

// observed returns a handler that serves each request with serve, which returns the status it
// answered with, and records that status and the latency under operation.
func observed(operation *metrics.Operation, serve func(w http.ResponseWriter, r *http.Request) (status int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status := serve(w, r)
		operation.Observe(status, time.Since(start))
	})
}

// authorizeResult is an authorize answer's result for the metrics: the payment transaction's,
// or the customer token's when the call asked for a token alone. The two never differ: one
// decision answers both.
func authorizeResult(resp *mockserver.AuthorizeResponse) string {
	if resp.PaymentTransactionResponse != nil {
		return resp.PaymentTransactionResponse.Result
	}
	if resp.CustomerTokenResponse != nil {
		return resp.CustomerTokenResponse.Result
	}
	return ""
}
