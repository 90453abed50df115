package mockserver

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/google/uuid"
)

// Error types, as Klarna names them in error_type.
const (
	AccessError    = "ACCESS_ERROR"
	TechnicalError = "TECHNICAL_ERROR"
	ResourceError  = "RESOURCE_ERROR"
	InputError     = "INPUT_ERROR"
)

// Error codes the mock answers with. Klarna documents VALIDATION_ERROR, UNAUTHORIZED, NOT_FOUND and
// RATE_LIMITED; the others are the mock's own choices for cases Klarna does not describe, listed in
// the README so integrations can rely on them.
const (
	CodeValidation             = "VALIDATION_ERROR"
	CodeUnauthorized           = "UNAUTHORIZED"
	CodeForbidden              = "FORBIDDEN"
	CodeNotFound               = "NOT_FOUND"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeIdempotencyConflict    = "IDEMPOTENCY_CONFLICT"
	CodeInvalidStateTransition = "INVALID_STATE_TRANSITION"
	CodePayloadTooLarge        = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType   = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited            = "RATE_LIMITED"
	CodeInternal               = "INTERNAL_ERROR"
)

// FieldError names one offending parameter: a body field as a dotted path with indexes
// (supplementary_purchase_data.line_items[0].quantity), or a header or query parameter by name.
type FieldError struct {
	Parameter    string `json:"parameter"`
	ErrorMessage string `json:"error_message"`
}

// Error is a Klarna-shaped API error. Every failure the mock reports to a client is one, so
// clients can parse a single shape whatever went wrong.
type Error struct {
	Status       int          `json:"-"`
	ErrorID      string       `json:"error_id"`
	ErrorType    string       `json:"error_type"`
	ErrorCode    string       `json:"error_code"`
	ErrorMessage string       `json:"error_message"`
	Errors       []FieldError `json:"errors,omitempty"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Errors) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.ErrorCode, e.ErrorMessage, e.Errors[0].Parameter, e.Errors[0].ErrorMessage)
	}
	return e.ErrorCode + ": " + e.ErrorMessage
}

// NewError returns an Error with a fresh error_id.
func NewError(status int, errType, code, message string, fields ...FieldError) *Error {
	return &Error{
		Status:       status,
		ErrorID:      uuid.NewString(),
		ErrorType:    errType,
		ErrorCode:    code,
		ErrorMessage: message,
		Errors:       fields,
	}
}

// Invalid reports bad input in one named parameter (400 VALIDATION_ERROR).
func Invalid(parameter, message string) *Error {
	return NewError(http.StatusBadRequest, InputError, CodeValidation,
		"The request is invalid: "+message, FieldError{Parameter: parameter, ErrorMessage: message})
}

// NotFound reports a resource the account does not have (404 NOT_FOUND). Resources of other
// accounts are reported the same way, so nothing leaks across accounts.
func NotFound(what, id string) *Error {
	return NewError(http.StatusNotFound, ResourceError, CodeNotFound, fmt.Sprintf("%s %q was not found.", what, id))
}

// Conflict reports a state transition the resource's state machine does not allow (409).
func Conflict(message string) *Error {
	return NewError(http.StatusConflict, ResourceError, CodeInvalidStateTransition, message)
}

// AsError returns err as a Klarna error; anything that is not one becomes a 500 TECHNICAL_ERROR,
// which the mock only answers for its own faults, never for bad input.
func AsError(err error) *Error {
	var ke *Error
	if errors.As(err, &ke) {
		return ke
	}
	return NewError(http.StatusInternalServerError, TechnicalError, CodeInternal, "The mock failed to process the request: "+err.Error())
}
