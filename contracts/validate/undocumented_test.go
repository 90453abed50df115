package validate

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUndocumentedProperties checks that a property the document does not describe is reported
// as Undocumented, at every depth, and that the other violations of the same body are reported
// beside it unflagged, so a caller can accept the first kind with a warning and still refuse the
// second.
func TestUndocumentedProperties(t *testing.T) {
	t.Parallel()
	c := tcase{edit: func(m map[string]any) {
		m["purchase_currency"] = "EUR"
		at(m, "supplementary_purchase_data.line_items[0]")["colour"] = "red"
		at(m, "request_payment_transaction")["amount"] = -1
	}}
	r, params, body := c.request(t)
	method, tmpl := c.op()
	vs := mustOperation(t, method, tmpl).Check(r, params, body)
	got := map[string]bool{}
	for _, v := range vs {
		got[v.Parameter] = v.Undocumented
	}
	require.Equal(t, map[string]bool{
		"purchase_currency": true,
		"supplementary_purchase_data.line_items[0].colour": true,
		"request_payment_transaction.amount":               false,
	}, got, "%+v", vs)
}
