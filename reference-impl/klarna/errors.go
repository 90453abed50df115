package klarna

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// ErrUnavailable marks a call that failed only for temporary reasons (transport errors,
// timeouts, cut-off answers, 408, 429, 5xx) and was given up: its attempts or its deadline ran
// out, or Klarna asked to wait longer than the client does. The same call, with the same
// idempotency key, may succeed later. Such an error is an *UnavailableError.
var ErrUnavailable = errors.New("klarna unavailable")

// ErrTimeout marks an ErrUnavailable call whose last attempt got no answer in time.
var ErrTimeout = errors.New("klarna timed out")

// UnavailableError is a call given up after temporary failures only. errors.Is(err,
// ErrUnavailable) holds for it, errors.Is(err, ErrTimeout) too when Timeout is set, and
// errors.As reaches the last failure (an *Error when Klarna answered).
type UnavailableError struct {
	Method, Path string
	// Attempts is how many times the call was sent.
	Attempts int
	// Timeout reports that the last attempt got no answer within the attempt timeout or the
	// deadline.
	Timeout bool
	// RetryAfter is the wait Klarna asked for in its last answer (Retry-After), 0 when it
	// named none.
	RetryAfter time.Duration
	// Reason says why the client stopped retrying.
	Reason string
	// Err is the last failure.
	Err error
}

// Error describes the call, why it was given up and its last failure in one line.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("klarna unavailable: %s %s given up after %d attempts (%s): %v", e.Method, e.Path, e.Attempts, e.Reason, e.Err)
}

// Unwrap returns the last failure.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes the error match ErrUnavailable, and ErrTimeout when the last attempt timed out.
func (e *UnavailableError) Is(target error) bool {
	return target == ErrUnavailable || (e.Timeout && target == ErrTimeout)
}

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

// retryableStatus reports whether a status is worth retrying. A 429 asks for it explicitly (with
// Retry-After), a 408 says the request came too slowly; a 5xx means Klarna did not finish the
// call, and the idempotency key makes a repeat safe. 501 says Klarna does not have the
// operation at all.
func retryableStatus(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests ||
		(status >= 500 && status != http.StatusNotImplemented)
}
