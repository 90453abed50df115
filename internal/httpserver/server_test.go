package httpserver_test

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/internal/httpserver/slowclient"
)

// shortTimeout is the timeout under test: long enough for a loaded machine to send a request
// in time, short against the seconds a trickled request takes to arrive.
const shortTimeout = 300 * time.Millisecond

// closeWithin is how long a test waits for the server to close: well past shortTimeout, well
// before a trickled request would be complete (trickled requests take 10 s).
const closeWithin = 5 * time.Second

// readBody answers 400 when the body cannot be read, as both services do, else 200.
var readBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "read %d bytes", len(body))
})

// serve runs httpserver.New(readBody, ...) with t on a free port until the test ends, and
// returns its address.
func serve(t *testing.T, timeouts httpserver.Timeouts) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := httpserver.New(readBody, nil, timeouts)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return ln.Addr().String()
}

func TestSlowBodyIsCutOffAfterTheReadTimeout(t *testing.T) {
	t.Parallel()
	addr := serve(t, httpserver.Timeouts{Read: shortTimeout})
	start := time.Now()
	resp, body := slowclient.SlowBody(t, addr, "POST / HTTP/1.1\r\nHost: test")
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
	require.GreaterOrEqual(t, time.Since(start), shortTimeout)
}

func TestSlowHeadersAreCutOffAfterTheReadHeaderTimeout(t *testing.T) {
	t.Parallel()
	addr := serve(t, httpserver.Timeouts{ReadHeader: shortTimeout})
	// The server starts counting once it has accepted the connection, which may be before Dial
	// returns.
	start := time.Now()
	c := slowclient.Dial(t, addr)
	c.Send("GET / HTTP/1.1\r\nHost: test\r\n")
	c.Trickle("X-Slow: "+strings.Repeat("x", 100)+"\r\n\r\n", 100*time.Millisecond)

	c.WaitClosed(closeWithin)
	require.GreaterOrEqual(t, time.Since(start), shortTimeout)
}

func TestIdleConnectionIsClosedAfterTheIdleTimeout(t *testing.T) {
	t.Parallel()
	c := slowclient.Dial(t, serve(t, httpserver.Timeouts{Idle: shortTimeout}))
	c.Send("GET / HTTP/1.1\r\nHost: test\r\n\r\n")
	resp, body := c.Response()
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.False(t, resp.Close, "the connection is kept alive")

	idle := time.Now()
	c.WaitClosed(closeWithin)
	// The server starts counting when it has written the answer, a little before it arrives.
	require.GreaterOrEqual(t, time.Since(idle), shortTimeout/2)
}

func TestHeadersAreBounded(t *testing.T) {
	t.Parallel()
	c := slowclient.Dial(t, serve(t, httpserver.Timeouts{}))
	c.Send("GET / HTTP/1.1\r\nHost: test\r\nX-Big: " + strings.Repeat("x", 2*httpserver.MaxHeaderBytes) + "\r\n\r\n")
	resp, body := c.Response()
	require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, body)
}

func TestNewSetsTheTimeouts(t *testing.T) {
	t.Parallel()
	srv := httpserver.New(readBody, nil, httpserver.Timeouts{})
	require.Equal(t, httpserver.DefaultReadHeaderTimeout, srv.ReadHeaderTimeout)
	require.Equal(t, httpserver.DefaultReadTimeout, srv.ReadTimeout)
	require.Equal(t, httpserver.DefaultWriteTimeout, srv.WriteTimeout)
	require.Equal(t, httpserver.DefaultIdleTimeout, srv.IdleTimeout)
	require.Equal(t, httpserver.MaxHeaderBytes, srv.MaxHeaderBytes)
	require.NotNil(t, srv.ErrorLog)

	srv = httpserver.New(readBody, nil, httpserver.Timeouts{ReadHeader: time.Minute, Read: 5 * time.Second, Write: time.Second, Idle: 2 * time.Second})
	require.Equal(t, 5*time.Second, srv.ReadHeaderTimeout, "the headers are part of the request ReadTimeout bounds")
	require.Equal(t, 5*time.Second, srv.ReadTimeout)
	require.Equal(t, time.Second, srv.WriteTimeout)
	require.Equal(t, 2*time.Second, srv.IdleTimeout)
}

// TestErrorsGoToTheLogger checks that the server's own complaints reach the command's logger.
func TestErrorsGoToTheLogger(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	srv := httpserver.New(readBody, slog.New(slog.NewTextHandler(&logs, nil)), httpserver.Timeouts{})
	srv.ErrorLog.Print("http: a complaint")
	require.Contains(t, logs.String(), "level=WARN")
	require.Contains(t, logs.String(), "http: a complaint")
}
