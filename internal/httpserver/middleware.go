package httpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"
)

// StatusWriter is an http.ResponseWriter that remembers the status its handler answered with,
// for a request log, a journal or a test's record.
type StatusWriter struct {
	http.ResponseWriter
	// Status is the status of the answer: http.StatusOK until the handler writes a header, as
	// net/http sends for a body written without one.
	Status int
	// wrote is whether the header went out; net/http ignores any later WriteHeader, so must
	// Status.
	wrote bool
	// Keep, when positive, is how many bytes of the body Kept keeps: the start of the answer as
	// it went out, for a journal.
	Keep int
	kept strings.Builder
}

// NewStatusWriter returns w wrapped in a StatusWriter.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter {
	return &StatusWriter{ResponseWriter: w, Status: http.StatusOK}
}

// WriteHeader records the status, unless one already went out, and passes it on.
func (w *StatusWriter) WriteHeader(status int) {
	// net/http sends a 1xx other than 101 ahead of the answer; the answer's status is to come.
	informational := status >= 100 && status <= 199 && status != http.StatusSwitchingProtocols
	if !w.wrote && !informational {
		w.Status = status
		w.wrote = true
	}
	w.ResponseWriter.WriteHeader(status)
}

// Write passes b on; the first Write sends the header, and so fixes the status.
func (w *StatusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	if room := w.Keep - w.kept.Len(); room > 0 {
		w.kept.Write(b[:min(room, len(b))])
	}
	return w.ResponseWriter.Write(b)
}

// Kept is the start of the body as it went out, at most Keep bytes. It is the writer's one copy
// of those bytes (a strings.Builder's), so a journal can keep it as it is rather than copy it
// again.
func (w *StatusWriter) Kept() string { return w.kept.String() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LogRequests returns next with every request logged to logger at debug level once it is
// answered: its method, path, status and duration, then what attrs returns (attrs may be nil),
// which can read the headers the handler set on w. Whether debug is on is asked per request, so
// a service logging at a higher level pays only that question.
func LogRequests(logger *slog.Logger, next http.Handler, attrs func(w http.ResponseWriter, r *http.Request) []slog.Attr) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !logger.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		sw := NewStatusWriter(w)
		next.ServeHTTP(sw, r)
		line := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.Status),
			slog.Duration("duration", time.Since(start)),
		}
		if attrs != nil {
			line = append(line, attrs(w, r)...)
		}
		logger.LogAttrs(r.Context(), slog.LevelDebug, "request", line...)
	})
}

// RecoverPanics returns next with a panic, always a bug of the service, logged to logger with
// its stack and answered by fail, in the service's error shape, instead of dropping the
// connection. http.ErrAbortHandler, net/http's way for a handler to drop it on purpose, goes
// on up.
func RecoverPanics(logger *slog.Logger, next http.Handler, fail func(w http.ResponseWriter, r *http.Request, v any)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				fail(w, r, v)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// IsJSON reports whether contentType, a Content-Type header, names JSON: application/json or
// a +json type, with any parameters.
func IsJSON(contentType string) bool {
	if contentType == "application/json" {
		return true // the Content-Type of nearly every call, without mime's parse (and its map)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// WriteJSON answers with status and v as a JSON body, the bytes json.Marshal gives. It fails
// only when v cannot be encoded, before anything is written, so the caller can still answer
// with an error.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	return WriteJSONAppended(w, status, v, nil)
}

// WriteJSONAppended is WriteJSON for answers a service also encodes without reflection:
// appendJSON, unless nil, appends v's JSON to the buffer it is given and returns it, or reports
// false to have v encoded by encoding/json.
func WriteJSONAppended(w http.ResponseWriter, status int, v any, appendJSON func([]byte) ([]byte, bool)) error {
	e, _ := encoders.Get().(*encoder)
	if e == nil {
		e = &encoder{}
		e.enc = json.NewEncoder(&e.buf)
	}
	defer e.release()
	var answer []byte
	appended := false
	if appendJSON != nil {
		var b []byte
		if b, appended = appendJSON(e.buf.AvailableBuffer()); appended {
			e.buf.Write(b) // in place, unless b grew past the buffer: the buffer grows with it
			answer = e.buf.Bytes()
		}
	}
	if !appended {
		// json.Marshal would encode into a buffer of its own pool too, and then copy the result
		// out to return it: an allocation as large as the answer, on every answer.
		if err := e.enc.Encode(v); err != nil {
			return fmt.Errorf("encoding response: %w", err)
		}
		// The newline Encode ends with is not json.Marshal's.
		answer = bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))
	}
	SetJSONContentType(w.Header())
	w.WriteHeader(status)
	// A failed write means the client is gone; there is nobody left to tell.
	_, _ = w.Write(answer)
	return nil
}

// contentTypeJSON is the Content-Type of every JSON answer, one slice for all of them: its length
// is its capacity, so a header Add appends to a copy, and net/http only reads it.
var contentTypeJSON = []string{"application/json"}[:1:1]

// SetJSONContentType sets the Content-Type of h to application/json, as h.Set would without
// allocating the value's slice: the header's canonical key is known, and the value the same on
// every answer.
func SetJSONContentType(h http.Header) { h["Content-Type"] = contentTypeJSON }

// encoders pools the buffers WriteJSON encodes answers in, each with its json.Encoder, which
// escapes as json.Marshal does. A pool is what encoding/json keeps for the same purpose.
var encoders sync.Pool

// encoder is a buffer to encode an answer in and the json.Encoder writing to it.
type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

// maxPooledAnswer bounds the buffers kept for reuse, so that one large answer does not keep its
// memory for good.
const maxPooledAnswer = 64 << 10

func (e *encoder) release() {
	if e.buf.Cap() > maxPooledAnswer {
		return
	}
	e.buf.Reset()
	encoders.Put(e)
}
