package http_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/browsertest"
)

// The Purchase Journey in a real headless Chromium (internal/browsertest): a customer ticks the
// consent box, clicks the buttons and is sent back to the merchant.

// startBrowser starts one headless Chromium for a test and its subtests; each subtest opens its
// own tab with browseJourney.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	return browsertest.Start(t, "Purchase Journey", 900, 1000)
}

// browseJourney opens the journey page of the Payment Request id of h's mock in a new tab of the
// browser, and waits until the element with id visible shows.
func browseJourney(t *testing.T, browserCtx context.Context, h *harness, id, visible string) context.Context {
	t.Helper()
	ctx := browsertest.Tab(t, browserCtx)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(h.srv.URL+"/journey/"+id),
		chromedp.WaitVisible(chromedp.ID(visible)),
	))
	return ctx
}

// browserText is the text of the element with id on the tab's page.
func browserText(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	require.NoError(t, err)
	return text
}

// journeyMerchant stands for the merchant's shop: its return page records the query Klarna sends
// the customer back with.
type journeyMerchant struct {
	url string
	mu  sync.Mutex
	got []url.Values
}

func newJourneyMerchant(t *testing.T) *journeyMerchant {
	t.Helper()
	m := &journeyMerchant{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/return" {
			http.NotFound(w, r)
			return
		}
		m.mu.Lock()
		m.got = append(m.got, r.URL.Query())
		m.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><html lang="en"><title>Merchant</title><h1 id="merchant">back at merchant</h1></html>`))
	}))
	t.Cleanup(srv.Close)
	m.url = srv.URL
	return m
}

// returnURL is the merchant's return_url with every Klarna placeholder.
func (m *journeyMerchant) returnURL() string { return m.url + journeyReturnPath }

// returns is what the return page was called with, in order.
func (m *journeyMerchant) returns() []url.Values {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]url.Values(nil), m.got...)
}

// journeyScreenshot saves the page to the file named by KLARNA_MOCK_JOURNEY_SCREENSHOT, if set,
// to look at the page during development.
func journeyScreenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	path := os.Getenv("KLARNA_MOCK_JOURNEY_SCREENSHOT")
	if path == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, png, 0o644))
}

func TestJourneyInBrowser(t *testing.T) {
	t.Parallel()
	browser := startBrowser(t)

	t.Run("consent and approve return to the merchant", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		merchant := newJourneyMerchant(t)
		id := h.stepUp(journeyTokenPurchase("pr-browser", "HANDOVER", merchant.returnURL()))
		ctx := browseJourney(t, browser, h, id, "approve")

		require.Equal(t, "IN_PROGRESS", browserText(t, ctx, "state"))
		require.Equal(t, "118.00 USD", browserText(t, ctx, "amount"))
		require.Contains(t, browserText(t, ctx, "consent-text"), "without you being present")
		journeyScreenshot(t, ctx)

		// Without consent the browser refuses to submit the approval.
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`window.journeyMarker = "still here"`),
			chromedp.Click(chromedp.ID("approve")),
		))
		missing, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("consent").validity.valueMissing`))
		require.NoError(t, err)
		require.True(t, missing, "the consent checkbox is required")
		marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.journeyMarker || ""`))
		require.NoError(t, err)
		require.Equal(t, "still here", marker, "approve without consent does not leave the page")
		require.Equal(t, "IN_PROGRESS", h.state(id))

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("consent"))))
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("approve")))
		require.NoError(t, err)
		require.Equal(t, int64(http.StatusOK), resp.Status)
		require.True(t, strings.HasPrefix(resp.URL, merchant.url+"/return?"), resp.URL)
		require.Equal(t, "back at merchant", browserText(t, ctx, "merchant"))

		got := h.request(id)
		require.Equal(t, "COMPLETED", got.str("state"))
		nst := got.str("state_context.klarna_network_session_token")
		require.NotEmpty(t, nst)
		returns := merchant.returns()
		require.Len(t, returns, 1)
		require.Equal(t, id, returns[0].Get("id"))
		require.Equal(t, "COMPLETED", returns[0].Get("state"))
		require.Equal(t, nst, returns[0].Get("nst"))
		require.Equal(t, "pr-browser", returns[0].Get("ref"))
	})

	t.Run("decline returns to the merchant", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		merchant := newJourneyMerchant(t)
		id := h.stepUp(journeyTokenPurchase("pr-browser-refused", "HANDOVER", merchant.returnURL()))
		ctx := browseJourney(t, browser, h, id, "decline")
		// Decline needs no consent: the required checkbox does not block it.
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("decline")))
		require.NoError(t, err)
		require.Equal(t, int64(http.StatusOK), resp.Status)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("merchant"))))

		require.Equal(t, "DECLINED", h.state(id))
		returns := merchant.returns()
		require.Len(t, returns, 1)
		require.Equal(t, id, returns[0].Get("id"))
		require.Equal(t, "DECLINED", returns[0].Get("state"))
		require.Empty(t, returns[0].Get("nst"))
	})

	t.Run("SDK mode is opened by payment_request_id", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		pr := h.authorize(journeyTokenPurchase("pr-browser-sdk", "SDK", ""))
		require.Nil(t, pr.get("payment_request.state_context.customer_interaction.payment_request_url"))
		id := pr.str("payment_request.state_context.customer_interaction.payment_request_id")
		ctx := browseJourney(t, browser, h, id, "approve")
		require.Equal(t, "IN_PROGRESS", browserText(t, ctx, "state"))

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("consent"))))
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("approve")))
		require.NoError(t, err)
		require.Equal(t, int64(http.StatusOK), resp.Status)
		require.Equal(t, h.srv.URL+"/journey/"+id, resp.URL, "SDK mode stays on the journey page")
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("notice"))))
		require.Equal(t, "COMPLETED", browserText(t, ctx, "state"))
		require.Equal(t, "Purchase approved", browserText(t, ctx, "heading"))
		require.Equal(t, "COMPLETED", h.state(id))
	})
}
