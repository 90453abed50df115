package rules_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// doc builds a document from lines, so that line numbers in the tests are easy to count.
func doc(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		data   []byte
		line   int
		reason string
	}{
		// Empty and syntax-broken documents.
		{"empty file", []byte(""), 1, "the document is empty"},
		{"only comments", doc("# nothing here", "# at all"), 1, "the document is empty"},
		{"only a document marker", doc("---"), 1, "the document is empty"},
		{"unclosed flow mapping", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then: {result: APPROVED",
		), 4, "YAML syntax error"},
		{"tab indentation", doc(
			"version: 1",
			"rules:",
			"\t- name: x",
		), 3, "YAML syntax error"},
		{"bad indentation", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when: {kind: one_time}",
			"   then: {result: APPROVED}",
		), 5, "YAML syntax error"},
		{"bad indentation after a multi-line flow mapping", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when: {",
			"      kind: one_time }",
			"    then: {result: APPROVED}",
			"  - name: b",
			"     then: {result: APPROVED}",
		), 8, "YAML syntax error"},
		{"unclosed quote", doc(
			"version: 1",
			"rules:",
			"  - name: ok",
			"    then: {result: APPROVED}",
			"  - name: \"broken",
		), 5, "YAML syntax error"},
		{"second document", doc(
			"version: 1",
			"rules: [{name: a, then: {result: APPROVED}}]",
			"---",
			"version: 1",
		), 4, "a second YAML document"},

		// Document structure.
		{"document is a list", doc("- version: 1"), 1, "the document must be a mapping"},
		{"unknown top-level key", doc(
			"version: 1",
			"replace_default: true",
			"rules: [{name: a, then: {result: APPROVED}}]",
		), 2, `unknown key "replace_default" (did you mean "replace_defaults"?)`},
		{"duplicate top-level key", doc(
			"version: 1",
			"rules: [{name: a, then: {result: APPROVED}}]",
			"version: 1",
		), 3, "version is given twice (first at line 1)"},
		{"missing version", doc(
			"replace_defaults: false",
			"rules: [{name: a, then: {result: APPROVED}}]",
		), 1, "version is missing"},
		{"wrong version", doc(
			"rules: [{name: a, then: {result: APPROVED}}]",
			"version: 2",
		), 2, "not version 2"},
		{"version is text", doc(
			"version: one",
			"rules: [{name: a, then: {result: APPROVED}}]",
		), 1, `version must be a whole number, not "one"`},
		{"replace_defaults is not a boolean", doc(
			"version: 1",
			"replace_defaults: yes",
			"rules: [{name: a, then: {result: APPROVED}}]",
		), 2, `replace_defaults must be true or false, not "yes"`},
		{"missing rules", doc("version: 1"), 1, "rules is missing"},
		{"empty rules", doc("version: 1", "rules: []"), 2, "rules is empty"},
		{"rules is a mapping", doc("version: 1", "rules:", "  a: b"), 3, "rules must be a list of rules, not a mapping"},

		// Rules.
		{"rule is a text", doc("version: 1", "rules:", "  - just text"), 3, `rule #1 must be a mapping`},
		{"unknown rule key", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    than: {result: APPROVED}",
		), 4, `rule "a": unknown key "than" (did you mean "then"?)`},
		{"missing name", doc(
			"version: 1",
			"rules:",
			"  - when: {kind: final}",
			"    then: {result: APPROVED}",
		), 3, "rule #1: name is missing"},
		{"empty name", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then: {result: APPROVED}",
			"  - name: \"  \"",
			"    when: {kind: final}",
			"    then: {result: APPROVED}",
		), 5, "rule #2: name is empty"},
		{"name is a list", doc(
			"version: 1",
			"rules:",
			"  - name: [a, b]",
			"    then: {result: APPROVED}",
		), 3, "name must be a text, not a list"},
		{"duplicate names", doc(
			"version: 1",
			"rules:",
			"  - name: same",
			"    when: {kind: one_time}",
			"    then: {result: APPROVED}",
			"  - name: other",
			"    when: {kind: final}",
			"    then: {result: APPROVED}",
			"  - name: same",
			"    when: {kind: token_creation}",
			"    then: {result: APPROVED}",
		), 9, `duplicate rule name "same" (first used at line 3)`},
		{"missing then", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when: {kind: final}",
		), 3, `rule "a": then is missing`},

		// Conditions.
		{"unknown condition", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      kind: one_time",
			"      emial_contains: x",
			"    then: {result: DECLINED}",
		), 6, `unknown key "emial_contains" (did you mean "email_contains"?)`},
		{"when is a list", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      - kind: one_time",
			"    then: {result: DECLINED}",
		), 5, `rule "a": when must be a mapping`},
		{"unknown kind", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      kind:",
			"        - one_time",
			"        - onetime",
			"    then: {result: DECLINED}",
		), 7, `unknown kind "onetime"`},
		{"empty kind list", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when: {kind: []}",
			"    then: {result: DECLINED}",
		), 4, "when.kind: the list is empty"},
		{"kind is a mapping", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      kind: {one_time: true}",
			"    then: {result: DECLINED}",
		), 5, "when.kind must be a text, not a mapping"},
		{"unknown scope", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      scope: payment:customer_absent",
			"    then: {result: DECLINED}",
		), 5, `unknown scope "payment:customer_absent"`},
		{"bad currency", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      currency: [USD, EURO]",
			"    then: {result: DECLINED}",
		), 5, `"EURO" is not a currency code`},
		{"amount min greater than max", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      amount:",
			"        min: 5000",
			"        max: 100",
			"    then: {result: DECLINED}",
		), 7, "when.amount: min 5000 is greater than max 100"},
		{"negative amount", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      amount: [100, -5]",
			"    then: {result: DECLINED}",
		), 5, "-5 is negative"},
		{"amount is text", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      amount: 133.00",
			"    then: {result: DECLINED}",
		), 5, "when.amount must be a whole number, not the number 133.00"},
		{"empty amount range", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      amount: {}",
			"    then: {result: DECLINED}",
		), 5, "give min, max or both"},
		{"unknown amount key", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      amount: {min: 1, maximum: 5}",
			"    then: {result: DECLINED}",
		), 5, `unknown key "maximum" (did you mean "max"?)`},
		{"boolean condition is text", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      kind: token_creation",
			"      identified_customer: \"true\"",
			"    then: {result: DECLINED}",
		), 6, `identified_customer must be true or false, not "true"`},
		{"empty substring", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      email_contains: \"\"",
			"    then: {result: DECLINED}",
		), 5, "an empty text matches everything"},
		{"null substring", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    when:",
			"      reference_contains:",
			"    then: {result: DECLINED}",
		), 5, "reference_contains must be a text, not nothing (null)"},

		// Decisions.
		{"unknown result", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: APPROVE",
		), 5, `unknown result "APPROVE"`},
		{"result is a list", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: [APPROVED]",
		), 5, "then.result must be a text, not a list"},
		{"missing result", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result_reason: RISK_REJECTED",
		), 5, "then.result is missing"},
		{"lower-case result reason", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: DECLINED",
			"      result_reason: risk_rejected",
		), 6, `"risk_rejected" is not an UPPER_SNAKE_CASE reason`},
		{"unknown customer action", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: STEP_UP_REQUIRED",
			"      customer:",
			"        action: approved",
			"        after: 2s",
		), 7, `unknown customer action "approved"`},
		{"missing customer action", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: STEP_UP_REQUIRED",
			"      customer:",
			"        after: 2s",
		), 7, "then.customer: action is missing"},
		{"bad duration", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: STEP_UP_REQUIRED",
			"      customer:",
			"        action: approve",
			"        after: 2 seconds",
		), 8, `"2 seconds" is not a duration`},
		{"duration without unit", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: STEP_UP_REQUIRED",
			"      customer: {action: approve, after: 2}",
		), 6, `"2" is not a duration`},
		{"negative duration", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: STEP_UP_REQUIRED",
			"      customer:",
			"        action: approve",
			"        after: -1s",
		), 8, "-1s is negative"},
		{"too long duration", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: STEP_UP_REQUIRED",
			"      customer:",
			"        action: abandon",
			"        after: 49h",
		), 8, "49h is longer than 48h0m0s"},
		{"customer on a decline", doc(
			"version: 1",
			"rules:",
			"  - name: a",
			"    then:",
			"      result: DECLINED",
			"      customer:",
			"        action: approve",
		), 7, "then.customer only applies to STEP_UP_REQUIRED"},

		// Whole-set checks.
		{"unreachable rule", doc(
			"version: 1",
			"rules:",
			"  - name: everything",
			"    then: {result: APPROVED}",
			"  - name: too late",
			"    when: {email_contains: x}",
			"    then: {result: DECLINED}",
		), 5, `rule "too late" can never match: the catch-all rules above it ("everything" at line 3)`},
		{"replace without final", doc(
			"version: 1",
			"replace_defaults: true",
			"rules:",
			"  - name: everything",
			"    then: {result: DECLINED}",
		), 2, "none decides final"},
		{"replace with conditions only", doc(
			"version: 1",
			"rules:",
			"  - name: big",
			"    when: {amount: {min: 100}}",
			"    then: {result: DECLINED}",
			"replace_defaults: true",
		), 6, "none decides one_time, token_creation, customer_present, customer_not_present, final"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := rules.Load("qa.yaml", tt.data)
			require.Error(t, err)
			require.Nil(t, set)
			var e *rules.Error
			require.True(t, errors.As(err, &e), "error %v is not a *rules.Error", err)
			require.Equal(t, "qa.yaml", e.File)
			require.Equal(t, tt.line, e.Line, "error: %v", err)
			require.Contains(t, e.Reason, tt.reason)
			require.True(t, strings.HasPrefix(err.Error(), e.Error()))
			require.Regexp(t, `^qa\.yaml:\d+: `, err.Error())
		})
	}
}

func TestLoadReportsSeveralProblems(t *testing.T) {
	t.Parallel()
	_, err := rules.Load("qa.yaml", doc(
		"version: 1",
		"rules:",
		"  - name: a",
		"    when: {kind: onetime}",
		"    then: {result: APPROVED}",
		"  - name: b",
		"    then: {result: NOPE}",
	))
	require.Error(t, err)
	require.Equal(t,
		"qa.yaml:4: rule \"a\": when.kind: unknown kind \"onetime\" (want one of one_time, token_creation, customer_present, customer_not_present, final)\n"+
			"qa.yaml:7: rule \"b\": then.result: unknown result \"NOPE\" (want APPROVED, DECLINED or STEP_UP_REQUIRED)",
		err.Error())
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	_, err := rules.LoadFile(t.TempDir() + "/missing.yaml")
	require.ErrorContains(t, err, "missing.yaml")
}

func TestLoadAcceptsAllForms(t *testing.T) {
	t.Parallel()
	set, err := rules.Load("qa.yaml", doc(
		"version: 1",
		"replace_defaults: true",
		"rules:",
		"  - name: every condition",
		"    description: uses them all",
		"    when:",
		"      kind: [one_time, customer_present]",
		"      amount: [13300, {min: 1, max: 999}, {min: 100000}, {max: 5}]",
		"      has_amount: true",
		"      currency: [usd, Eur]",
		"      reference_contains: [Order-, 4711]",
		"      email_contains: \"+QA@\"",
		"      line_item_name_contains: Shoe",
		"      line_item_reference_contains: [SKU-]",
		"      scope: [payment:customer_present, payment:customer_not_present]",
		"      identified_customer: false",
		"      subscriptions: false",
		"      ondemand_service: false",
		"    then:",
		"      result: STEP_UP_REQUIRED",
		"      result_reason: CUSTOMER_AUTHENTICATION_REQUIRED",
		"      customer: {action: approve, after: 1m30s}",
		"  - name: anchors work",
		"    when: &big {amount: {min: 100000}}",
		"    then: {result: DECLINED}",
		"  - name: anchors work again",
		"    when: *big",
		"    then: {result: APPROVED}",
		"  - name: null when is a catch-all",
		"    when:",
		"    then: {result: APPROVED}",
		"  - name: final",
		"    when: {kind: final}",
		"    then: {result: APPROVED}",
	))
	require.NoError(t, err)
	require.True(t, set.ReplacesDefaults())
	require.True(t, set.Complete())
	require.Equal(t, 5, set.Len())
	require.Equal(t, "qa.yaml", set.Name())

	info := set.Rules()
	require.Equal(t, rules.RuleInfo{
		Name:        "every condition",
		Description: "uses them all",
		File:        "qa.yaml",
		Line:        4,
		Kinds:       []rules.Kind{rules.KindOneTime, rules.KindCustomerPresent},
		Conditions: []string{
			"amount: 13300, 1..999, >= 100000, 0..5",
			"has_amount: true",
			"currency: USD, EUR",
			`reference_contains: "order-", "4711"`,
			`email_contains: "+qa@"`,
			`line_item_name_contains: "shoe"`,
			`line_item_reference_contains: "sku-"`,
			"scope: payment:customer_present, payment:customer_not_present",
			"identified_customer: false",
			"subscriptions: false",
			"ondemand_service: false",
		},
		Decision: rules.Decision{
			Rule:          "every condition",
			Source:        "qa.yaml:4",
			Result:        rules.ResultStepUpRequired,
			ResultReason:  "CUSTOMER_AUTHENTICATION_REQUIRED",
			Customer:      rules.CustomerApprove,
			CustomerDelay: 90 * time.Second,
		},
	}, info[0])
	require.Equal(t, []string{"amount: >= 100000"}, info[1].Conditions)
	require.Equal(t, []string{"amount: >= 100000"}, info[2].Conditions)
	require.True(t, info[3].CatchAll)
	require.Equal(t, []rules.Kind{rules.KindOneTime, rules.KindTokenCreation, rules.KindCustomerPresent, rules.KindCustomerNotPresent}, info[3].Kinds)
	require.Equal(t, []rules.Kind{rules.KindFinal}, info[4].Kinds)

	f := rules.Facts{
		Kind: rules.KindCustomerPresent, Amount: 500, HasAmount: true, Currency: "EUR",
		References: []string{"ORDER-1"}, Emails: []string{"Jane+qa@Example.com"},
		LineItemNames: []string{"Running SHOES"}, LineItemReferences: []string{"sku-1"},
		Scopes: []string{"payment:customer_present"},
	}
	require.Equal(t, "every condition", set.Evaluate(&f).Rule)
}
