package mockserver

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestErrorKinds pins the HTTP status and error_type of every error code, as the README's error
// table documents them to integrations, and checks that NewError takes them from the one table.
func TestErrorKinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code    string
		status  int
		errType string
	}{
		{CodeValidation, http.StatusBadRequest, InputError},
		{CodeUnauthorized, http.StatusUnauthorized, AccessError},
		{CodeForbidden, http.StatusForbidden, AccessError},
		{CodeNotFound, http.StatusNotFound, ResourceError},
		{CodeMethodNotAllowed, http.StatusMethodNotAllowed, InputError},
		{CodeIdempotencyConflict, http.StatusConflict, InputError},
		{CodeInvalidStateTransition, http.StatusConflict, ResourceError},
		{CodeResourceInUse, http.StatusConflict, ResourceError},
		{CodeAlreadyExists, http.StatusConflict, ResourceError},
		{CodePayloadTooLarge, http.StatusRequestEntityTooLarge, InputError},
		{CodeUnsupportedMediaType, http.StatusUnsupportedMediaType, InputError},
		{CodeRateLimited, http.StatusTooManyRequests, AccessError},
		{CodeInternal, http.StatusInternalServerError, TechnicalError},
		{CodeServiceUnavailable, http.StatusServiceUnavailable, TechnicalError},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			status, errType, ok := kindOf(tt.code)
			require.True(t, ok, "the code is in the table")
			require.Equal(t, tt.status, status)
			require.Equal(t, tt.errType, errType)

			e := NewError(tt.code, "message", FieldError{Parameter: "p", ErrorMessage: "m"})
			require.Equal(t, tt.status, e.Status)
			require.Equal(t, tt.errType, e.ErrorType)
			require.Equal(t, tt.code, e.ErrorCode)
			require.Equal(t, "message", e.ErrorMessage)
			require.Equal(t, []FieldError{{Parameter: "p", ErrorMessage: "m"}}, e.Errors)
			require.NotEmpty(t, e.ErrorID)
		})
	}
}

// TestUnknownErrorCode checks that a code missing from the table is answered as the mock's own
// fault, 500 TECHNICAL_ERROR with the code kept, instead of panicking on the error path.
func TestUnknownErrorCode(t *testing.T) {
	t.Parallel()
	_, _, ok := kindOf("NO_SUCH_CODE")
	require.False(t, ok)
	e := NewError("NO_SUCH_CODE", "message")
	require.Equal(t, http.StatusInternalServerError, e.Status)
	require.Equal(t, TechnicalError, e.ErrorType)
	require.Equal(t, "NO_SUCH_CODE", e.ErrorCode)
}

// TestErrorHelpers checks that the helpers build on the table and that AsError keeps Klarna
// errors and turns any other error into a 500.
func TestErrorHelpers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     *Error
		status  int
		code    string
		message string
	}{
		{"invalid", Invalid("currency", "is required"), http.StatusBadRequest, CodeValidation, "The request is invalid: is required"},
		{"not found", NotFound("Payment request", "x"), http.StatusNotFound, CodeNotFound, `Payment request "x" was not found.`},
		{"conflict", Conflict("no"), http.StatusConflict, CodeInvalidStateTransition, "no"},
		{"as error", AsError(errors.New("boom")), http.StatusInternalServerError, CodeInternal, "The mock failed to process the request: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.status, tt.err.Status)
			require.Equal(t, tt.code, tt.err.ErrorCode)
			require.Equal(t, tt.message, tt.err.ErrorMessage)
		})
	}
	ke := Invalid("currency", "is required")
	require.Same(t, ke, AsError(ke))
	require.Equal(t, []FieldError{{Parameter: "currency", ErrorMessage: "is required"}}, ke.Errors)
}
