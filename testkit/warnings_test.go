package testkit_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/testkit"
)

// TestJournalCarriesUndocumentedFields: a body field Klarna's API reference does not document is
// accepted (the mock's default) and comes back with the call's journal entry as a warning, so a
// test can hold an Acquiring Partner to the documented fields.
func TestJournalCarriesUndocumentedFields(t *testing.T) {
	t.Parallel()
	m := testkit.NewMock(t)
	const key = "klarna_test_api_warnings"
	authorize(t, m, key, http.Header{"Klarna-Idempotency-Key": {"k-1"}},
		`{"currency":"EUR","request_payment_transaction":{"amount":1000},"acquirer_order_id":"ap-1"}`)
	entries, err := m.Journal(key, account)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, []testkit.JournalWarning{{Parameter: "acquirer_order_id", Message: "is not allowed"}}, entries[0].Warnings)
}
