package main

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/app"
)

// TestReadResponse reads answers with a Content-Length and chunked ones, one after the other on
// one connection.
func TestReadResponse(t *testing.T) {
	t.Parallel()
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
		"HTTP/1.1 429 Too Many Requests\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(raw))
	for _, want := range []int{200, 429, 204} {
		code, err := readResponse(br)
		require.NoError(t, err)
		require.Equal(t, want, code)
	}
	_, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\n\r\n")))
	require.Error(t, err, "an answer without a length cannot be delimited")
}

// TestPlainLoad loads a handler for a fixed time and counts its answers.
func TestPlainLoad(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("X-Test") != "1" {
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/x")
	require.NoError(t, err)
	l := &loader{host: u.Host, conns: 2, pid: os.Getpid()}
	l.build(u.RequestURI(), "{}", headerFlags{"X-Test: 1"})
	res, err := l.run(200 * time.Millisecond)
	require.NoError(t, err)
	require.NotZero(t, res.byStatus[http.StatusOK])
	require.Len(t, res.byStatus, 1, "every answer a 200")
	require.Len(t, res.latencies, res.byStatus[http.StatusOK])
}

// TestMockRounds loads an in-process mock with a small quota in rounds: every authorize is
// approved, however many rounds run, and each whole round's fifths are counted.
func TestMockRounds(t *testing.T) {
	t.Parallel()
	const quota = 50
	m, err := app.New(app.Config{MaxObjectsPerTenant: quota})
	require.NoError(t, err)
	srv := httptest.NewServer(m.Handler)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/v2/accounts/krn:partner:global:account:test:LOAD001/payment/authorize")
	require.NoError(t, err)
	l := &loader{host: u.Host, conns: 4, pid: os.Getpid(), mock: &mockRounds{base: u, key: "klarna_test_api_load", quota: quota}}
	l.build(u.RequestURI(), `{"currency":"USD","request_payment_transaction":{"amount":11800},"supplementary_purchase_data":{`+benchSubscription+`}}`, nil)
	res, err := l.run(500 * time.Millisecond)
	require.NoError(t, err)
	require.Greater(t, res.rounds, 2, "rounds of %d", quota)
	require.Len(t, res.byStatus, 1, "every answer a 200: %v", res.byStatus)
	require.NotZero(t, res.byStatus[http.StatusOK])
	// The last round is whole or cut short by the deadline; only whole ones count by fifth.
	for i := range fifths {
		require.Contains(t, []int64{int64(res.rounds-1) * quota / fifths, int64(res.rounds) * quota / fifths}, res.fifthN[i], "fifth %d", i+1)
	}
	var out strings.Builder
	res.print(&out, os.Getpid())
	require.Contains(t, out.String(), fmt.Sprintf("rounds=%d", res.rounds))
}

// TestCPUTimeCountsThreadsRunTime reads this process's own CPU time as the load reads the
// server's: from the threads' schedstat, in nanoseconds, so that burning 100 ms of CPU shows as
// that much, not as a whole number of 10 ms ticks.
func TestCPUTimeCountsThreadsRunTime(t *testing.T) {
	t.Parallel()
	if _, ok := schedTime(os.Getpid()); !ok {
		t.Skip("no /proc/PID/task/TID/schedstat on this system")
	}
	before, start := cpuTime(os.Getpid()), time.Now()
	x := uint64(1)
	for time.Since(start) < 100*time.Millisecond {
		for range 1000 {
			x = x*6364136223846793005 + 1442695040888963407
		}
	}
	wall := time.Since(start)
	used := cpuTime(os.Getpid()) - before
	require.NotZero(t, x)
	// This goroutine ran for most of the wall time (other tests may share the cores), and the
	// process cannot have used more than every core for all of it.
	require.Greater(t, used, wall/4, "the loop's CPU time is counted")
	require.LessOrEqual(t, used, wall*time.Duration(runtime.NumCPU())+10*time.Millisecond)
}
