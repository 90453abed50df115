package http

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
)

// logRequests logs, when debug logging is on, every request with its status, duration and
// Klarna-Correlation-Id (which dispatch sets), an authorize with the rule that decided it, and a
// call a fault hit with the fault.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return httpserver.LogRequests(s.log, next, func(w http.ResponseWriter, _ *http.Request) []slog.Attr {
		attrs := []slog.Attr{slog.String("klarna_correlation_id", w.Header().Get(headerKlarnaCorrelationID))}
		if rule := w.Header().Get(HeaderRule); rule != "" {
			attrs = append(attrs, slog.String("rule", rule))
		}
		if fault := w.Header().Get(HeaderFault); fault != "" {
			attrs = append(attrs, slog.String("fault", fault))
		}
		return attrs
	})
}

// recoverPanics turns a panic, always a bug of the mock, into a logged 500 TECHNICAL_ERROR
// instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return httpserver.RecoverPanics(s.log, next, func(w http.ResponseWriter, r *http.Request, v any) {
		s.fail(w, r, mockserver.NewError(mockserver.CodeInternal,
			fmt.Sprintf("The mock failed while processing the request: %v", v)))
	})
}
