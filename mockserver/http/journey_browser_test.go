package http_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// The Purchase Journey in a real headless Chromium: a customer ticks the consent box, clicks
// the buttons and is sent back to the merchant. CI must run it (.ci/run installs Debian's
// chromium); elsewhere it is skipped when no Chromium is installed.

// journeyBrowserTimeout bounds each browser test, so a stuck browser can never hang the suite.
const journeyBrowserTimeout = 60 * time.Second

// journeyChromium finds the Chromium to drive, or "" when there is none.
func journeyChromium() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserOutput collects the browser's output, written from chromedp's goroutines.
type browserOutput struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *browserOutput) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *browserOutput) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startBrowser starts one headless Chromium for a test and its subtests; each subtest opens its
// own tab with browserTab. The browser's output is logged when the test fails.
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := journeyChromium()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is not installed, but CI must run the Purchase Journey browser test: install Debian's chromium (.ci/run does)")
		}
		t.Skip("Chromium is not installed: apt-get install chromium to run the Purchase Journey browser test")
	}
	// The whole browser lives at most this long, whatever its tabs do.
	ctx, cancel := context.WithTimeout(context.Background(), 2*journeyBrowserTimeout)
	t.Cleanup(cancel)
	output := &browserOutput{}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // the tests may run as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(900, 1000),
		chromedp.CombinedOutput(output),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(allocCancel)
	browserCtx, browserCancel := chromedp.NewContext(allocCtx)
	t.Cleanup(browserCancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser output:\n%s", output.String())
		}
	})
	require.NoError(t, chromedp.Do(browserCtx), "starting %s", path)
	return browserCtx
}

// browserTab opens a tab of the browser for one test, closed when the test ends or journeyBrowserTimeout
// passes.
func browserTab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	tabCtx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	ctx, timeoutCancel := context.WithTimeout(tabCtx, journeyBrowserTimeout)
	t.Cleanup(timeoutCancel)
	return ctx
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
func (m *journeyMerchant) returnURL() string {
	return m.url + "/return?id={klarna.payment_request.id}&state={klarna.payment_request.state}" +
		"&nst={klarna.payment_request.klarna_network_session_token}&ref={klarna.payment_request.payment_request_reference}"
}

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
		j := newJourneyMock(t)
		merchant := newJourneyMerchant(t)
		id := j.stepUp(journeyTokenPurchase("pr-browser", "HANDOVER", merchant.returnURL()))["payment_request_id"].(string)
		ctx := browserTab(t, browser)

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(j.url+"/journey/"+id),
			chromedp.WaitVisible(chromedp.ID("approve")),
		))
		state, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("state")))
		require.NoError(t, err)
		require.Equal(t, "IN_PROGRESS", state)
		amount, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("amount")))
		require.NoError(t, err)
		require.Equal(t, "118.00 USD", amount)
		consent, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("consent-text")))
		require.NoError(t, err)
		require.Contains(t, consent, "without you being present")
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
		require.Equal(t, "IN_PROGRESS", j.state(id))

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("consent"))))
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("approve")))
		require.NoError(t, err)
		require.Equal(t, int64(http.StatusOK), resp.Status)
		require.True(t, strings.HasPrefix(resp.URL, merchant.url+"/return?"), resp.URL)
		heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("merchant")))
		require.NoError(t, err)
		require.Equal(t, "back at merchant", heading)

		got := j.request(id)
		require.Equal(t, "COMPLETED", got["state"])
		nst, _ := got["state_context"].(map[string]any)["klarna_network_session_token"].(string)
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
		j := newJourneyMock(t)
		merchant := newJourneyMerchant(t)
		id := j.stepUp(journeyTokenPurchase("pr-browser-refused", "HANDOVER", merchant.returnURL()))["payment_request_id"].(string)
		ctx := browserTab(t, browser)

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(j.url+"/journey/"+id),
			chromedp.WaitVisible(chromedp.ID("decline")),
		))
		// Decline needs no consent: the required checkbox does not block it.
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("decline")))
		require.NoError(t, err)
		require.Equal(t, int64(http.StatusOK), resp.Status)
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("merchant"))))

		require.Equal(t, "DECLINED", j.state(id))
		returns := merchant.returns()
		require.Len(t, returns, 1)
		require.Equal(t, id, returns[0].Get("id"))
		require.Equal(t, "DECLINED", returns[0].Get("state"))
		require.Empty(t, returns[0].Get("nst"))
	})

	t.Run("SDK mode is opened by payment_request_id", func(t *testing.T) {
		t.Parallel()
		j := newJourneyMock(t)
		pr := j.stepUp(journeyTokenPurchase("pr-browser-sdk", "SDK", ""))
		ci := pr["state_context"].(map[string]any)["customer_interaction"].(map[string]any)
		require.NotContains(t, ci, "payment_request_url")
		id := ci["payment_request_id"].(string)
		ctx := browserTab(t, browser)

		require.NoError(t, chromedp.Do(ctx,
			chromedp.Navigate(j.url+"/journey/"+id),
			chromedp.WaitVisible(chromedp.ID("approve")),
		))
		state, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("state")))
		require.NoError(t, err)
		require.Equal(t, "IN_PROGRESS", state)

		require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("consent"))))
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("approve")))
		require.NoError(t, err)
		require.Equal(t, int64(http.StatusOK), resp.Status)
		require.Equal(t, j.url+"/journey/"+id, resp.URL, "SDK mode stays on the journey page")
		require.NoError(t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("notice"))))
		state, err = chromedp.Run(ctx, chromedp.Text(chromedp.ID("state")))
		require.NoError(t, err)
		require.Equal(t, "COMPLETED", state)
		heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("heading")))
		require.NoError(t, err)
		require.Equal(t, "Purchase approved", heading)
		require.Equal(t, "COMPLETED", j.state(id))
	})
}
