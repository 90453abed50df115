package http

import (
	"net/http"
	"strconv"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// sessionToken returns the network session token of a request and the header that carried it:
// Klarna-Network-Session-Token, else its legacy equivalents.
func sessionToken(h http.Header) (token, header string) {
	for _, name := range []string{mockserver.HeaderNetworkSessionToken, mockserver.HeaderPaymentToken, mockserver.HeaderInteroperabilityToken} {
		if v := headerValue(h, name); v != "" {
			return v, name
		}
	}
	return "", ""
}

func (s *Server) authorize(w http.ResponseWriter, r *request) error {
	call, err := s.authorizeCall(r)
	if err != nil {
		return err
	}
	resp, err := s.svc.Authorize(call)
	if err != nil {
		return err
	}
	s.metrics.Authorized(authorizeResult(resp), resp.Rule)
	w.Header()[HeaderRule] = s.ruleHeader(resp.Rule) // canonical (TestHeaderNamesCanonical)
	return writeJSON(w, http.StatusOK, resp)
}

// ruleHeader is the value of HeaderRule naming rule: the same slice for every answer of a rule
// (Server.ruleHeaders), which net/http only reads, its capacity its length so that an Add
// appends to a copy.
func (s *Server) ruleHeader(rule string) []string {
	if len(rule) > maxMemoKey {
		return []string{rule}
	}
	return s.ruleHeaders.get(rule, func(rule string) []string { return []string{rule} })
}

func (s *Server) readPaymentRequest(w http.ResponseWriter, r *request) error {
	pr, err := s.svc.PaymentRequest(r.scope, r.vars["payment_request_id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

func (s *Server) cancelPaymentRequest(w http.ResponseWriter, r *request) error {
	pr, err := s.svc.Cancel(r.scope, r.vars["payment_request_id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, pr)
}

func (s *Server) readPaymentTransaction(w http.ResponseWriter, r *request) error {
	tr, err := s.svc.PaymentTransaction(r.scope, r.vars["payment_transaction_id"])
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tr)
}

func (s *Server) presentation(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	token, header := sessionToken(r.Header)
	pq := mockserver.PresentationQuery{
		AccountID:     r.scope,
		Currency:      q.Get("currency"),
		Locale:        q.Get("locale"),
		Intents:       append(q["intents[]"], q["intents"]...),
		CustomerToken: r.Header.Get(mockserver.HeaderCustomerToken),
		SessionToken:  token,
		SessionHeader: header,
		// Checked against Klarna's values by the contract (docs/klarna.md §9).
		SubscriptionBillingInterval: q.Get("subscription_billing_interval"),
	}
	if a := q.Get("amount"); a != "" {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return mockserver.Invalid("amount", "not an integer amount in minor units")
		}
		pq.Amount = n
	}
	if f := q.Get("subscription_billing_interval_frequency"); f != "" {
		n, err := strconv.Atoi(f)
		if err != nil {
			return mockserver.Invalid("subscription_billing_interval_frequency", "not a whole number of billing intervals")
		}
		pq.SubscriptionBillingIntervalFrequency = n
	}
	p, err := s.svc.Presentation(pq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}
