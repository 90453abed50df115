package rules_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// oneRule loads a set whose first rule "hit" has the given when (flow YAML) and which ends with
// catch-alls named "miss" and "miss final".
func oneRule(t *testing.T, when string) *rules.Set {
	t.Helper()
	set, err := rules.Load("t.yaml", doc(
		"version: 1",
		"rules:",
		"  - name: hit",
		"    when: "+when,
		"    then: {result: DECLINED}",
		"  - name: miss",
		"    then: {result: APPROVED}",
		"  - name: miss final",
		"    when: {kind: final}",
		"    then: {result: APPROVED}",
	))
	require.NoError(t, err)
	require.True(t, set.Complete())
	return set
}

func TestEvaluateConditions(t *testing.T) {
	t.Parallel()
	oneTime := func(mod func(*rules.Facts)) rules.Facts {
		f := rules.Facts{Kind: rules.KindOneTime, Amount: 11800, HasAmount: true, Currency: "USD"}
		if mod != nil {
			mod(&f)
		}
		return f
	}
	tests := []struct {
		name  string
		when  string
		facts rules.Facts
		hit   bool
	}{
		{"no kind matches an initial kind", "{amount: 11800}", oneTime(nil), true},
		{"no kind never matches final", "{amount: 11800}", oneTime(func(f *rules.Facts) { f.Kind = rules.KindFinal }), false},
		{"explicit final kind", "{kind: final, amount: 11800}", oneTime(func(f *rules.Facts) { f.Kind = rules.KindFinal }), true},
		{"kind list", "{kind: [token_creation, one_time]}", oneTime(nil), true},
		{"other kind", "{kind: customer_present}", oneTime(nil), false},
		{"amount exact miss", "{amount: 11801}", oneTime(nil), false},
		{"amount range inclusive low", "{amount: {min: 11800, max: 20000}}", oneTime(nil), true},
		{"amount range inclusive high", "{amount: {min: 1, max: 11800}}", oneTime(nil), true},
		{"amount range outside", "{amount: {min: 1, max: 11799}}", oneTime(nil), false},
		{"amount list", "{amount: [1, {min: 10000, max: 12000}]}", oneTime(nil), true},
		{"amount needs an amount", "{amount: {max: 100000}}", oneTime(func(f *rules.Facts) { f.HasAmount, f.Amount = false, 0 }), false},
		{"has_amount false", "{has_amount: false}", oneTime(func(f *rules.Facts) { f.HasAmount = false }), true},
		{"has_amount false but amount present", "{has_amount: false}", oneTime(nil), false},
		{"currency any case", "{currency: usd}", oneTime(func(f *rules.Facts) { f.Currency = "Usd" }), true},
		{"currency list", "{currency: [EUR, SEK]}", oneTime(nil), false},
		{"reference substring any case", "{reference_contains: DECLINE}", oneTime(func(f *rules.Facts) { f.References = []string{"a", "order-Declined-1"} }), true},
		{"reference list is any of", "{reference_contains: [zzz, der-1]}", oneTime(func(f *rules.Facts) { f.References = []string{"order-1"} }), true},
		{"reference absent", "{reference_contains: x}", oneTime(nil), false},
		{"email", "{email_contains: +denied@}", oneTime(func(f *rules.Facts) { f.Emails = []string{"JOHN+DENIED@example.com"} }), true},
		{"email is not a reference", "{email_contains: order}", oneTime(func(f *rules.Facts) { f.References = []string{"order"} }), false},
		{"non-ASCII substring", "{line_item_name_contains: ÄPFEL}", oneTime(func(f *rules.Facts) { f.LineItemNames = []string{"Grüne äpfel"} }), true},
		{"line item reference", "{line_item_reference_contains: sku-9}", oneTime(func(f *rules.Facts) { f.LineItemReferences = []string{"SKU-99"} }), true},
		{"scope", "{scope: payment:customer_not_present}", oneTime(func(f *rules.Facts) { f.Scopes = []string{"payment:customer_present", "payment:customer_not_present"} }), true},
		{"scope miss", "{scope: payment:customer_not_present}", oneTime(func(f *rules.Facts) { f.Scopes = []string{"payment:customer_present"} }), false},
		{"identified true", "{identified_customer: true}", oneTime(func(f *rules.Facts) { f.IdentifiedCustomer = true }), true},
		{"identified false", "{identified_customer: false}", oneTime(func(f *rules.Facts) { f.IdentifiedCustomer = true }), false},
		{"subscriptions", "{subscriptions: true}", oneTime(func(f *rules.Facts) { f.HasSubscriptions = true }), true},
		{"ondemand", "{ondemand_service: true}", oneTime(nil), false},
		{"all conditions must hold", "{amount: 11800, currency: EUR}", oneTime(nil), false},
		{"all conditions hold", "{amount: 11800, currency: USD, kind: one_time}", oneTime(nil), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := oneRule(t, tt.when).Evaluate(&tt.facts)
			if tt.hit {
				require.Equal(t, "hit", got.Rule)
				require.Equal(t, rules.ResultDeclined, got.Result)
				require.Equal(t, "t.yaml:3", got.Source)
			} else {
				require.NotEqual(t, "hit", got.Rule)
				require.Equal(t, rules.ResultApproved, got.Result)
			}
		})
	}
}

func TestEvaluateFallback(t *testing.T) {
	t.Parallel()
	partial, err := rules.Load("partial.yaml", doc(
		"version: 1",
		"rules:",
		"  - name: only one-time",
		"    when: {kind: one_time}",
		"    then: {result: APPROVED}",
	))
	require.NoError(t, err)
	require.False(t, partial.Complete())
	require.False(t, partial.ReplacesDefaults())

	want := rules.Decision{Rule: rules.FallbackRule, Result: rules.ResultDeclined, ResultReason: rules.FallbackReason}
	require.Equal(t, want, rules.Fallback())
	require.Equal(t, want, partial.Evaluate(&rules.Facts{Kind: rules.KindFinal}))
	require.Equal(t, want, partial.Evaluate(&rules.Facts{Kind: "bogus"}))
	require.Equal(t, want, partial.Evaluate(nil))
	var nilSet *rules.Set
	require.Equal(t, want, nilSet.Evaluate(&rules.Facts{Kind: rules.KindOneTime}))
	require.False(t, nilSet.Complete())
	require.Zero(t, nilSet.Len())
	require.Nil(t, nilSet.Rules())
	require.Equal(t, "only one-time", partial.Evaluate(&rules.Facts{Kind: rules.KindOneTime}).Rule)
}

func mustLoad(t *testing.T, name string, lines ...string) *rules.Set {
	t.Helper()
	set, err := rules.Load(name, doc(lines...))
	require.NoError(t, err)
	return set
}

func names(s *rules.Set) []string {
	var out []string
	for _, r := range s.Rules() {
		out = append(out, r.Name)
	}
	return out
}

func TestMerge(t *testing.T) {
	t.Parallel()
	base := mustLoad(t, "base.yaml",
		"version: 1",
		"rules:",
		"  - name: base decline",
		"    when: {email_contains: x}",
		"    then: {result: DECLINED}",
		"  - name: base rest",
		"    then: {result: STEP_UP_REQUIRED}",
		"  - name: base final",
		"    when: {kind: final}",
		"    then: {result: APPROVED}",
	)
	over := mustLoad(t, "over.yaml",
		"version: 1",
		"rules:",
		"  - name: over approve",
		"    when: {email_contains: x, kind: one_time}",
		"    then: {result: APPROVED}",
		"  - name: base rest",
		"    when: {amount: 5}",
		"    then: {result: DECLINED, result_reason: SAME_NAME_OK}",
	)
	merged := rules.Merge(base, over)
	require.Equal(t, []string{"over approve", "base rest", "base decline", "base rest", "base final"}, names(merged))
	require.Equal(t, "over.yaml + base.yaml", merged.Name())
	require.True(t, merged.Complete())
	require.False(t, merged.ReplacesDefaults())

	tests := []struct {
		facts      rules.Facts
		rule, from string
	}{
		{rules.Facts{Kind: rules.KindOneTime, Emails: []string{"x"}}, "over approve", "over.yaml:3"},
		{rules.Facts{Kind: rules.KindCustomerPresent, Emails: []string{"x"}}, "base decline", "base.yaml:3"},
		{rules.Facts{Kind: rules.KindCustomerPresent, Amount: 5, HasAmount: true}, "base rest", "over.yaml:6"},
		{rules.Facts{Kind: rules.KindCustomerPresent}, "base rest", "base.yaml:6"},
		{rules.Facts{Kind: rules.KindFinal, Emails: []string{"x"}}, "base final", "base.yaml:8"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s %v", tt.facts.Kind, tt.facts.Emails), func(t *testing.T) {
			t.Parallel()
			d := merged.Evaluate(&tt.facts)
			require.Equal(t, tt.rule, d.Rule)
			require.Equal(t, tt.from, d.Source)
		})
	}

	// The inputs are untouched, and nil arguments are ignored.
	require.Equal(t, []string{"base decline", "base rest", "base final"}, names(base))
	require.Equal(t, []string{"over approve", "base rest"}, names(over))
	require.Same(t, base, rules.Merge(base, nil))
	require.Same(t, over, rules.Merge(nil, over))
	require.Nil(t, rules.Merge(nil, nil))
}

func TestMergeReplaceDefaults(t *testing.T) {
	t.Parallel()
	base := mustLoad(t, "base.yaml",
		"version: 1",
		"rules:",
		"  - name: base",
		"    when: {kind: [one_time, token_creation, customer_present, customer_not_present, final]}",
		"    then: {result: APPROVED}",
	)
	over := mustLoad(t, "over.yaml",
		"version: 1",
		"replace_defaults: true",
		"rules:",
		"  - name: decline",
		"    then: {result: DECLINED}",
		"  - name: final",
		"    when: {kind: final}",
		"    then: {result: APPROVED}",
	)
	require.True(t, over.ReplacesDefaults())
	require.False(t, base.ReplacesDefaults())
	merged := rules.Merge(base, over)
	require.Same(t, over, merged)
	require.Equal(t, []string{"decline", "final"}, names(merged))
	for _, k := range rules.Kinds() {
		want := rules.ResultDeclined
		if k == rules.KindFinal {
			want = rules.ResultApproved
		}
		require.Equal(t, want, merged.Evaluate(&rules.Facts{Kind: k}).Result, k)
	}
}

func TestEvaluateConcurrently(t *testing.T) {
	t.Parallel()
	set := oneRule(t, "{email_contains: +denied@}")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				f := rules.Facts{Kind: rules.KindOneTime, Emails: []string{fmt.Sprintf("u%d-%d+denied@x.com", i, j)}}
				if set.Evaluate(&f).Rule != "hit" {
					t.Errorf("goroutine %d: no hit", i)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestEvaluateDoesNotAllocate is not parallel: testing.AllocsPerRun refuses to run in a parallel
// test, since other tests' allocations would be counted.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	set := oneRule(t, "{email_contains: [+denied@, +stepup@], reference_contains: DECLINE, currency: [usd, eur], amount: {min: 1}}")
	f := rules.Facts{
		Kind: rules.KindOneTime, Amount: 11800, HasAmount: true, Currency: "USD",
		References: []string{"order-1001-tx", "order-1001"}, Emails: []string{"Jane.Doe@Example.com"},
	}
	allocs := testing.AllocsPerRun(100, func() { _ = set.Evaluate(&f) })
	require.Zero(t, allocs)
}

func TestKindsResultsActions(t *testing.T) {
	t.Parallel()
	require.Len(t, rules.Kinds(), 5)
	for _, k := range rules.Kinds() {
		require.True(t, k.Valid(), k)
	}
	require.False(t, rules.Kind("ONE_TIME").Valid())
	for _, r := range []rules.Result{rules.ResultApproved, rules.ResultDeclined, rules.ResultStepUpRequired} {
		require.True(t, r.Valid())
		require.Equal(t, strings.ToUpper(string(r)), string(r))
	}
	require.False(t, rules.Result("approved").Valid())
	for _, a := range []rules.CustomerAction{rules.CustomerWait, rules.CustomerApprove, rules.CustomerDecline, rules.CustomerAbandon} {
		require.True(t, a.Valid())
	}
	require.False(t, rules.CustomerAction("wait").Valid())
}
