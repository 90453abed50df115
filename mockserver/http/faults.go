package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/faults"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// HeaderFault is the response header of every answer a fault changed, naming the fault
// (POST /mock/v1/faults). It is the mock's own: Klarna sends no such header.
const HeaderFault = "Klarna-Mock-Fault"

// faultOperation is the operation faults name a route by, from its contract and operationId;
// empty for the routes no fault hits: the mock's own, the Purchase Journey, the contracts.
func faultOperation(contract, operationID string) faults.Operation {
	switch operationID {
	case "authorizePayment", "authorizePaymentDirect":
		return faults.Authorize
	case "createPaymentRequest", "createPaymentRequestDirect":
		return faults.PaymentRequestCreate
	case "readPaymentRequest", "readPaymentRequestDirect":
		return faults.PaymentRequestRead
	case "updatePaymentRequest", "updatePaymentRequestDirect", "patchPaymentRequest":
		return faults.PaymentRequestUpdate
	case "cancelPaymentRequest", "cancelPaymentRequestDirect":
		return faults.PaymentRequestCancel
	case "readPaymentTransaction", "updatePaymentTransaction", "capturePaymentTransaction",
		"refundPaymentTransaction", "refundPaymentCapture", "voidPaymentTransaction":
		return faults.Transaction
	case "getPaymentPresentation", "getPaymentPresentationDirect":
		return faults.Presentation
	case "createTestInteroperabilityToken", "createInteroperabilitySdkToken",
		"createIdentitySdkToken", "createIdentitySdkTokenDirect", "introspectCustomerToken", "revokeCustomerToken":
		return faults.Tokens
	}
	if contract == contractNotify {
		return faults.Notifications
	}
	return ""
}

// faultList is the body of GET /mock/v1/faults.
type faultList struct {
	Faults []faults.View `json:"faults"`
}

// createFault gives the caller's tenant a fault, created on the tenant's clock.
func (s *Server) createFault(w http.ResponseWriter, r *request) error {
	var def faults.Definition
	if err := decodeJSON(r.body, &def); err != nil {
		return err
	}
	v, err := s.faults.Add(r.tenant, def, s.svc.ClockOf(r.tenant).Now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, v)
}

// listFaults answers the caller's faults, oldest first; on a database other mocks share, as it
// holds them, with the calls each hit on every mock.
func (s *Server) listFaults(w http.ResponseWriter, r *request) error {
	if err := s.faults.Refresh(r.tenant); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, faultList{Faults: s.faults.List(r.tenant)})
}

// deleteFault removes one of the caller's faults.
func (s *Server) deleteFault(w http.ResponseWriter, r *request) error {
	if err := s.faults.Delete(r.tenant, r.vars["fault_id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clearFaults removes every fault of the caller's.
func (s *Server) clearFaults(w http.ResponseWriter, r *request) error {
	if err := s.faults.Clear(r.tenant); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// fireFault returns the fault that hits the call, nil for none (faults.Registry.Fire); a
// tenant without faults costs one atomic load. Conditions are judged on the facts of an
// authorize, gathered only when a fault with conditions names the operation.
func (s *Server) fireFault(r *request, rt route) *faults.Fault {
	return s.faults.Fire(r.tenant, rt.fault, func() *rules.Facts {
		if rt.fault != faults.Authorize {
			return nil
		}
		call, err := s.authorizeCall(r)
		if err != nil {
			return nil
		}
		return s.svc.AuthorizeFacts(call)
	})
}

// authorizeCall is the authorize call a request makes.
func (s *Server) authorizeCall(r *request) (mockserver.AuthorizeCall, error) {
	body := new(authorizeBody)
	if err := decodeJSON(r.body, body); err != nil {
		return mockserver.AuthorizeCall{}, err
	}
	token, header := sessionToken(r.Header)
	return mockserver.AuthorizeCall{
		AccountID:      r.scope,
		Request:        &body.req,
		SessionToken:   token,
		SessionHeader:  header,
		CustomerToken:  headerValue(r.Header, mockserver.HeaderCustomerToken),
		JourneyBaseURL: s.baseURL(r.Request),
	}, nil
}

// injectFault serves a call that fault f hit, with f's effect (docs/faults.md): error, latency
// and hang act before the route's handler, drop and truncate after it, so the call's change is
// made and its answer lost. Every answer names f in HeaderFault, and so does the journal.
func (s *Server) injectFault(w http.ResponseWriter, r *request, rt route, f *faults.Fault) error {
	s.metrics.FaultFired(string(rt.fault), string(f.Effect()))
	w.Header().Set(HeaderFault, f.ID())
	switch f.Effect() {
	case faults.Error:
		if ra, ok := f.RetryAfter(); ok {
			w.Header().Set("Retry-After", ra)
		}
		// Written here rather than returned to fail, which logs a 5xx as the mock's own failure.
		e := f.Err()
		return writeJSON(w, e.Status, e)
	case faults.Latency:
		if s.wait(r.Request, f.Latency()) == clientGone {
			// Nobody is left to serve.
			unanswered(w, 0)
			abort(w)
			return nil
		}
		return s.handle(w, r, rt)
	case faults.Hang:
		s.wait(r.Request, f.Latency())
		unanswered(w, 0)
		abort(w)
		return nil
	}
	// Drop and truncate: the call is served in full, its answer kept back.
	cw := &captureWriter{header: http.Header{}, status: http.StatusOK}
	if err := s.handle(cw, r, rt); err != nil {
		s.fail(cw, r.Request, err)
	}
	// A dropped answer's headers are never sent, but the journal reads them (Klarna-Mock-Rule).
	h := w.Header()
	for k, v := range cw.header {
		h[k] = v
	}
	if f.Effect() == faults.Truncate {
		sendPart(w, cw)
	} else {
		unanswered(w, cw.status)
	}
	abort(w)
	return nil
}

// unanswered sets the status the journal and the request metrics give a call the client gets no
// answer to: the status of the answer a dropped call had, or 0 for a call that had none (a
// hang). w is the StatusWriter every route serves through.
func unanswered(w http.ResponseWriter, status int) {
	if sw, ok := w.(*httpserver.StatusWriter); ok {
		sw.Status = status
	}
}

// waitEnd is what ended a fault's wait.
type waitEnd int

const (
	// waited means the wait lasted as long as it was to.
	waited waitEnd = iota
	// clientGone means the client closed the connection or gave up.
	clientGone
	// shuttingDown means the http.Server serving the call began to shut down, which waits for
	// calls in flight: a fault must not hold it up.
	shuttingDown
)

// wait holds the call r for d, cut to the serving http.Server's write timeout (past which no
// answer could reach the client anyway), and says what ended the wait. It runs on the call's own
// goroutine and starts no other.
func (s *Server) wait(r *http.Request, d time.Duration) waitEnd {
	srv, _ := r.Context().Value(http.ServerContextKey).(*http.Server)
	if srv != nil && srv.WriteTimeout > 0 {
		d = min(d, srv.WriteTimeout)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return waited
	case <-r.Context().Done():
		return clientGone
	case <-s.shutdownOf(srv):
		return shuttingDown
	}
}

// shutdownOf returns a channel closed when srv begins to shut down (nil, which never closes, for
// no server: a handler called directly). Each http.Server is told once, on its first faulted wait.
func (s *Server) shutdownOf(srv *http.Server) <-chan struct{} {
	if srv == nil {
		return nil
	}
	if c, ok := s.shutdowns.Load(srv); ok {
		return c.(chan struct{})
	}
	c, loaded := s.shutdowns.LoadOrStore(srv, make(chan struct{}))
	if !loaded {
		srv.RegisterOnShutdown(func() { close(c.(chan struct{})) })
	}
	return c.(chan struct{})
}

// sendPart sends cw's status, with the headers already on w and the Content-Length of cw's whole
// body, but only the first half of the body. An answer without a body has no part to leave out
// and goes whole.
func sendPart(w http.ResponseWriter, cw *captureWriter) {
	body := cw.body.Bytes()
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(cw.status)
	_, _ = w.Write(body[:len(body)/2])
	// Out now, before abort closes the connection under what is still buffered.
	_ = http.NewResponseController(w).Flush()
}

// abort closes the call's connection without (the rest of) an answer. Over HTTP/1 the
// connection is taken from net/http and closed, and the request is journaled and counted as
// any other; where it cannot be taken (HTTP/2), net/http's own abort resets the stream, and the
// journal and request metrics miss the call.
func abort(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
