// Package browsertest starts the headless Chromium the browser tests drive with chromedp: the
// Purchase Journey's (mockserver/http) and the dashboard's (mockserver/dashboard). CI must run
// them (.ci/run installs Debian's chromium); elsewhere they are skipped when no Chromium is
// installed.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

// Timeout bounds each browser test's tab, so a stuck browser can never hang the suite; the
// browser itself lives at most twice as long.
const Timeout = 60 * time.Second

// Chromium finds the Chromium to drive, or "" when there is none.
func Chromium() string {
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

// Buffer collects output written from many goroutines, such as a browser's from chromedp's; the
// zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start starts one headless Chromium for a test and its subtests, whose window is width by
// height; each opens its own tab with Tab. The browser's output is logged when the test fails.
// Without Chromium the test is skipped, or fails under CI, which must run it; what names the test
// in those messages.
func Start(t *testing.T, what string, width, height int) context.Context {
	t.Helper()
	path := Chromium()
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("Chromium is not installed, but CI must run the %s browser test: install Debian's chromium (.ci/run does)", what)
		}
		t.Skipf("Chromium is not installed: apt-get install chromium to run the %s browser test", what)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*Timeout)
	t.Cleanup(cancel)
	out := &Buffer{}
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
		chromedp.WindowSize(width, height),
		chromedp.CombinedOutput(out),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(allocCancel)
	browserCtx, browserCancel := chromedp.NewContext(allocCtx)
	t.Cleanup(browserCancel)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser output:\n%s", out.String())
		}
	})
	require.NoError(t, chromedp.Do(browserCtx), "starting %s", path)
	return browserCtx
}

// Tab opens a new tab of the browser, closed when the test ends or Timeout passes. Each tab is
// a browser context of its own, like a private window: tests running at once share no cookies.
func Tab(t *testing.T, browserCtx context.Context) context.Context {
	t.Helper()
	tabCtx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ctx, timeoutCancel := context.WithTimeout(tabCtx, Timeout)
	t.Cleanup(timeoutCancel)
	return ctx
}
