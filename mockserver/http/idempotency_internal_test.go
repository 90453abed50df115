package http

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/clock"
	"github.com/klarna-mock/klarna-mock/mockserver/memdb"
	"github.com/klarna-mock/klarna-mock/mockserver/postgres"
	"github.com/klarna-mock/klarna-mock/mockserver/storetest"
)

// TestPanickingHandlerFreesItsIdempotencyKey runs a handler that panics under an idempotency key
// (RecoverPanics answers such a call with a 500), then the key's next request, on the same
// server and, on PostgreSQL, on another server sharing the database: it runs at once, rather
// than waiting for the panicked request's flight or for its claim of the key to lapse (a
// minute), and its answer is kept and replayed.
func TestPanickingHandlerFreesItsIdempotencyKey(t *testing.T) {
	t.Parallel()
	base := clock.NewManual(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	server := func(store mockserver.Store) *Server {
		return &Server{svc: mockserver.NewService(mockserver.Config{Store: store, Clock: base}), store: store, inflight: map[string]*flight{}}
	}
	stores := map[string]func(t *testing.T) (first, next *Server){
		"memdb": func(t *testing.T) (*Server, *Server) {
			store, err := memdb.New(memdb.Config{Clock: base})
			require.NoError(t, err)
			s := server(store)
			return s, s
		},
		"postgres": func(t *testing.T) (*Server, *Server) {
			url := storetest.Database(t)
			open := func() *Server {
				store, err := postgres.Open(t.Context(), postgres.Config{URL: url, Clock: base})
				require.NoError(t, err)
				t.Cleanup(store.Close)
				return server(store)
			}
			return open(), open()
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			first, next := open(t)
			call := func(ctx context.Context) *request {
				hr := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v2/accounts/a/payment/requests", nil)
				return &request{Request: hr, tenant: "tenant-1", body: []byte(`{"amount":1}`)}
			}
			require.PanicsWithValue(t, "boom", func() {
				_ = first.idempotently(httptest.NewRecorder(), call(t.Context()), "key-1", func(http.ResponseWriter, *request) error { panic("boom") })
			})
			require.Empty(t, first.inflight, "the panicked request's flight ended")

			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			created := func(w http.ResponseWriter, _ *request) error {
				w.WriteHeader(http.StatusCreated)
				_, err := w.Write([]byte(`{"created":true}`))
				return err
			}
			w := httptest.NewRecorder()
			require.NoError(t, next.idempotently(w, call(ctx), "key-1", created), "the key's next request runs")
			require.Equal(t, http.StatusCreated, w.Code)

			again := httptest.NewRecorder()
			require.NoError(t, first.idempotently(again, call(ctx), "key-1", func(http.ResponseWriter, *request) error {
				t.Error("a repeat of a kept answer runs the handler again")
				return nil
			}))
			require.Equal(t, `{"created":true}`, again.Body.String(), "the answer is replayed")
		})
	}
}
