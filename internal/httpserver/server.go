// Package httpserver holds what the HTTP servers of cmd/klarna-mock and cmd/acquirer share: the
// http.Server with its timeouts and header limit, the flags that tune the timeouts, the guard
// that answers paths in no canonical form with the service's own 404, the request log and panic
// recovery around the handlers, and the JSON answers and media-type check of the handlers.
package httpserver

import (
	"cmp"
	"log/slog"
	"net/http"
	"time"
)

// Defaults of Timeouts.
const (
	// DefaultReadHeaderTimeout bounds a request's headers, so a client that never finishes them
	// cannot hold a connection.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds a whole request, headers and body; both services' bodies are
	// at most 1 MiB of JSON.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds a handler and its answer. It is longer than the longest
	// legitimate answer: the acquirer's, which waits for one Klarna call with its retries,
	// bounded by the Klarna client's 20 s deadline (klarna.DefaultDeadline). The mock answers
	// from memory and sends webhooks from its own goroutines, never within a request.
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds how long a keep-alive connection waits for its next request.
	DefaultIdleTimeout = 120 * time.Second
)

// MaxHeaderBytes bounds a request's headers. The largest header either service gets is an
// Authorization key or a Klarna token, well under it.
const MaxHeaderBytes = 64 << 10

// Timeouts are the http.Server timeouts New sets. Zero fields take the defaults.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, headers and body.
	Read time.Duration
	// Write bounds the time from the end of a request's headers to the end of its answer.
	Write time.Duration
	// Idle bounds how long a keep-alive connection waits for its next request.
	Idle time.Duration
}

// withDefaults returns t with its zero fields set to the defaults, and ReadHeader at most Read:
// net/http reads the headers under ReadHeader alone, so a longer one would let them outlast the
// whole request's bound.
func (t Timeouts) withDefaults() Timeouts {
	read := cmp.Or(t.Read, DefaultReadTimeout)
	return Timeouts{
		ReadHeader: min(cmp.Or(t.ReadHeader, DefaultReadHeaderTimeout), read),
		Read:       read,
		Write:      cmp.Or(t.Write, DefaultWriteTimeout),
		Idle:       cmp.Or(t.Idle, DefaultIdleTimeout),
	}
}

// New returns the server that serves h with the timeouts t and at most MaxHeaderBytes of
// headers. The server's own errors (a failed accept, a TLS handshake) go to logger at warn
// level, in the format of the command's other logs; a nil logger discards them.
func New(h http.Handler, logger *slog.Logger, t Timeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: t.ReadHeader,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cmp.Or(logger, slog.New(slog.DiscardHandler)).Handler(), slog.LevelWarn),
	}
}
