package http_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func journeyConsentForm(action string) url.Values {
	return url.Values{"action": {action}, "consent": {"yes"}}
}

func journeyForm(action string) url.Values { return url.Values{"action": {action}} }

// journeyTokenPurchase is a token creation with a purchase: it always steps up, for the customer's
// consent.
func journeyTokenPurchase(reference, method, returnURL string) map[string]any {
	cic := map[string]any{"method": method}
	if returnURL != "" {
		cic["return_url"] = returnURL
	}
	return map[string]any{
		"currency":                    "USD",
		"request_payment_transaction": map[string]any{"amount": 11800, "payment_transaction_reference": "order-42"},
		"request_customer_token":      map[string]any{"scopes": []string{"payment:customer_not_present"}, "customer_token_reference": "ctr-42"},
		"step_up_config": map[string]any{
			"payment_request_reference":   reference,
			"customer_interaction_config": cic,
		},
		"supplementary_purchase_data": map[string]any{
			"purchase_reference": "purchase-42",
			"line_items": []any{
				map[string]any{"name": "Running shoes", "quantity": 2, "total_amount": 10000},
				map[string]any{"name": "Socks", "quantity": 3, "total_amount": 1800},
			},
		},
	}
}

func requireJourneyHTML(t *testing.T, r response, status int) {
	t.Helper()
	require.Equal(t, status, r.status, r.body)
	require.Equal(t, "text/html; charset=utf-8", r.header.Get("Content-Type"))
	require.Contains(t, r.body, "<!doctype html>")
}

// requireJourneyButtons asserts the page offers the customer's four buttons, or none of them.
func requireJourneyButtons(t *testing.T, body string, want bool) {
	t.Helper()
	for _, b := range []string{`id="approve"`, `id="decline"`, `id="back-out"`, `id="abandon"`} {
		if want {
			require.Contains(t, body, b)
		} else {
			require.NotContains(t, body, b)
		}
	}
}

// requireJourneyRedirect asserts a 303 and returns the Location's query.
func requireJourneyRedirect(t *testing.T, r response) url.Values {
	t.Helper()
	require.Equal(t, http.StatusSeeOther, r.status, r.body)
	loc, err := url.Parse(r.header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "https", loc.Scheme)
	require.Equal(t, "merchant.example", loc.Host)
	require.Equal(t, "/return", loc.Path)
	return loc.Query()
}

func TestJourneyPageShowsThePurchaseAndOpensTheJourney(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pr := h.authorize(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	id := pr.str("payment_request.payment_request_id")
	require.Equal(t, h.srv.URL+"/journey/"+id, pr.str("payment_request.state_context.customer_interaction.payment_request_url"), "the page is the payment_request_url")
	require.Equal(t, "SUBMITTED", h.state(id))

	r := h.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	for _, want := range []string{
		"pr-42", "purchase-42", "118.00 USD",
		"Running shoes", "100.00 USD", "Socks", "18.00 USD",
		`data-state="IN_PROGRESS"`,
		"without you being present", "subscription renewals", "ctr-42",
		`id="consent"`, `name="consent"`, "required",
	} {
		require.Contains(t, r.body, want)
	}
	requireJourneyButtons(t, r.body, true)
	require.Equal(t, "IN_PROGRESS", h.state(id), "opening the page opens the journey")
	require.Equal(t, "no-store", r.header.Get("Cache-Control"))

	again := h.open(id)
	requireJourneyHTML(t, again, http.StatusOK)
	require.Contains(t, again.body, `data-state="IN_PROGRESS"`, "an open journey is shown as it is")
	requireJourneyButtons(t, again.body, true)
}

func TestJourneyOneTimePaymentAsksNoConsent(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(oneTime(11800))
	r := h.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.NotContains(t, r.body, `id="consent"`)
	requireJourneyButtons(t, r.body, true)

	q := requireJourneyRedirect(t, h.submit(id, journeyForm("approve")))
	require.Equal(t, "COMPLETED", q.Get("state"))
	require.Equal(t, "COMPLETED", h.state(id))
}

func TestJourneyApproveWithoutConsentChangesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))

	for _, form := range []url.Values{journeyForm("approve"), {"action": {"approve"}, "consent": {"no"}}} {
		r := h.submit(id, form)
		requireJourneyHTML(t, r, http.StatusBadRequest)
		require.Contains(t, r.body, `id="error"`)
		require.Contains(t, r.body, "Tick the consent box")
		requireJourneyButtons(t, r.body, true)
		require.Equal(t, "IN_PROGRESS", h.state(id))
	}
	require.Nil(t, h.request(id).get("state_context.klarna_network_session_token"))
}

func TestJourneyApproveRedirectsToTheFilledReturnURL(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const reference = "Order #42 & co/ünï"
	id := h.startJourney(journeyTokenPurchase(reference, "HANDOVER", journeyReturnURL))

	r := h.submit(id, journeyConsentForm("approve"))
	q := requireJourneyRedirect(t, r)
	got := h.request(id)
	require.Equal(t, "COMPLETED", got.str("state"))
	nst := got.str("state_context.klarna_network_session_token")
	require.True(t, strings.HasPrefix(nst, "krn:payment:eu1:klarna-network-session-token:"), nst)
	require.NotEmpty(t, got.str("state_context.klarna_customer.customer_token"), "the consented customer token is issued")

	require.Equal(t, id, q.Get("id"))
	require.Equal(t, "COMPLETED", q.Get("state"))
	require.Equal(t, nst, q.Get("nst"))
	require.Equal(t, reference, q.Get("ref"), "placeholders are escaped, so the reference comes back intact")
	loc := r.header.Get("Location")
	require.NotContains(t, loc, "{klarna.")
	require.Contains(t, loc, "id=krn%3Apayment%3Aeu1%3Arequest%3A")
	require.Contains(t, loc, "ref=Order%20%2342%20%26%20co%2F")

	again := h.open(id)
	requireJourneyHTML(t, again, http.StatusOK)
	require.Contains(t, again.body, `data-state="COMPLETED"`)
	requireJourneyButtons(t, again.body, false)
}

func TestJourneyApproveOpensASubmittedRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	q := requireJourneyRedirect(t, h.submit(id, journeyConsentForm("approve")))
	require.Equal(t, "COMPLETED", q.Get("state"))
}

func TestJourneyDeclineRedirects(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))

	q := requireJourneyRedirect(t, h.submit(id, journeyForm("decline")))
	require.Equal(t, id, q.Get("id"))
	require.Equal(t, "DECLINED", q.Get("state"))
	require.Empty(t, q.Get("nst"), "a declined request has no network session token")
	require.Equal(t, "pr-42", q.Get("ref"))
	require.Equal(t, "DECLINED", h.state(id))
}

func TestJourneyBackOutReturnsToTheMerchant(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))

	q := requireJourneyRedirect(t, h.submit(id, journeyForm("back-out")))
	require.Equal(t, "SUBMITTED", q.Get("state"))
	require.Equal(t, "SUBMITTED", h.state(id))

	reopened := h.open(id)
	requireJourneyHTML(t, reopened, http.StatusOK)
	require.Contains(t, reopened.body, `data-state="IN_PROGRESS"`, "the merchant can send the customer back in")
	require.Equal(t, "IN_PROGRESS", h.state(id))
}

func TestJourneyAbandonLeavesTheRequestOpen(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))

	r := h.submit(id, journeyForm("abandon"))
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, "You left the journey")
	require.Contains(t, r.body, "stays IN_PROGRESS until it expires")
	requireJourneyButtons(t, r.body, false)
	require.Equal(t, "IN_PROGRESS", h.state(id))
}

func TestJourneyWithoutReturnURLShowsTheResult(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct{ action, state, heading string }{
		{"approve", "COMPLETED", "Purchase approved"},
		{"decline", "DECLINED", "Purchase declined"},
		{"back-out", "SUBMITTED", "You went back to the merchant"},
	} {
		id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", ""))
		r := h.submit(id, journeyConsentForm(tc.action))
		requireJourneyHTML(t, r, http.StatusOK)
		require.Contains(t, r.body, tc.heading)
		require.Contains(t, r.body, `data-state="`+tc.state+`"`)
		require.Contains(t, r.body, "close this window")
		requireJourneyButtons(t, r.body, false)
		require.Equal(t, tc.state, h.state(id))
	}
}

func TestJourneySDKModeIsOpenedByID(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// An SDK request with a return_url still ends on the page: the SDK, not a redirect, takes the
	// customer back.
	pr := h.authorize(journeyTokenPurchase("pr-sdk", "SDK", journeyReturnURL))
	id := pr.str("payment_request.state_context.customer_interaction.payment_request_id")
	require.Equal(t, pr.str("payment_request.payment_request_id"), id)
	require.Equal(t, "SDK", pr.str("payment_request.state_context.customer_interaction.method"))
	require.Nil(t, pr.get("payment_request.state_context.customer_interaction.payment_request_url"))

	r := h.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, "pr-sdk")
	require.Contains(t, r.body, `data-state="IN_PROGRESS"`)
	require.Equal(t, "IN_PROGRESS", h.state(id))

	done := h.submit(id, journeyConsentForm("approve"))
	requireJourneyHTML(t, done, http.StatusOK)
	require.Empty(t, done.header.Get("Location"))
	require.Contains(t, done.body, "close this window")
	require.Contains(t, done.body, `data-state="COMPLETED"`)
	require.Equal(t, "COMPLETED", h.state(id))
}

func TestJourneyTerminalRequestShowsNoButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	requireJourneyRedirect(t, h.submit(id, journeyForm("decline")))

	r := h.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, `data-state="DECLINED"`)
	require.Contains(t, r.body, "Purchase declined")
	requireJourneyButtons(t, r.body, false)
	require.NotContains(t, r.body, "<form")

	again := h.submit(id, journeyConsentForm("approve"))
	requireJourneyHTML(t, again, http.StatusConflict)
	require.Contains(t, again.body, `id="error"`)
	require.Equal(t, "DECLINED", h.state(id))
}

func TestJourneyCanceledRequest(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.stepUp(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	require.Equal(t, http.StatusOK, h.cancel(id).status)

	r := h.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, `data-state="CANCELED"`)
	requireJourneyButtons(t, r.body, false)
	require.Equal(t, "CANCELED", h.state(id), "opening an ended request changes nothing")
}

func TestJourneyUnknownRequestIsAnHTMLNotFound(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, id := range []string{"krn:payment:eu1:request:" + uuid.NewString(), "nonsense"} {
		r := h.open(id)
		requireJourneyHTML(t, r, http.StatusNotFound)
		require.Contains(t, r.body, "Payment request not found")
		require.Contains(t, r.body, id)
		require.NotContains(t, r.body, "<form")

		post := h.submit(id, journeyConsentForm("approve"))
		requireJourneyHTML(t, post, http.StatusNotFound)
		require.Contains(t, post.body, "Payment request not found")
	}
}

func TestJourneyRejectsAnUnknownAction(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	for _, form := range []url.Values{journeyForm("open"), journeyForm("pay-twice"), {}} {
		r := h.submit(id, form)
		requireJourneyHTML(t, r, http.StatusBadRequest)
		require.Contains(t, r.body, "unknown choice")
		requireJourneyButtons(t, r.body, true)
	}
	require.Equal(t, "IN_PROGRESS", h.state(id))
}

func TestJourneyExpiredRequestRefusesApproval(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	id := h.startJourney(journeyTokenPurchase("pr-42", "HANDOVER", journeyReturnURL))
	h.clock.Advance(3*time.Hour + time.Second)
	require.Equal(t, "EXPIRED", h.state(id))

	r := h.open(id)
	requireJourneyHTML(t, r, http.StatusOK)
	require.Contains(t, r.body, `data-state="EXPIRED"`)
	require.Contains(t, r.body, "This purchase has expired")
	requireJourneyButtons(t, r.body, false)

	// The customer still had the page open and approves: the request expired meanwhile.
	late := h.submit(id, journeyConsentForm("approve"))
	requireJourneyHTML(t, late, http.StatusConflict)
	require.Contains(t, late.body, `id="error"`)
	require.Contains(t, late.body, "EXPIRED")
	require.Contains(t, late.body, `data-state="EXPIRED"`)
	requireJourneyButtons(t, late.body, false)
	require.Equal(t, "EXPIRED", h.state(id))
}
