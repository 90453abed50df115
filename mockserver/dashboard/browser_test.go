package dashboard_test

import (
	"context"
	"encoding/json"
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

// Most of a page is its live region (#live), which app.js swaps for a fresh copy whenever the
// tenant's event stream says something changed, at any time: the stream's opening, a webhook
// delivery, the test's own calls. chromedp's Text and Click find an element's node first and act
// on its node id in a later call, which fails with "No node with given id found" when a swap
// comes between. textOf and clickLive find the element and act on it in one script run, where
// no swap can come between.

// inPage calls the JavaScript function fn with arg (as JSON) in the tab's page on every
// animation frame until it returns a truthy value, and returns that value; it waits as long as
// the tab lives (browsertest.Timeout), and what names the wait if it fails. It evaluates in the
// page's current execution context: chromedp.Poll names the context chromedp last recorded, and
// right after a navigation that can still be the old page's, which fails the poll with "Cannot
// find context with specified id".
func inPage[T any](t *testing.T, ctx context.Context, what, fn string, arg any) T {
	t.Helper()
	a, err := json.Marshal(arg)
	require.NoError(t, err)
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](`new Promise((resolve, reject) => {
		const step = () => {
			try {
				const v = (`+fn+`)(`+string(a)+`);
				v ? resolve(v) : requestAnimationFrame(step);
			} catch (e) {
				reject(e);
			}
		};
		step();
	})`, chromedp.EvalAwaitPromise))
	require.NoError(t, err, what)
	return v
}

// textOf is the visible text of the first element the CSS selector sel matches, once one does.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return inPage[[]string](t, ctx, "reading "+sel, `sel => {
		const e = document.querySelector(sel);
		return e && [e.innerText];
	}`, sel)[0]
}

// clickLive clicks the first element the CSS selector sel matches, once it is visible and the
// middle of it, scrolled into view, is where a mouse click would land on it, not on something
// covering it: what chromedp's Click checks, and a hit test besides.
func clickLive(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	inPage[bool](t, ctx, "clicking "+sel, `sel => {
		const e = document.querySelector(sel);
		if (!e) {
			return false;
		}
		e.scrollIntoView({block: "center"});
		const r = e.getBoundingClientRect();
		if (r.width === 0 || r.height === 0 || !e.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2))) {
			return false;
		}
		e.click();
		return true;
	}`, sel)
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
	require.Equal(t, "Overview", textOf(t, ctx, "#heading"))
}

// waitLive waits until the page's event stream is open, so that what happens next is seen live.
func waitLive(t *testing.T, ctx context.Context) {
	t.Helper()
	inPage[bool](t, ctx, "waiting for the event stream", `() => document.getElementById("live-status").getAttribute("data-stream") === "open"`, nil)
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
		require.Equal(t, "SUBMITTED", strings.TrimSpace(textOf(t, ctx, row+" .state")))

		clickLive(t, ctx, row+" a")
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("action-approve"))))
		require.Equal(t, id, textOf(t, ctx, "#payment-request-id"))
		clickLive(t, ctx, "#action-approve")
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("notice"))))
		require.Equal(t, "COMPLETED", textOf(t, ctx, "#state"))
		require.Equal(t, "COMPLETED", m.api(keyA, "GET", "/v2/accounts/"+account+"/payment/requests/"+id, nil).json(t)["state"])

		// The approval's webhook delivery shows on the request's page as it is made.
		waitLive(t, ctx)
		inPage[bool](t, ctx, "the completed event's delivery appears, delivered", `() => [...document.querySelectorAll("tr[data-delivery]")].some(r =>
			r.textContent.includes("payment.request.state-change.completed") && r.querySelector('[data-state="DELIVERED"]'))`, nil)
		screenshot(t, ctx, "dashboard-payment-request")

		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard")))
		screenshot(t, ctx, "dashboard-overview")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/journal")))
		clickLive(t, ctx, `tr:last-child details summary`) // the step-up's request, keyboard-reachable as a summary
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
		require.Contains(t, textOf(t, ctx, "#faults-table"), "one 503")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/journal")))
		waitLive(t, ctx)
		r := m.api(keyA, http.MethodPost, "/v2/accounts/"+account+"/payment/authorize", map[string]any{"currency": "USD", "request_payment_transaction": map[string]any{"amount": 100}})
		require.Equal(t, http.StatusServiceUnavailable, r.status)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`#journal-table .state-5xx`))), "the faulted call appears live, marked")

		m.stepUp(keyA, "pr-redelivered")
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(m.srv.URL+"/dashboard/webhooks/"+hook)))
		waitLive(t, ctx)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`tr[data-delivery] details`)))) // the failed attempt
		clickLive(t, ctx, `tr[data-delivery] button`)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("notice"))))
		inPage[bool](t, ctx, "the redelivery went out and shows delivered", `() => document.querySelector('tr[data-delivery] [data-state="DELIVERED"]') !== null`, nil)
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
