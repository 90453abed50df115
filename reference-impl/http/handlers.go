package http

import (
	"context"
	"net/http"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/reference-impl/acquirer"
	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// networkFields are the Partner's Klarna Network fields under their current and older names,
// which Klarna asks Acquiring Partners to accept alike.
type networkFields struct {
	KlarnaNetworkSessionToken   string `json:"klarna_network_session_token"`
	KlarnaInteroperabilityToken string `json:"klarna_interoperability_token"`
	InteroperabilityToken       string `json:"interoperability_token"`
	KlarnaNetworkData           string `json:"klarna_network_data"`
	KlarnaInteroperabilityData  string `json:"klarna_interoperability_data"`
	InteroperabilityData        string `json:"interoperability_data"`
}

// network returns the one value of each field, refusing two names with different values.
func (n networkFields) network() (acquirer.Network, error) {
	token, err := oneOf(
		named{"klarna_network_session_token", n.KlarnaNetworkSessionToken},
		named{"klarna_interoperability_token", n.KlarnaInteroperabilityToken},
		named{"interoperability_token", n.InteroperabilityToken})
	if err != nil {
		return acquirer.Network{}, err
	}
	data, err := oneOf(
		named{"klarna_network_data", n.KlarnaNetworkData},
		named{"klarna_interoperability_data", n.KlarnaInteroperabilityData},
		named{"interoperability_data", n.InteroperabilityData})
	if err != nil {
		return acquirer.Network{}, err
	}
	return acquirer.Network{SessionToken: token, Data: data}, nil
}

// named is a field value with its name.
type named struct{ name, value string }

// oneOf returns the value given under any of the names; the same value under several is fine.
func oneOf(fields ...named) (string, error) {
	var got named
	for _, f := range fields {
		switch {
		case f.value == "":
		case got.value == "":
			got = f
		case f.value != got.value:
			return "", acquirer.Invalid(acquirer.FieldError{Parameter: f.name, Message: "differs from " + got.name + "; send one of them"})
		}
	}
	return got.value, nil
}

// paymentMethodsBody is the body of POST /v1/payment-methods.
type paymentMethodsBody struct {
	Currency      string   `json:"currency"`
	Amount        int64    `json:"amount"`
	Locale        string   `json:"locale"`
	Intents       []string `json:"intents"`
	CustomerToken string   `json:"customer_token"`
	// The subscription's billing, for the SUBSCRIBE intent (docs/klarna.md §9).
	SubscriptionBillingInterval          string `json:"subscription_billing_interval"`
	SubscriptionBillingIntervalFrequency int    `json:"subscription_billing_interval_frequency"`
	networkFields
}

func (s *Server) listPaymentMethods(w http.ResponseWriter, r *request) error {
	var in paymentMethodsBody
	if err := decode(r.body, &in); err != nil {
		return err
	}
	nw, err := in.network()
	if err != nil {
		return err
	}
	methods, err := s.svc.PaymentMethods(r.Context(), r.partner, acquirer.PaymentMethodsRequest{
		Currency: in.Currency, Locale: in.Locale, Amount: in.Amount, Intents: in.Intents,
		SubscriptionBillingInterval: in.SubscriptionBillingInterval, SubscriptionBillingIntervalFrequency: in.SubscriptionBillingIntervalFrequency,
		CustomerToken: in.CustomerToken, Network: nw,
	})
	if err != nil {
		return err
	}
	return httpserver.WriteJSON(w, http.StatusOK, struct {
		PaymentMethods []acquirer.PaymentMethod `json:"payment_methods"`
	}{methods})
}

// purchaseFields are the body fields of POST /v1/sessions and POST /v1/charges alike.
type purchaseFields struct {
	Reference    string                            `json:"reference"`
	Currency     string                            `json:"currency"`
	Amount       int64                             `json:"amount"`
	Capture      string                            `json:"capture"`
	Mode         acquirer.Mode                     `json:"mode"`
	ReturnURL    string                            `json:"return_url"`
	PurchaseData *klarna.SupplementaryPurchaseData `json:"supplementary_purchase_data"`
	networkFields
}

// purchase returns the fields as the Service takes them, with the request's Idempotency-Key.
func (f purchaseFields) purchase(r *request) (acquirer.Purchase, error) {
	nw, err := f.network()
	if err != nil {
		return acquirer.Purchase{}, err
	}
	return acquirer.Purchase{
		IdempotencyKey: r.Header.Get("Idempotency-Key"),
		Reference:      f.Reference, Currency: f.Currency, Amount: f.Amount, Capture: f.Capture,
		Mode: f.Mode, ReturnURL: f.ReturnURL, PurchaseData: f.PurchaseData, Network: nw,
	}, nil
}

// readPurchase decodes the body into in, a body embedding purchaseFields, and returns its
// purchase.
func readPurchase(r *request, in interface {
	purchase(*request) (acquirer.Purchase, error)
}) (acquirer.Purchase, error) {
	if err := decode(r.body, in); err != nil {
		return acquirer.Purchase{}, err
	}
	return in.purchase(r)
}

// sessionBody is the body of POST /v1/sessions.
type sessionBody struct {
	purchaseFields
	RequestCustomerToken *tokenRequestBody `json:"request_customer_token"`
}

type tokenRequestBody struct {
	Usage     acquirer.Usage `json:"usage"`
	Reference string         `json:"reference"`
}

func (s *Server) createSession(w http.ResponseWriter, r *request) error {
	var in sessionBody
	pu, err := readPurchase(r, &in)
	if err != nil {
		return err
	}
	req := acquirer.SessionRequest{Purchase: pu}
	if t := in.RequestCustomerToken; t != nil {
		req.Token = &acquirer.TokenRequest{Usage: t.Usage, Reference: t.Reference}
	}
	p, replayed, err := s.svc.CreateSession(r.Context(), r.partner, req)
	return writeCreated(w, p, replayed, err)
}

// chargeBody is the body of POST /v1/charges.
type chargeBody struct {
	purchaseFields
	CustomerToken   string `json:"customer_token"`
	CustomerPresent bool   `json:"customer_present"`
}

func (s *Server) createCharge(w http.ResponseWriter, r *request) error {
	var in chargeBody
	pu, err := readPurchase(r, &in)
	if err != nil {
		return err
	}
	p, replayed, err := s.svc.CreateCharge(r.Context(), r.partner, acquirer.ChargeRequest{
		Purchase: pu, CustomerToken: in.CustomerToken, CustomerPresent: in.CustomerPresent,
	})
	return writeCreated(w, p, replayed, err)
}

// writeCreated answers a POST that creates a session or charge: 201 for a new one, 200 for the
// one an earlier request with the same Idempotency-Key created.
func writeCreated(w http.ResponseWriter, p *acquirer.Payment, replayed bool, err error) error {
	status := http.StatusCreated
	if replayed {
		status = http.StatusOK
	}
	return writePayment(w, status, p, err)
}

// readPayment returns the handler reading a session or a charge by the path variable idVar.
func (s *Server) readPayment(read func(context.Context, acquirer.Partner, string) (*acquirer.Payment, error), idVar string) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		p, err := read(r.Context(), r.partner, r.vars[idVar])
		return writePayment(w, http.StatusOK, p, err)
	}
}

// receiveKlarnaWebhook processes one of Klarna's webhooks, whose signature serve verified. Any
// error answers non-2xx, so Klarna delivers the event again later.
func (s *Server) receiveKlarnaWebhook(w http.ResponseWriter, r *request) error {
	e, err := klarna.ParseEvent(r.body)
	if err != nil {
		return acquirer.Invalid(acquirer.FieldError{Parameter: "body", Message: err.Error()})
	}
	outcome, err := s.svc.HandleKlarnaEvent(r.Context(), e)
	if err != nil {
		return err
	}
	return httpserver.WriteJSON(w, http.StatusOK, struct {
		Result acquirer.EventOutcome `json:"result"`
	}{outcome})
}
