package http

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"time"

	"github.com/klarna-mock/klarna-mock/mockserver"
)

// IdempotencyWindow is how long a Klarna-Idempotency-Key is honoured.
const IdempotencyWindow = 24 * time.Hour

// keyInFlightPoll is how often a duplicate looks again for the answer of a first request that
// another process on the same store is running (mockserver.ErrKeyInFlight).
const keyInFlightPoll = 20 * time.Millisecond

// flight is an idempotent request being processed; duplicates wait on done.
type flight struct{ done chan struct{} }

// idempotently runs h at most once per key within the window: a repeat with the same body gets
// the stored answer, a repeat with another body a 409, and concurrent duplicates wait for the
// first so exactly one resource is created. Only successes are stored, so a client can correct a
// rejected request and retry it under the same key.
func (s *Server) idempotently(w http.ResponseWriter, r *request, key string, h handlerFunc) error {
	scope := r.tenant + " " + r.Method + " " + r.URL.Path
	id := scope + "\x00" + key
	digest := sha256.Sum256(r.body)
	for {
		rec, err := s.storedAnswer(r.tenant, scope, key)
		if err != nil {
			return err
		}
		if rec != nil {
			return replay(w, rec, digest)
		}
		s.inflightMu.Lock()
		if f, busy := s.inflight[id]; busy {
			s.inflightMu.Unlock()
			select {
			case <-f.done:
				continue
			case <-r.Context().Done():
				return r.Context().Err()
			}
		}
		f := &flight{done: make(chan struct{})}
		s.inflight[id] = f
		s.inflightMu.Unlock()
		err = func() error {
			defer s.land(id, f)
			return s.runOnce(w, r, scope, key, digest, h)
		}()
		if errors.Is(err, mockserver.ErrKeyInFlight) {
			// Another process on the same store runs the first request: wait for its answer.
			select {
			case <-time.After(keyInFlightPoll):
				continue
			case <-r.Context().Done():
				return r.Context().Err()
			}
		}
		return err
	}
}

// land ends the flight of a key's first request: the duplicates waiting for it look again. It
// is deferred, so that a handler that panics (RecoverPanics answers it with a 500) does not
// leave the key's later requests waiting for an answer that never comes.
func (s *Server) land(id string, f *flight) {
	s.inflightMu.Lock()
	delete(s.inflight, id)
	s.inflightMu.Unlock()
	close(f.done)
}

// runOnce runs the handler for the first request with a key and stores a successful answer.
func (s *Server) runOnce(w http.ResponseWriter, r *request, scope, key string, digest [32]byte, h handlerFunc) error {
	// Another request may have finished between the lookup and taking the flight.
	rec, err := s.storedAnswer(r.tenant, scope, key)
	if err != nil {
		return err
	}
	if rec != nil {
		return replay(w, rec, digest)
	}
	// Reserve the key's place in the store before the handler runs: when the tenant's quota of
	// idempotency records is full of live ones, the call is refused (429) before it creates
	// anything, rather than creating a resource whose answer cannot be kept for a retry.
	reservation := &mockserver.IdempotencyRecord{
		Scope:      scope,
		Tenant:     r.tenant,
		Key:        key,
		BodyDigest: digest,
		ExpiresAt:  s.svc.ClockOf(r.tenant).Now().Add(IdempotencyWindow).UnixNano(),
	}
	if err := s.putIdempotent(reservation); err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			// A handler that panicked has no answer to keep: its reservation ends now, as a
			// failure's does, so that the key is free for a retry, and the panic goes on.
			ended := *reservation
			ended.ExpiresAt = s.svc.ClockOf(r.tenant).Now().UnixNano()
			_ = s.putIdempotent(&ended)
			panic(p)
		}
	}()
	cw := &captureWriter{header: http.Header{}, status: http.StatusOK}
	herr := h(cw, r)
	stored := *reservation
	if herr == nil && cw.status < 300 {
		stored.Status = cw.status
		// Every header the handler set, so that a repeat answers as the first did,
		// Klarna-Mock-Rule included.
		stored.Header = make(map[string]string, len(cw.header))
		for k := range cw.header {
			stored.Header[k] = cw.header.Get(k)
		}
		stored.Body = cw.body.Bytes()
	} else {
		// Only successes are kept: the reservation ends now, so it is finished data the store
		// may drop, and the key is free for a corrected retry.
		stored.ExpiresAt = s.svc.ClockOf(r.tenant).Now().UnixNano()
	}
	if err := s.putIdempotent(&stored); err != nil {
		return err
	}
	if herr != nil {
		return herr
	}
	for k, v := range cw.header {
		w.Header()[k] = v
	}
	w.WriteHeader(cw.status)
	_, _ = w.Write(cw.body.Bytes())
	return nil
}

// storedAnswer returns the answer stored for key that has not expired on the tenant's clock, or
// nil.
func (s *Server) storedAnswer(tenant, scope, key string) (*mockserver.IdempotencyRecord, error) {
	var rec *mockserver.IdempotencyRecord
	err := s.store.View(func(tx mockserver.Tx) error {
		var err error
		rec, err = tx.Idempotent(scope, key)
		return err
	})
	if errors.Is(err, mockserver.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// A reservation (no status yet) belongs to a call still running or one that failed; neither
	// has an answer to replay.
	if rec.Status == 0 || rec.ExpiresAt <= s.svc.ClockOf(tenant).Now().UnixNano() {
		return nil, nil
	}
	return rec, nil
}

// putIdempotent stores an idempotency record (a replacement never counts against the quota).
func (s *Server) putIdempotent(rec *mockserver.IdempotencyRecord) error {
	return s.store.Update(func(tx mockserver.Tx) error { return tx.PutIdempotent(rec) })
}

// replay writes a stored answer, or a 409 when the body differs from the first request's.
func replay(w http.ResponseWriter, rec *mockserver.IdempotencyRecord, digest [32]byte) error {
	if rec.BodyDigest != digest {
		return mockserver.NewError(mockserver.CodeIdempotencyConflict,
			"The Klarna-Idempotency-Key was already used with a different request body.",
			mockserver.FieldError{Parameter: "Klarna-Idempotency-Key", ErrorMessage: "already used with a different request body"})
	}
	for k, v := range rec.Header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(rec.Status)
	_, _ = w.Write(rec.Body)
	return nil
}

// captureWriter records a handler's answer so it can be stored before it is sent.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header         { return c.header }
func (c *captureWriter) WriteHeader(status int)      { c.status = status }
func (c *captureWriter) Write(b []byte) (int, error) { return c.body.Write(b) }
