package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
)

// journeyAction lets a test act as the customer in the Purchase Journey without a browser.
// Unlike the journey page, whose unguessable URL is the customer's capability, it is part of the
// tenant's control API: it takes the tenant's key and acts only on the tenant's own Payment
// Requests, another tenant's being the 404 of an unknown id.
func (s *Server) journeyAction(w http.ResponseWriter, r *request) error {
	action, err := mockserver.ParseJourneyAction("action", r.vars["action"])
	if err != nil {
		return err
	}
	// The path names no partner account: the request is found by id, then held to the caller's
	// tenant, and acted on in its own scope (the tenant's partner account it was created on).
	id := r.vars["payment_request_id"]
	pr, err := s.svc.PaymentRequest("", id)
	if err != nil {
		return err
	}
	if owner, _ := mockserver.SplitScope(pr.AccountID); owner != r.tenant {
		return mockserver.NotFound("Payment request", id)
	}
	if pr, err = s.svc.Act(pr.AccountID, id, action); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

// clockState is the body of the clock endpoints.
type clockState struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func stateOf(c *clock.Clock) clockState {
	return clockState{Now: c.Now(), Offset: c.Offset().String()}
}

// readClock answers the caller's tenant clock: each tenant's time is its own (see clock.Tenant).
func (s *Server) readClock(w http.ResponseWriter, r *request) error {
	return writeJSON(w, http.StatusOK, stateOf(s.svc.ClockOf(r.tenant)))
}

// advanceClock moves the caller's tenant clock forward (AdvanceClock).
func (s *Server) advanceClock(w http.ResponseWriter, r *request) error {
	var in struct {
		Duration string `json:"duration"`
	}
	if err := decodeJSON(r.body, &in); err != nil {
		return err
	}
	if err := s.AdvanceClock(r.tenant, in.Duration); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, stateOf(s.svc.ClockOf(r.tenant)))
}

// AdvanceClock moves the tenant's clock forward by duration, an ISO 8601 (PT1H) or Go (90m)
// one, firing every expiry and webhook retry of that tenant that falls due on the way; other
// tenants' clocks stay where they are. A negative, absurdly long or overflowing move is a 400 on
// duration, and leaves the clock as it was. POST /mock/v1/clock/advance and the dashboard move
// the clock through it.
func (s *Server) AdvanceClock(tenant, duration string) error {
	d, err := parseDuration(duration)
	if err != nil {
		return mockserver.Invalid("duration", err.Error())
	}
	if _, err := s.svc.ClockOf(tenant).TryAdvance(d); err != nil {
		return mockserver.Invalid("duration", err.Error())
	}
	if s.clockMoved != nil {
		s.clockMoved(tenant)
	}
	return nil
}

// parseDuration takes an ISO 8601 duration (PT1H) or a Go one (90m). Both parsers refuse what a
// time.Duration cannot hold; the sign and the size of the move are the clock's to check.
func parseDuration(v string) (time.Duration, error) {
	if strings.HasPrefix(v, "P") {
		return mockserver.ParseISODuration(v)
	}
	return time.ParseDuration(v)
}

// customerTokenView shows a customer token with its status, which Klarna's own token object
// does not carry.
type customerTokenView struct {
	*mockserver.CustomerToken
	Status string `json:"status"`
}

func (s *Server) readCustomerToken(w http.ResponseWriter, r *request) error {
	ct, err := s.svc.CustomerToken(r.scope, r.vars["customer_token"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, customerTokenView{ct, ct.Status})
}

func (s *Server) revokeCustomerToken(w http.ResponseWriter, r *request) error {
	ct, err := s.svc.RevokeCustomerToken(r.scope, r.vars["customer_token"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, customerTokenView{ct, ct.Status})
}

// serveContract serves one contract document as YAML.
func (s *Server) serveContract(name string) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		b, err := contracts.Files.ReadFile(name)
		if err != nil {
			return mockserver.NotFound("Contract", name)
		}
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(b)
		return nil
	}
}

func (s *Server) serveNamedContract(w http.ResponseWriter, r *request) error {
	return s.serveContract(r.vars["file"])(w, r)
}
