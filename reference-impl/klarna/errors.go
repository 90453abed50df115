package klarna

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrUnavailable marks a call that failed only for temporary reasons (transport errors, 429,
// 5xx) and kept failing until the retry deadline. The same call, with the same idempotency key,
// may succeed later.
var ErrUnavailable = errors.New("klarna unavailable")

// Error is an error answer from Klarna. Every Klarna error has this shape, whatever went wrong.
type Error struct {
	// StatusCode is the HTTP status Klarna answered with.
	StatusCode int `json:"-"`
	// CorrelationID is the Klarna-Correlation-Id of the answer, to quote to Klarna.
	CorrelationID string       `json:"-"`
	ErrorID       string       `json:"error_id"`
	ErrorType     string       `json:"error_type"`
	ErrorCode     string       `json:"error_code"`
	ErrorMessage  string       `json:"error_message"`
	Errors        []FieldError `json:"errors,omitempty"`
}

// FieldError names one parameter Klarna found invalid: a body field as a dotted path, or a
// header or query parameter by name.
type FieldError struct {
	Parameter    string `json:"parameter"`
	ErrorMessage string `json:"error_message"`
}

// Error describes the Klarna error in one line.
func (e *Error) Error() string {
	msg := fmt.Sprintf("klarna: %d %s: %s", e.StatusCode, e.ErrorCode, e.ErrorMessage)
	if len(e.Errors) > 0 {
		msg += fmt.Sprintf(" (%s: %s)", e.Errors[0].Parameter, e.Errors[0].ErrorMessage)
	}
	return msg
}

// Temporary reports whether the same call may succeed when retried: rate limits and server
// faults.
func (e *Error) Temporary() bool {
	return retryableStatus(e.StatusCode)
}

// retryableStatus reports whether a status is worth retrying. A 429 asks for it explicitly; a
// 5xx means Klarna did not finish the call, and the idempotency key makes a repeat safe.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}
