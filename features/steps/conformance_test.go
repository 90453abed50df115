package steps

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/testkit"
)

const (
	testNST         = "krn:payment:eu1:klarna-network-session-token:9f0c"
	testNetworkData = `{"content_type": "application/vnd.klarna.interoperability-data.v2+json", "content": {"a": 1}}`
	testKlarnaToken = "krn:customer-token:eu1:4a2b"
)

// authorizeFixture is a Partner's call and the authorize that follows every rule for it.
type authorizeFixture struct {
	op     func() *op
	header func() map[string]string
	body   func() map[string]any
}

// presentSession is a customer-present payment session in redirect mode, asking for an
// on-demand token, with a purchase and the Klarna Network fields.
func presentSession() authorizeFixture {
	return authorizeFixture{
		op: func() *op {
			return &op{kind: "session", what: "payment session", reference: "order-1", currency: "EUR", amount: 2500,
				usage: UsageOnDemand, customerPresent: true, mode: "REDIRECT", nst: testNST, networkData: testNetworkData}
		},
		header: func() map[string]string {
			return map[string]string{"Klarna-Idempotency-Key": "k1", "Klarna-Network-Session-Token": testNST}
		},
		body: func() map[string]any {
			return map[string]any{
				"currency":                    "EUR",
				"klarna_network_data":         testNetworkData,
				"request_payment_transaction": map[string]any{"amount": float64(2500)},
				"request_customer_token":      map[string]any{"scopes": []any{"payment:customer_present"}},
				"step_up_config":              map[string]any{"customer_interaction_config": map[string]any{"method": "HANDOVER"}},
			}
		},
	}
}

// renewal is a subscription charge without the customer.
func renewal() authorizeFixture {
	return authorizeFixture{
		op: func() *op {
			return &op{kind: "charge", what: "charge", reference: "charge-1", currency: "EUR", amount: 999, klarnaToken: testKlarnaToken}
		},
		header: func() map[string]string {
			return map[string]string{"Klarna-Idempotency-Key": "k2", "Klarna-Customer-Token": testKlarnaToken}
		},
		body: func() map[string]any {
			return map[string]any{
				"currency":                    "EUR",
				"request_payment_transaction": map[string]any{"amount": float64(999)},
				"supplementary_purchase_data": map[string]any{"subscriptions": []any{map[string]any{"name": "Coffee club"}}},
			}
		},
	}
}

func (f authorizeFixture) entry(spoil func(header map[string]string, body map[string]any)) entry {
	h, b := f.header(), f.body()
	if spoil != nil {
		spoil(h, b)
	}
	return entry{JournalEntry: testkit.JournalEntry{Method: http.MethodPost, Path: "/v2/accounts/a/payment/authorize", Headers: h}, json: b}
}

func TestEveryAuthorizeRuleFiresOnlyOnItsFault(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		fixture authorizeFixture
		rule    Rule
		spoil   func(header map[string]string, body map[string]any)
	}{
		{"no idempotency key", presentSession(), RuleIdempotencyKey, func(h map[string]string, _ map[string]any) {
			delete(h, "Klarna-Idempotency-Key")
		}},
		{"network data re-encoded", presentSession(), RuleNetworkDataUnaltered, func(_ map[string]string, b map[string]any) {
			b["klarna_network_data"] = strings.ReplaceAll(testNetworkData, " ", "")
		}},
		{"network data in a header", presentSession(), RuleNetworkDataUnaltered, func(h map[string]string, b map[string]any) {
			delete(b, "klarna_network_data")
			h["Klarna-Network-Data"] = testNetworkData
		}},
		{"network data left out", presentSession(), RuleNetworkDataUnaltered, func(_ map[string]string, b map[string]any) {
			delete(b, "klarna_network_data")
		}},
		{"another session token", presentSession(), RuleNetworkSessionTokenUnaltered, func(h map[string]string, _ map[string]any) {
			h["Klarna-Network-Session-Token"] = testNST + "0"
		}},
		{"no customer token asked for", presentSession(), RuleCustomerTokenScope, func(_ map[string]string, b map[string]any) {
			delete(b, "request_customer_token")
		}},
		{"the wrong scope", presentSession(), RuleCustomerTokenScope, func(_ map[string]string, b map[string]any) {
			b["request_customer_token"] = map[string]any{"scopes": []any{"payment:customer_not_present"}}
		}},
		{"no step-up for a present customer", presentSession(), RuleStepUpWhenPresent, func(_ map[string]string, b map[string]any) {
			delete(b, "step_up_config")
		}},
		{"the SDK method for a redirect", presentSession(), RuleStepUpWhenPresent, func(_ map[string]string, b map[string]any) {
			b["step_up_config"] = map[string]any{"customer_interaction_config": map[string]any{"method": "SDK"}}
		}},
		{"a step-up without the customer", renewal(), RuleNoStepUpWhenNotPresent, func(_ map[string]string, b map[string]any) {
			b["step_up_config"] = map[string]any{}
		}},
		{"another Klarna token charged", renewal(), RuleChargeKlarnaToken, func(h map[string]string, _ map[string]any) {
			h["Klarna-Customer-Token"] = testKlarnaToken + "0"
		}},
		{"another amount", presentSession(), RuleForwardPurchase, func(_ map[string]string, b map[string]any) {
			b["request_payment_transaction"] = map[string]any{"amount": float64(2400)}
		}},
		{"another currency", presentSession(), RuleForwardPurchase, func(_ map[string]string, b map[string]any) {
			b["currency"] = "SEK"
		}},
		{"no subscription", renewal(), RuleSubscriptionData, func(_ map[string]string, b map[string]any) {
			delete(b, "supplementary_purchase_data")
		}},
	}
	fired := make([]bool, len(authorizeChecks))
	for _, tc := range cases {
		o := tc.fixture.op()
		require.Empty(t, checkAuthorize(o, tc.fixture.entry(nil)), "%s: the good authorize broke a rule", tc.name)

		bad := tc.fixture.entry(tc.spoil)
		vs := checkAuthorize(o, bad)
		require.NotEmpty(t, vs, "%s: no rule fired", tc.name)
		for _, v := range vs {
			require.Equal(t, tc.rule, v.Rule, "%s: %s", tc.name, v)
			require.True(t, strings.HasPrefix(v.String(), "broken rule ["+tc.rule.ID+"]: "+tc.rule.Text+": "), v.String())
		}
		for i, c := range authorizeChecks {
			fired[i] = fired[i] || c.check(o, bad) != ""
		}
	}
	for i, f := range fired {
		require.True(t, f, "no case makes row %d (%s) of authorizeChecks fire", i, authorizeChecks[i].rule.ID)
	}
}

func TestAuthorizeMessagesNameTheCall(t *testing.T) {
	t.Parallel()
	f := presentSession()
	o := f.op()
	o.res = &resource{ID: "sess_1"}
	vs := checkAuthorize(o, f.entry(func(h map[string]string, _ map[string]any) { delete(h, "Klarna-Idempotency-Key") }))
	require.Equal(t, Violations{{Rule: RuleIdempotencyKey, Detail: "the authorize for the payment session sess_1 had no Klarna-Idempotency-Key"}}, vs)
}

// TestUndocumentedFieldsNameEachField: a call the mock journaled with warnings (body fields
// Klarna's API reference does not document) is described with each field; a call without
// warnings is not reported.
func TestUndocumentedFieldsNameEachField(t *testing.T) {
	t.Parallel()
	e := presentSession().entry(nil)
	require.Empty(t, undocumentedFields(e))
	e.Warnings = []testkit.JournalWarning{
		{Parameter: "acquirer_order_id", Message: "is not allowed"},
		{Parameter: "supplementary_purchase_data.line_items[0].colour", Message: "is not allowed"},
	}
	require.Equal(t, "POST /v2/accounts/a/payment/authorize carried fields Klarna's API reference (as contracts/ describe it) does not document: "+
		"acquirer_order_id (is not allowed), supplementary_purchase_data.line_items[0].colour (is not allowed)", undocumentedFields(e))
}
