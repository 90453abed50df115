package mockserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error types, as Klarna names them in error_type (docs/klarna.md §5).
const (
	AccessError    = "ACCESS_ERROR"
	TechnicalError = "TECHNICAL_ERROR"
	ResourceError  = "RESOURCE_ERROR"
	InputError     = "INPUT_ERROR"
)

// Error codes the mock answers with. Klarna documents VALIDATION_ERROR, UNAUTHORIZED, NOT_FOUND and
// RATE_LIMITED (docs/klarna.md §5); the others are the mock's own choices for cases Klarna does
// not describe, listed in the README so integrations can rely on them. Every code has its HTTP
// status and error_type in kindOf.
const (
	CodeValidation             = "VALIDATION_ERROR"
	CodeUnauthorized           = "UNAUTHORIZED"
	CodeForbidden              = "FORBIDDEN"
	CodeNotFound               = "NOT_FOUND"
	CodeMethodNotAllowed       = "METHOD_NOT_ALLOWED"
	CodeIdempotencyConflict    = "IDEMPOTENCY_CONFLICT"
	CodeInvalidStateTransition = "INVALID_STATE_TRANSITION"
	// CodeResourceInUse refuses deleting something another resource still uses, such as a signing
	// key a webhook is signed with.
	CodeResourceInUse = "RESOURCE_IN_USE"
	// CodeAlreadyExists refuses creating what the account already has: a webhook configuration
	// Klarna's Notifications API answers 409 for (docs/klarna.md §8).
	CodeAlreadyExists        = "ALREADY_EXISTS"
	CodePayloadTooLarge      = "PAYLOAD_TOO_LARGE"
	CodeUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE"
	CodeRateLimited          = "RATE_LIMITED"
	// CodeQuotaExceeded refuses storing a new object when the tenant already holds as many of
	// its kind as the mock keeps and none of them is finished. Unlike RATE_LIMITED, retrying soon
	// does not help: objects finishing or a higher quota do.
	CodeQuotaExceeded = "QUOTA_EXCEEDED"
	CodeInternal      = "INTERNAL_ERROR"
	// CodeServiceUnavailable answers a call the mock can no longer serve because it is shutting
	// down; a retry against a running mock succeeds.
	CodeServiceUnavailable = "SERVICE_UNAVAILABLE"
)

// kindOf is the one table from error code to HTTP status and error_type. A code missing here is
// a fault of the mock, so it answers 500 TECHNICAL_ERROR (ok false) rather than panicking: an
// error path must never itself crash a request. TestErrorKinds checks every code is listed.
func kindOf(code string) (status int, errType string, ok bool) {
	switch code {
	case CodeValidation:
		return http.StatusBadRequest, InputError, true
	case CodeUnauthorized:
		return http.StatusUnauthorized, AccessError, true
	case CodeForbidden:
		// One type for every 403: ACCESS_ERROR, as contracts/klarna-payments.yaml types its
		// Forbidden answer. A 403 is an authorization problem, the caller known but not allowed,
		// whether it is a key used on another account's path or an account at its limit of
		// signing keys; RESOURCE_ERROR is kept for what a resource's own state refuses.
		return http.StatusForbidden, AccessError, true
	case CodeNotFound:
		return http.StatusNotFound, ResourceError, true
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed, InputError, true
	case CodeIdempotencyConflict:
		return http.StatusConflict, InputError, true
	case CodeInvalidStateTransition, CodeResourceInUse, CodeAlreadyExists:
		return http.StatusConflict, ResourceError, true
	case CodePayloadTooLarge:
		return http.StatusRequestEntityTooLarge, InputError, true
	case CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType, InputError, true
	case CodeRateLimited:
		// As contracts/klarna-payments.yaml types its TooManyRequests answer.
		return http.StatusTooManyRequests, AccessError, true
	case CodeQuotaExceeded:
		return http.StatusTooManyRequests, ResourceError, true
	case CodeInternal:
		return http.StatusInternalServerError, TechnicalError, true
	case CodeServiceUnavailable:
		return http.StatusServiceUnavailable, TechnicalError, true
	}
	return http.StatusInternalServerError, TechnicalError, false
}

// FieldError names one offending parameter: a body field as a dotted path with indexes
// (supplementary_purchase_data.line_items[0].quantity), or a header or query parameter by name.
type FieldError struct {
	Parameter    string `json:"parameter"`
	ErrorMessage string `json:"error_message"`
}

// DocURL is the doc_url of every error answer: Klarna's page on its error shape, error types and
// codes, the "Link to Klarna docs" its newer error pages add to each error (docs/klarna.md §5).
const DocURL = "https://docs.klarna.com/klarna-network-distribution/setup-your-integration/integration-resilience/error-handling/"

// Error is a Klarna-shaped API error. Every failure the mock reports to a client is one, so
// clients can parse a single shape whatever went wrong. It is written as MarshalJSON says.
type Error struct {
	Status       int
	ErrorID      string
	ErrorType    string
	ErrorCode    string
	ErrorMessage string
	Errors       []FieldError
}

// wireError is an Error as the mock answers it. Klarna's pages name the list of offending
// parameters two ways: older ones errors[{parameter, error_message}], newer ones
// validation_errors[{parameter, reason, doc_url}] (docs/klarna.md §5). The mock sends both, with
// the same entries in the same order, so a client written against either page parses it; doc_url
// is sent on the error and on each entry, where the two pages place it.
type wireError struct {
	ErrorID          string                `json:"error_id"`
	ErrorType        string                `json:"error_type"`
	ErrorCode        string                `json:"error_code"`
	ErrorMessage     string                `json:"error_message"`
	DocURL           string                `json:"doc_url"`
	Errors           []wireFieldError      `json:"errors,omitempty"`
	ValidationErrors []wireValidationError `json:"validation_errors,omitempty"`
}

// wireFieldError is an entry of errors[], the older pages' list.
type wireFieldError struct {
	Parameter    string `json:"parameter"`
	ErrorMessage string `json:"error_message"`
	DocURL       string `json:"doc_url"`
}

// wireValidationError is an entry of validation_errors[], the newer pages' list.
type wireValidationError struct {
	Parameter string `json:"parameter"`
	Reason    string `json:"reason"`
	DocURL    string `json:"doc_url"`
}

// MarshalJSON writes e with both lists of offending parameters and doc_url (see wireError).
func (e *Error) MarshalJSON() ([]byte, error) {
	w := wireError{ErrorID: e.ErrorID, ErrorType: e.ErrorType, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage, DocURL: DocURL}
	if len(e.Errors) > 0 {
		w.Errors = make([]wireFieldError, len(e.Errors))
		w.ValidationErrors = make([]wireValidationError, len(e.Errors))
		for i, f := range e.Errors {
			w.Errors[i] = wireFieldError{Parameter: f.Parameter, ErrorMessage: f.ErrorMessage, DocURL: DocURL}
			w.ValidationErrors[i] = wireValidationError{Parameter: f.Parameter, Reason: f.ErrorMessage, DocURL: DocURL}
		}
	}
	return json.Marshal(w)
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Errors) > 0 {
		return fmt.Sprintf("%s: %s (%s: %s)", e.ErrorCode, e.ErrorMessage, e.Errors[0].Parameter, e.Errors[0].ErrorMessage)
	}
	return e.ErrorCode + ": " + e.ErrorMessage
}

// NewError returns an Error with a fresh error_id, its HTTP status and error_type taken from the
// code (one of the Code* constants; an unlisted code answers 500 TECHNICAL_ERROR).
func NewError(code, message string, fields ...FieldError) *Error {
	status, errType, _ := kindOf(code)
	return &Error{
		Status:       status,
		ErrorID:      NewID(""),
		ErrorType:    errType,
		ErrorCode:    code,
		ErrorMessage: message,
		Errors:       fields,
	}
}

// Invalid reports bad input in one named parameter (400 VALIDATION_ERROR).
func Invalid(parameter, message string) *Error {
	return NewError(CodeValidation, "The request is invalid: "+message, FieldError{Parameter: parameter, ErrorMessage: message})
}

// NotFound reports a resource the account does not have (404 NOT_FOUND). Resources of other
// accounts are reported the same way, so nothing leaks across accounts.
func NotFound(what, id string) *Error {
	return NewError(CodeNotFound, fmt.Sprintf("%s %q was not found.", what, id))
}

// Conflict reports a state transition the resource's state machine does not allow (409).
func Conflict(message string) *Error {
	return NewError(CodeInvalidStateTransition, message)
}

// QuotaExceeded reports that the tenant already holds limit objects of one kind (what, in the
// plural: "payment requests"), all still in use, so no new one can be stored (429
// QUOTA_EXCEEDED). The message names the flag that raises the quota.
func QuotaExceeded(what string, limit int, flag string) *Error {
	return NewError(CodeQuotaExceeded, fmt.Sprintf(
		"This tenant already holds %d %s that are still in use, the most the mock keeps of them; finished ones make room, but none is finished yet. Start the mock with a higher %s to keep more.",
		limit, what, flag))
}

// AsError returns err as a Klarna error; anything that is not one becomes a 500 TECHNICAL_ERROR,
// which the mock only answers for its own faults, never for bad input.
func AsError(err error) *Error {
	var ke *Error
	if errors.As(err, &ke) {
		return ke
	}
	return NewError(CodeInternal, "The mock failed to process the request: "+err.Error())
}
