package rules_test

import (
	"testing"

	"github.com/klarna-mock/klarna-mock/fixtures"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// BenchmarkEvaluateDefaults measures Evaluate with the default rules for calls that fall
// through all six magic rules (the worst case of the defaults) and for one that stops early.
//
//	go test -run '^$' -bench EvaluateDefaults -benchmem ./mockserver/rules/
func BenchmarkEvaluateDefaults(b *testing.B) {
	set, err := fixtures.DefaultSet()
	if err != nil {
		b.Fatal(err)
	}
	plain := func(k rules.Kind) rules.Facts {
		return rules.Facts{
			Kind: k, Amount: 11800, HasAmount: true, Currency: "USD",
			References:         []string{"order-1001-tx", "order-1001", "order-1001-pr"},
			Emails:             []string{"Jane.Doe@Example.com", "shipping.recipient@example.com"},
			LineItemNames:      []string{"Running shoes", "Sports socks"},
			LineItemReferences: []string{"SKU-SHOE-42", "SKU-SOCK-3"},
		}
	}
	cases := []struct {
		name  string
		facts rules.Facts
	}{
		{"one_time", plain(rules.KindOneTime)},
		{"customer_not_present", plain(rules.KindCustomerNotPresent)},
		{"final", plain(rules.KindFinal)},
		{"denied_email", func() rules.Facts {
			f := plain(rules.KindCustomerPresent)
			f.Emails = []string{"john+denied@example.com"}
			return f
		}()},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			f := c.facts
			b.ReportAllocs()
			for b.Loop() {
				_ = set.Evaluate(&f)
			}
		})
	}
}

// BenchmarkLoadDefaults measures compiling the default rules (done once at start).
func BenchmarkLoadDefaults(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rules.Load(fixtures.DefaultName, fixtures.Default); err != nil {
			b.Fatal(err)
		}
	}
}
