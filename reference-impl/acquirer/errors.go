package acquirer

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/klarna-mock/klarna-mock/reference-impl/klarna"
)

// ErrorCode classifies an error for the Partner; each code has one HTTP status (see Status).
type ErrorCode string

// The error codes of the AP API (contracts/acquirer.yaml, schema Error).
const (
	CodeInvalidRequest       ErrorCode = "INVALID_REQUEST"
	CodeInvalidSignature     ErrorCode = "INVALID_SIGNATURE"
	CodeUnauthorized         ErrorCode = "UNAUTHORIZED"
	CodeForbidden            ErrorCode = "FORBIDDEN"
	CodeNotFound             ErrorCode = "NOT_FOUND"
	CodeMethodNotAllowed     ErrorCode = "METHOD_NOT_ALLOWED"
	CodeIdempotencyConflict  ErrorCode = "IDEMPOTENCY_CONFLICT"
	CodeInvalidState         ErrorCode = "INVALID_STATE"
	CodePayloadTooLarge      ErrorCode = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType ErrorCode = "UNSUPPORTED_MEDIA_TYPE"
	CodeKlarnaRejected       ErrorCode = "KLARNA_REJECTED"
	CodeInternal             ErrorCode = "INTERNAL_ERROR"
	CodeKlarnaError          ErrorCode = "KLARNA_ERROR"
	CodeKlarnaUnavailable    ErrorCode = "KLARNA_UNAVAILABLE"
	CodeKlarnaTimeout        ErrorCode = "KLARNA_TIMEOUT"
)

// Status returns the HTTP status of the code. It is the one place a code's status is said: the
// HTTP layer answers every error with it, and errors carry only their code.
func (c ErrorCode) Status() int {
	switch c {
	case CodeInvalidRequest, CodeInvalidSignature:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeIdempotencyConflict, CodeInvalidState:
		return http.StatusConflict
	case CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case CodeKlarnaRejected:
		return http.StatusUnprocessableEntity
	case CodeKlarnaError:
		return http.StatusBadGateway
	case CodeKlarnaUnavailable:
		return http.StatusServiceUnavailable
	case CodeKlarnaTimeout:
		return http.StatusGatewayTimeout
	default: // CodeInternal, and a code missing above, which is a fault of the AP too.
		return http.StatusInternalServerError
	}
}

// FieldError names one offending request field: a body field as a dotted path, or a header.
type FieldError struct {
	Parameter string
	Message   string
}

// Error is an error the AP reports to a Partner. Anything else a Service returns is a fault of
// the AP (INTERNAL_ERROR).
type Error struct {
	Code    ErrorCode
	Message string
	Fields  []FieldError
	// Klarna is Klarna's error when Klarna refused a call (KLARNA_REJECTED, KLARNA_ERROR).
	Klarna *klarna.Error
	// RetryAfter is the wait Klarna asked for when the AP gave up on a call for it
	// (KLARNA_UNAVAILABLE), passed on to the Partner as Retry-After; 0 for none.
	RetryAfter time.Duration
	// Err is the underlying cause, for logs.
	Err error
}

// Error describes the error in one line.
func (e *Error) Error() string {
	msg := string(e.Code) + ": " + e.Message
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// NewError returns an Error with a code and message.
func NewError(code ErrorCode, message string, fields ...FieldError) *Error {
	return &Error{Code: code, Message: message, Fields: fields}
}

// Invalid reports bad input in the named fields (400 INVALID_REQUEST).
func Invalid(fields ...FieldError) *Error {
	msg := "The request is invalid"
	if len(fields) > 0 {
		msg += ": " + fields[0].Parameter + ": " + fields[0].Message
		if len(fields) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(fields)-1)
		}
	}
	return NewError(CodeInvalidRequest, msg, fields...)
}

// NotFound reports a resource the Partner does not have. Resources of other Partners are
// reported the same way, so nothing leaks between Partners.
func NotFound(what, id string) *Error {
	return NewError(CodeNotFound, fmt.Sprintf("%s %q was not found.", what, id))
}

// AsError returns err as an *Error; anything else becomes INTERNAL_ERROR.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "The acquirer failed to process the request.", Err: err}
}

// klarnaFailure turns a failed Klarna call into the error the Partner gets: Klarna refusing the
// forwarded data is the Partner's to fix (KLARNA_REJECTED); Klarna not answering in time
// (KLARNA_TIMEOUT) or being unreachable, failing or rate limiting (KLARNA_UNAVAILABLE) is
// temporary; anything else is between the AP and Klarna (KLARNA_ERROR).
func klarnaFailure(err error) *Error {
	var ke *klarna.Error
	switch {
	case errors.Is(err, klarna.ErrTimeout):
		return &Error{Code: CodeKlarnaTimeout, Message: "Klarna did not answer in time; retry with the same Idempotency-Key.", Err: err}
	case errors.Is(err, klarna.ErrUnavailable), !errors.As(err, &ke):
		e := &Error{Code: CodeKlarnaUnavailable, Message: "Klarna cannot be reached right now; retry with the same Idempotency-Key.", Err: err}
		var ue *klarna.UnavailableError
		if errors.As(err, &ue) {
			e.RetryAfter = ue.RetryAfter
		}
		return e
	case ke.StatusCode == http.StatusBadRequest || ke.StatusCode == http.StatusUnprocessableEntity:
		return &Error{Code: CodeKlarnaRejected, Message: "Klarna refused the request: " + ke.ErrorCode + ": " + ke.ErrorMessage, Err: err, Klarna: ke}
	default:
		return &Error{Code: CodeKlarnaError, Message: fmt.Sprintf("Klarna answered %d %s.", ke.StatusCode, ke.ErrorCode), Err: err, Klarna: ke}
	}
}

// permanent reports whether a failed Klarna call would fail the same way if repeated.
func permanent(err error) bool {
	var ke *klarna.Error
	return !errors.Is(err, klarna.ErrUnavailable) && errors.As(err, &ke) && !ke.Temporary()
}
