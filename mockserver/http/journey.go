package http

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// This file serves the Purchase Journey: the page a customer reaches through payment_request_url
// (HANDOVER) or, in SDK mode, by the payment_request_id alone. The page is HTML for people and
// browser tests; tests without a browser drive the same actions through the control API
// (POST /mock/v1/payment-requests/{id}/{action}). Both carry out mockserver.Service.Act with an
// empty account: the request id is the customer's capability, as with Klarna's own page.

//go:embed journey.html
var journeyHTML string

// journeyTemplate renders every page of the Purchase Journey. It is parsed once, when the
// program starts, and only executed afterwards, which html/template allows concurrently.
var journeyTemplate = template.Must(template.New("journey.html").Parse(journeyHTML))

// The placeholders Klarna fills in a return_url (docs/klarna.md §3).
const (
	placeholderID        = "{klarna.payment_request.id}"
	placeholderState     = "{klarna.payment_request.state}"
	placeholderToken     = "{klarna.payment_request.klarna_network_session_token}"
	placeholderReference = "{klarna.payment_request.payment_request_reference}"
)

// journeyPage is what journey.html renders: a Payment Request with or without the customer's
// buttons, a result after an action, or an error.
type journeyPage struct {
	Title   string
	Heading string
	// Notice says what just happened (result pages); Error what went wrong.
	Notice string
	Error  string
	// Request is the Payment Request shown; nil on a page for an unknown id.
	Request *journeyRequest
	// Actions shows the form with the consent checkbox and the buttons.
	Actions bool
}

// journeyRequest is a Payment Request as the customer sees it.
type journeyRequest struct {
	ID                string
	Reference         string
	PurchaseReference string
	Method            string
	// Amount is formatted with its currency ("118.00 USD"), empty when no payment is requested.
	Amount    string
	LineItems []journeyLine
	State     string
	StateText string
	ExpiresAt string
	// Consent explains, one scope a line, the customer token the merchant asks for; empty when
	// no token is requested.
	Consent        []string
	TokenReference string
	Subscriptions  []string
}

// journeyLine is one line item.
type journeyLine struct {
	Name     string
	Quantity int64
	Total    string
}

// journeyPageFor shows pr; buttons are offered while the customer can still act.
func journeyPageFor(pr *mockserver.PaymentRequest) journeyPage {
	p := journeyPage{Title: "Review your purchase", Heading: "Review your purchase", Request: viewRequest(pr)}
	switch pr.State {
	case mockserver.StateSubmitted, mockserver.StateInProgress:
		p.Actions = true
	default:
		p.Title, p.Heading = "Purchase "+strings.ToLower(pr.State), finalHeadings[pr.State]
		p.Notice = "This payment request has ended; there is nothing left to do here. You can close this window."
	}
	return p
}

// finalHeadings titles the page of a request that has ended.
var finalHeadings = map[string]string{
	mockserver.StateCompleted: "Purchase approved",
	mockserver.StateDeclined:  "Purchase declined",
	mockserver.StateExpired:   "This purchase has expired",
	mockserver.StateCanceled:  "This purchase was canceled",
}

// stateTexts explains each state in plain language.
var stateTexts = map[string]string{
	mockserver.StateSubmitted:  "waiting for you to open the purchase",
	mockserver.StateInProgress: "waiting for your decision",
	mockserver.StateCompleted:  "you approved it; the merchant completes the purchase",
	mockserver.StateDeclined:   "Klarna declined it",
	mockserver.StateExpired:    "the time to complete it ran out",
	mockserver.StateCanceled:   "the merchant canceled it",
}

func viewRequest(pr *mockserver.PaymentRequest) *journeyRequest {
	v := &journeyRequest{
		ID:        pr.PaymentRequestID,
		Reference: pr.PaymentRequestReference,
		State:     pr.State,
		StateText: stateTexts[pr.State],
		ExpiresAt: pr.ExpiresAt.UTC().Format("2 Jan 2006, 15:04 MST"),
	}
	if ci := customerInteraction(pr); ci != nil {
		v.Method = ci.Method
	}
	req := pr.InitialRequest()
	if req.RequestPaymentTransaction != nil {
		v.Amount = mockserver.FormatMoney(pr.Amount, pr.Currency)
	}
	if spd := req.SupplementaryPurchaseData; spd != nil {
		v.PurchaseReference = spd.PurchaseReference
		for _, li := range spd.LineItems {
			v.LineItems = append(v.LineItems, journeyLine{Name: li.Name, Quantity: li.Quantity, Total: mockserver.FormatMoney(li.TotalAmount, pr.Currency)})
		}
		for _, sub := range spd.Subscriptions {
			v.Subscriptions = append(v.Subscriptions, describeSubscription(sub, pr.Currency))
		}
	}
	if rct := req.RequestCustomerToken; rct != nil {
		v.TokenReference = rct.CustomerTokenReference
		for _, scope := range rct.Scopes {
			v.Consent = append(v.Consent, scopeConsent(scope))
		}
		if len(v.Consent) == 0 {
			v.Consent = []string{"Let the merchant store a Klarna customer token for your account."}
		}
	}
	return v
}

// scopeConsent explains a customer token scope as the permission the customer gives.
func scopeConsent(scope string) string {
	switch scope {
	case mockserver.ScopeCustomerPresent:
		return "Let the merchant charge your Klarna account when you buy from them again while you are there " +
			"(for example with one-click checkout), without reviewing each purchase with Klarna."
	case mockserver.ScopeCustomerNotPresent:
		return "Let the merchant charge your Klarna account later without you being present, " +
			"for example for subscription renewals or other payments the merchant starts for you."
	default:
		return "Let the merchant use your Klarna account with the permission " + scope + "."
	}
}

// describeSubscription sums up a subscription and its billing plans in one line.
func describeSubscription(sub mockserver.Subscription, currency string) string {
	name := sub.Name
	if name == "" {
		name = sub.SubscriptionReference
	}
	if name == "" {
		name = "Subscription"
	}
	var plans []string
	for _, bp := range sub.BillingPlans {
		cur := bp.Currency
		if cur == "" {
			cur = currency
		}
		plan := mockserver.FormatMoney(bp.BillingAmount, cur)
		if bp.Interval != "" {
			unit := strings.ToLower(bp.Interval)
			if bp.IntervalFrequency > 1 {
				plan += fmt.Sprintf(" every %d %ss", bp.IntervalFrequency, unit)
			} else {
				plan += " every " + unit
			}
		}
		if bp.From != "" {
			plan += " from " + bp.From
		}
		plans = append(plans, plan)
	}
	if sub.FreeTrial == "ACTIVE" {
		plans = append([]string{"free trial"}, plans...)
	}
	if len(plans) == 0 {
		return name
	}
	return name + ": " + strings.Join(plans, ", then ")
}

func customerInteraction(pr *mockserver.PaymentRequest) *mockserver.CustomerInteraction {
	if pr.StateContext == nil {
		return nil
	}
	return pr.StateContext.CustomerInteraction
}

// journeyPage serves GET /journey/{payment_request_id}. Opening the page opens the journey: a
// SUBMITTED request becomes IN_PROGRESS. A request already in progress is shown as it is, and
// one that has ended shows its final state without buttons.
func (s *Server) journeyPage(w http.ResponseWriter, r *request) error {
	id := r.vars["payment_request_id"]
	pr, err := s.svc.PaymentRequest("", id)
	if err != nil {
		return s.journeyFailure(w, r, nil, err)
	}
	if pr.State == mockserver.StateSubmitted {
		opened, err := s.svc.Act("", id, mockserver.JourneyOpen)
		if err == nil {
			pr = opened
		} else {
			// The request changed since it was read (opened in another tab, expired, canceled):
			// show it as it is now, and the error only if it is still waiting to be opened.
			now, rerr := s.svc.PaymentRequest("", id)
			if rerr != nil {
				return s.journeyFailure(w, r, nil, rerr)
			}
			if pr = now; pr.State == mockserver.StateSubmitted {
				return s.journeyFailure(w, r, pr, err)
			}
		}
	}
	return renderJourney(w, http.StatusOK, journeyPageFor(pr))
}

// journeySubmit serves POST /journey/{payment_request_id}, the page's form: field action
// (approve, decline, back-out, abandon) and, to approve a request for a customer token, consent.
// Approve, decline and back-out send a HANDOVER customer to the return_url when there is one;
// otherwise, and after abandon, a result page is shown.
func (s *Server) journeySubmit(w http.ResponseWriter, r *request) error {
	id := r.vars["payment_request_id"]
	pr, err := s.svc.PaymentRequest("", id)
	if err != nil {
		return s.journeyFailure(w, r, nil, err)
	}
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		return s.journeyFailure(w, r, pr, mockserver.Invalid("body", "the form could not be read: "+err.Error()))
	}
	action, err := formAction(form.Get("action"))
	if err != nil {
		return s.journeyFailure(w, r, pr, err)
	}
	open := pr.State == mockserver.StateSubmitted || pr.State == mockserver.StateInProgress
	if action == mockserver.JourneyApprove && open && pr.InitialRequest().RequestCustomerToken != nil && !consented(form.Get("consent")) {
		return s.journeyFailure(w, r, pr, mockserver.Invalid("consent",
			"Tick the consent box to let the merchant store your Klarna customer token, or choose another option."))
	}
	next, err := s.svc.Act("", id, action)
	if err != nil {
		// Show the request as it is now (it may have expired meanwhile) with what went wrong.
		if now, rerr := s.svc.PaymentRequest("", id); rerr == nil {
			pr = now
		}
		return s.journeyFailure(w, r, pr, err)
	}
	if action != mockserver.JourneyAbandon {
		if to, ok := returnURL(next); ok {
			http.Redirect(w, r.Request, to, http.StatusSeeOther)
			return nil
		}
	}
	return renderJourney(w, http.StatusOK, resultPage(next, action))
}

// formAction reads the form's action: one of the page's buttons.
func formAction(v string) (mockserver.JourneyAction, error) {
	switch a := mockserver.JourneyAction(v); a {
	case mockserver.JourneyApprove, mockserver.JourneyDecline, mockserver.JourneyBackOut, mockserver.JourneyAbandon:
		return a, nil
	}
	return "", mockserver.Invalid("action", fmt.Sprintf("unknown choice %q; the page offers approve, decline, back-out and abandon", v))
}

// consented reports whether the consent checkbox was ticked.
func consented(v string) bool {
	switch strings.ToLower(v) {
	case "yes", "on", "true", "1":
		return true
	}
	return false
}

// resultPage tells the customer what their action did, when there is nowhere to send them.
func resultPage(pr *mockserver.PaymentRequest, action mockserver.JourneyAction) journeyPage {
	p := journeyPage{Request: viewRequest(pr)}
	switch action {
	case mockserver.JourneyBackOut:
		p.Title, p.Heading = "Back to the merchant", "You went back to the merchant"
		p.Notice = "Nothing was decided. The merchant can send you here again until the purchase expires; you can close this window."
	case mockserver.JourneyAbandon:
		p.Title, p.Heading = "You left the journey", "You left the journey"
		p.Notice = "Nothing was decided: the payment request stays " + pr.State + " until it expires on " +
			p.Request.ExpiresAt + ". You can close this window."
	default:
		p.Title, p.Heading = "Purchase "+strings.ToLower(pr.State), finalHeadings[pr.State]
		p.Notice = "You can close this window and return to the merchant."
	}
	return p
}

// returnURL is where a HANDOVER customer goes back to the merchant: the return_url with Klarna's
// placeholders filled in. SDK-mode customers and requests without a return_url have none.
func returnURL(pr *mockserver.PaymentRequest) (string, bool) {
	ci := customerInteraction(pr)
	if ci == nil || ci.Method != mockserver.MethodHandover || ci.ReturnURL == "" {
		return "", false
	}
	return fillReturnURL(ci.ReturnURL, pr), true
}

// fillReturnURL replaces Klarna's return_url placeholders with pr's values, each escaped so it
// is safe in a path segment and in a query alike (a space becomes %20, a colon %3A). The network
// session token is empty unless the request is COMPLETED.
func fillReturnURL(returnURL string, pr *mockserver.PaymentRequest) string {
	token := ""
	if pr.StateContext != nil {
		token = pr.StateContext.KlarnaNetworkSessionToken
	}
	return strings.NewReplacer(
		placeholderID, escapeValue(pr.PaymentRequestID),
		placeholderState, escapeValue(pr.State),
		placeholderToken, escapeValue(token),
		placeholderReference, escapeValue(pr.PaymentRequestReference),
	).Replace(returnURL)
}

func escapeValue(v string) string {
	return strings.ReplaceAll(url.QueryEscape(v), "+", "%20")
}

// journeyFailure answers a journey request that failed with an HTML page, never JSON: the
// customer is looking at it. It shows pr (as it is now) when there is one, else a page of its own
// (an unknown id), at the status of the Klarna error err maps to.
func (s *Server) journeyFailure(w http.ResponseWriter, r *request, pr *mockserver.PaymentRequest, err error) error {
	ke := mockserver.AsError(err)
	if ke.Status >= http.StatusInternalServerError {
		s.log.Error("purchase journey failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	msg := ke.ErrorMessage
	if len(ke.Errors) > 0 {
		msg = ke.Errors[0].ErrorMessage
	}
	var p journeyPage
	switch {
	case pr != nil:
		p = journeyPageFor(pr)
		p.Notice = ""
	case ke.Status == http.StatusNotFound:
		p.Title, p.Heading = "Payment request not found", "Payment request not found"
		msg += " Check the link. The mock keeps everything in memory, so a restarted mock has forgotten earlier payment requests."
	default:
		p.Title, p.Heading = http.StatusText(ke.Status), "Something went wrong"
	}
	p.Error = msg
	return renderJourney(w, ke.Status, p)
}

// renderJourney writes page as the HTML response with status. The page is rendered in full
// before anything is written, so a template fault becomes the usual error response.
func renderJourney(w http.ResponseWriter, status int, page journeyPage) error {
	var buf bytes.Buffer
	if err := journeyTemplate.Execute(&buf, page); err != nil {
		return fmt.Errorf("rendering the purchase journey page: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	// Self-contained: inline styles only, nothing loaded from elsewhere. form-action is left
	// open because Chromium applies it to the redirect to the merchant's return_url.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}
