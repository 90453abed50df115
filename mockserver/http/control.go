package http

import (
	"net/http"
	"time"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// journeyAction lets a test act as the customer in the Purchase Journey without a browser. Like
// the payment_request_url, it needs only the payment request id.
func (s *Server) journeyAction(w http.ResponseWriter, r *request) error {
	action, err := mockserver.ParseJourneyAction("action", r.vars["action"])
	if err != nil {
		return err
	}
	pr, err := s.svc.Act("", r.vars["payment_request_id"], action)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

// clockState is the body of the clock endpoints.
type clockState struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

func (s *Server) clockState() clockState {
	c := s.svc.Clock()
	return clockState{Now: c.Now(), Offset: c.Offset().String()}
}

func (s *Server) readClock(w http.ResponseWriter, r *request) error {
	return writeJSON(w, http.StatusOK, s.clockState())
}

// advanceClock moves the mock's clock forward, firing every expiry and webhook retry that falls
// due on the way.
func (s *Server) advanceClock(w http.ResponseWriter, r *request) error {
	var in struct {
		Duration string `json:"duration"`
	}
	if err := decodeJSON(r.body, &in); err != nil {
		return err
	}
	d, err := parseDuration(in.Duration)
	if err != nil {
		return mockserver.Invalid("duration", err.Error())
	}
	s.svc.Clock().Advance(d)
	return writeJSON(w, http.StatusOK, s.clockState())
}

// parseDuration takes an ISO 8601 duration (PT1H) or a Go one (90m).
func parseDuration(v string) (time.Duration, error) {
	if d, err := mockserver.ParseISODuration(v); err == nil {
		return d, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, err
	}
	if d < 0 {
		return 0, errNegativeDuration
	}
	return d, nil
}

var errNegativeDuration = mockserver.Invalid("duration", "the clock only moves forward")

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
