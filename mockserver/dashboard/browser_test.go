package dashboard_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/browsertest"
)

// The dashboard in a real headless Chromium: a partner signs in, creates a step-up through the
// API, sees it appear without a reload, approves it from the dashboard and sees the webhook
// delivery of the approval; at 390 px wide no page scrolls sideways.

// screenshot saves the tab's page as name.png in the directory KLARNA_MOCK_DASHBOARD_SCREENSHOTS
// names, if set: how docs/img's screenshots are taken.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("KLARNA_MOCK_DASHBOARD_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 is PNG; less is JPEG
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644))
}

// text is the text of the element with id.
func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
	require.NoError(t, err)
	return s
}

// signInWith signs the tab in through the form and waits for the overview.
func signInWith(t *testing.T, ctx context.Context, m *mock, key string) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Navigate(m.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("api_key")),
		chromedp.SendKeys(chromedp.ID("api_key"), key),
		chromedp.Click(chromedp.ID("sign-in")),
		chromedp.WaitVisible(chromedp.ID("count-requests")),
	))
	require.Equal(t, "Overview", text(t, ctx, "heading"))
}

// waitLive waits until the page's event stream is open, so that what happens next is seen live.
func waitLive(t *testing.T, ctx context.Context) {
	t.Helper()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("live-status").getAttribute("data-stream") === "open"`))
	require.NoError(t, err)
}

func TestDashboardInBrowser(t *testing.T) {
	t.Parallel()
	browser := browsertest.Start(t, "dashboard", 1280, 900)

	t.Run("a step-up appears live, is approved and its webhook delivered", func(t *testing.T) {
		t.Parallel()
		m := newMock(t)
		rc := newReceiver(t)
		m.webhook(keyA, rc.url)
		ctx := browsertest.Tab(t, browser)
		signInWith(t, ctx, m, keyA)

		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/payment-requests")))
		waitLive(t, ctx)
		id := m.stepUp(keyA, "pr-browser")
		row := `tr[data-id="` + id + `"]`
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(row))), "the new Payment Request appears without a reload")
		require.Equal(t, "SUBMITTED", strings.TrimSpace(mustText(t, ctx, row+" .state")))

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(row+" a")),
			chromedp.WaitVisible(chromedp.ID("action-approve")),
		))
		require.Equal(t, id, text(t, ctx, "payment-request-id"))
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Click(chromedp.ID("action-approve")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		))
		require.Equal(t, "COMPLETED", text(t, ctx, "state"))
		require.Equal(t, "COMPLETED", m.api(keyA, "GET", "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)["state"])

		// The approval's webhook delivery shows on the request's page as it is made.
		waitLive(t, ctx)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`[...document.querySelectorAll("tr[data-delivery]")].some(r =>
			r.textContent.includes("payment.request.state-change.completed") && r.querySelector('[data-state="DELIVERED"]'))`))
		require.NoError(t, err, "the completed event's delivery appears, delivered")
		screenshot(t, ctx, "dashboard-payment-request")

		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard")))
		screenshot(t, ctx, "dashboard-overview")
		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(m.srv.URL+"/dashboard/journal"),
			chromedp.Click(chromedp.CSS(`tr:last-child details summary`)), // the step-up's request, keyboard-reachable as a summary
		))
		screenshot(t, ctx, "dashboard-journal")
	})

	t.Run("a fault and a failed webhook, redelivered", func(t *testing.T) {
		t.Parallel()
		m := newMock(t)
		rc := newReceiver(t, http.StatusInternalServerError)
		hook := m.webhook(keyA, rc.url)
		ctx := browsertest.Tab(t, browser)
		signInWith(t, ctx, m, keyA)

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(m.srv.URL+"/dashboard/faults"),
			chromedp.Click(chromedp.CSS(`input[name="operations"][value="authorize"]`)),
			chromedp.SetValue(chromedp.ID("status"), "503"),
			chromedp.SendKeys(chromedp.ID("count"), "1"),
			chromedp.SendKeys(chromedp.ID("description"), "one 503"),
			chromedp.Click(chromedp.ID("add-fault")),
			chromedp.WaitVisible(chromedp.ID("notice")),
		))
		require.Contains(t, mustText(t, ctx, "#faults-table"), "one 503")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/journal")))
		waitLive(t, ctx)
		r := m.api(keyA, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 100}})
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#journal-table .state-5xx`))), "the faulted call appears live, marked")

		m.stepUp(keyA, "pr-redelivered")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/webhooks/"+hook)))
		waitLive(t, ctx)
		require.NoError(t, chromedp.Do(ctx,
			chromedp.WaitVisible(chromedp.CSS(`tr[data-delivery] details`)), // the failed attempt
			chromedp.Click(chromedp.CSS(`tr[data-delivery] button`)),
			chromedp.WaitVisible(chromedp.ID("notice")),
		))
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('tr[data-delivery] [data-state="DELIVERED"]') !== null`))
		require.NoError(t, err, "the redelivery went out and shows delivered")
		screenshot(t, ctx, "dashboard-webhook")
	})

	t.Run("every page fits 390 px", func(t *testing.T) {
		t.Parallel()
		m := newMock(t)
		id := m.stepUp(keyA, "pr-narrow")
		ctx := browsertest.Tab(t, browser)
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)))
		signInWith(t, ctx, m, keyA)
		for _, p := range append(pages, "/dashboard/payment-requests/"+id) {
			require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+p), chromedp.WaitVisible(chromedp.ID("heading"))))
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
			require.NoError(t, err)
			require.False(t, wide, "%s scrolls sideways at 390 px", p)
		}
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/payment-requests/"+id), chromedp.WaitVisible(chromedp.ID("heading"))))
		screenshot(t, ctx, "dashboard-390")
	})
}

// mustText is the text of the first element sel matches.
func mustText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err)
	return s
}
