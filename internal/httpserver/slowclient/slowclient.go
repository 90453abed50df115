// Package slowclient is an HTTP/1.1 client on a raw connection that can be as slow as a test
// needs, to check that a server's timeouts end the connections of slow or idle clients.
package slowclient

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// A SlowBody body is slowBodyBytes bytes, one every slowBodyEvery: 10 s for the whole body, well
// past slowBodyClosed, how long a server with a short read timeout has to close.
const (
	slowBodyBytes  = 100
	slowBodyEvery  = 100 * time.Millisecond
	slowBodyClosed = 5 * time.Second
)

// SlowBody dials addr and sends head, a request line and headers without the blank line that
// ends them, at once, adding a Content-Length of 100; then it sends the body's 100 bytes (spaces,
// which JSON allows) one per 100 ms. It returns the server's answer, once the server has also
// closed the connection, and fails the test if the server has not closed it within 5 s, half
// the time the whole body takes.
func SlowBody(t testing.TB, addr, head string) (*http.Response, string) {
	t.Helper()
	c := Dial(t, addr)
	c.Send(fmt.Sprintf("%s\r\nContent-Length: %d\r\n\r\n", head, slowBodyBytes))
	c.Trickle(strings.Repeat(" ", slowBodyBytes), slowBodyEvery)
	resp, body := c.Response()
	c.WaitClosed(slowBodyClosed)
	return resp, body
}

// Conn is one client connection to the server under test.
type Conn struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// Dial connects to addr (host:port). The connection is closed when the test ends, which also
// stops a Trickle still under way.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	return &Conn{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// Send writes s at once.
func (c *Conn) Send(s string) {
	c.t.Helper()
	_, err := io.WriteString(c.conn, s)
	require.NoError(c.t, err)
}

// Trickle writes s one byte per interval in the background, until it is all sent or a write
// fails, as it does once the server has closed the connection.
func (c *Conn) Trickle(s string, interval time.Duration) {
	go func() {
		for i := range len(s) {
			time.Sleep(interval)
			if _, err := c.conn.Write([]byte{s[i]}); err != nil {
				return
			}
		}
	}()
}

// Response reads the server's next answer, with its whole body.
func (c *Conn) Response() (*http.Response, string) {
	c.t.Helper()
	resp, err := http.ReadResponse(c.r, nil)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	return resp, string(body)
}

// WaitClosed waits until the server closes the connection, discarding anything it still sends,
// and fails the test if the connection is still open after limit.
func (c *Conn) WaitClosed(limit time.Duration) {
	c.t.Helper()
	require.NoError(c.t, c.conn.SetReadDeadline(time.Now().Add(limit)))
	_, err := io.Copy(io.Discard, c.r)
	// A server that closes with unread bytes from us makes the end a reset rather than an EOF
	// (io.Copy reports EOF as no error); either way the server has closed.
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.t.Fatalf("the server kept the connection open for %s", limit)
	}
}
