package mockserver

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestErrorWireShape follows Klarna's two error pages (docs/klarna.md §5): the older "Error
// handling" page's errors[{parameter, error_message, doc_url}] and the Klarna Direct "Error
// Handling" page's validation_errors[{parameter, reason, doc_url}]. An error is written with both
// lists, entry for entry, and doc_url on the error and on each entry; an error naming no
// parameter has neither list.
func TestErrorWireShape(t *testing.T) {
	t.Parallel()
	e := NewError(CodeValidation, "The request is invalid.",
		FieldError{Parameter: "currency", ErrorMessage: "is required"},
		FieldError{Parameter: "line_items[0].quantity", ErrorMessage: "must be at least 1"})
	b, err := json.Marshal(e)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, map[string]any{
		"error_id":      e.ErrorID,
		"error_type":    InputError,
		"error_code":    CodeValidation,
		"error_message": "The request is invalid.",
		"doc_url":       DocURL,
		"errors": []any{
			map[string]any{"parameter": "currency", "error_message": "is required", "doc_url": DocURL},
			map[string]any{"parameter": "line_items[0].quantity", "error_message": "must be at least 1", "doc_url": DocURL},
		},
		"validation_errors": []any{
			map[string]any{"parameter": "currency", "reason": "is required", "doc_url": DocURL},
			map[string]any{"parameter": "line_items[0].quantity", "reason": "must be at least 1", "doc_url": DocURL},
		},
	}, got)

	b, err = json.Marshal(NotFound("Payment request", "x"))
	require.NoError(t, err)
	got = nil
	require.NoError(t, json.Unmarshal(b, &got))
	require.NotContains(t, got, "errors")
	require.NotContains(t, got, "validation_errors")
	require.NotContains(t, got, "Status", "the HTTP status is not part of the body")
	require.Equal(t, DocURL, got["doc_url"])
}
