// Package rules decides the outcome of a Payment Authorize call (APPROVED, DECLINED or
// STEP_UP_REQUIRED) from rules that QA can edit in YAML.
//
// A rules document is loaded and compiled once by Load, or by Parse for a document from outside
// the mock's own files (JSON, and bounds on its size); the resulting Set is immutable and safe
// for concurrent use. For every authorize call the service builds a Facts value and calls
// Set.Evaluate, which returns the Decision of the first rule whose conditions all hold. Matching
// does no allocation for ASCII data: substrings are lower-cased at load time and compared with
// ASCII case folding, kinds are bit masks.
//
// The document format, the merge semantics and the default rules are described in
// fixtures/README.md; the defaults live in fixtures/default.yaml.
//
// Two rules of the format matter to code that calls Evaluate:
//   - A rule without a kind condition applies to every kind except KindFinal. A final authorize
//     only matches rules that name "final" explicitly, so a magic value that decided the initial
//     call is not applied again to the final one.
//   - A complete set (see Set.Complete) has, for every Kind, a rule without conditions other than
//     kind, so Evaluate always finds a rule. An incomplete set, a nil set or a Facts value with an
//     unknown Kind yields the Fallback decision.
package rules

import (
	"time"
)

// Kind is the kind of authorize call.
type Kind string

// The kinds of authorize call.
const (
	// KindOneTime is a one-time payment: no customer token is involved.
	KindOneTime Kind = "one_time"
	// KindTokenCreation is an authorize call with request_customer_token (with or without a
	// purchase).
	KindTokenCreation Kind = "token_creation"
	// KindCustomerPresent is a charge of a customer token (Klarna-Customer-Token header) with a
	// step_up_config: the customer can be stepped up.
	KindCustomerPresent Kind = "customer_present"
	// KindCustomerNotPresent is a charge of a customer token without step_up_config: the customer
	// cannot be stepped up.
	KindCustomerNotPresent Kind = "customer_not_present"
	// KindFinal is the final authorize with the network session token of a COMPLETED payment
	// request.
	KindFinal Kind = "final"
)

// Kinds returns every Kind, in the order used in documentation and error messages.
func Kinds() []Kind {
	return []Kind{KindOneTime, KindTokenCreation, KindCustomerPresent, KindCustomerNotPresent, KindFinal}
}

// Valid reports whether k is one of the defined kinds.
func (k Kind) Valid() bool { return kindBit(k) != 0 }

// Result is the outcome of an authorize call as Klarna reports it in
// payment_transaction_response.result.
type Result string

// The possible results.
const (
	// ResultApproved means the payment transaction was authorized.
	ResultApproved Result = "APPROVED"
	// ResultDeclined means the payment was refused.
	ResultDeclined Result = "DECLINED"
	// ResultStepUpRequired means the customer has to go through the Purchase Journey first.
	ResultStepUpRequired Result = "STEP_UP_REQUIRED"
)

// Valid reports whether r is one of the defined results.
func (r Result) Valid() bool {
	switch r {
	case ResultApproved, ResultDeclined, ResultStepUpRequired:
		return true
	}
	return false
}

// Facts are what a rule can look at. The service fills them in from an authorize call; strings
// are used as they come (matching is case-insensitive where the format says so).
type Facts struct {
	// Kind is the kind of authorize call.
	Kind Kind
	// Amount is request_payment_transaction.amount in minor units; HasAmount tells whether the
	// call had a request_payment_transaction at all.
	Amount    int64
	HasAmount bool
	// Currency is the ISO 4217 currency of the call.
	Currency string
	// References holds whichever of payment_transaction_reference, purchase_reference,
	// payment_request_reference and customer_token_reference are present.
	References []string
	// Emails holds supplementary_purchase_data.customer.email, shipping[].recipient.email and the
	// email behind a test network session token.
	Emails []string
	// LineItemNames and LineItemReferences hold line_items[].name and
	// line_items[].line_item_reference.
	LineItemNames      []string
	LineItemReferences []string
	// Scopes holds the requested scopes (token creation) or the charged token's scopes.
	Scopes []string
	// IdentifiedCustomer is true when a valid network session token of an identified, consenting
	// customer came with the call.
	IdentifiedCustomer bool
	// HasSubscriptions and HasOndemandService tell whether supplementary_purchase_data carried
	// subscriptions or an ondemand_service.
	HasSubscriptions   bool
	HasOndemandService bool
}

// CustomerAction is what the simulated customer does by itself in the Purchase Journey once a
// step-up happens.
type CustomerAction string

// The customer actions.
const (
	// CustomerWait means the simulated customer does nothing: a person or an API call drives the
	// journey.
	CustomerWait CustomerAction = ""
	// CustomerApprove means the customer completes the journey: the payment request becomes
	// COMPLETED.
	CustomerApprove CustomerAction = "approve"
	// CustomerDecline means Klarna declines the customer in the journey: the payment request
	// becomes DECLINED.
	CustomerDecline CustomerAction = "decline"
	// CustomerAbandon means the customer leaves the journey: the payment request stays open until
	// it expires.
	CustomerAbandon CustomerAction = "abandon"
)

// Valid reports whether a is one of the defined customer actions (the empty action included).
func (a CustomerAction) Valid() bool {
	switch a {
	case CustomerWait, CustomerApprove, CustomerDecline, CustomerAbandon:
		return true
	}
	return false
}

// Decision is the outcome of the first matching rule.
type Decision struct {
	// Rule is the matching rule's name, for the Klarna-Mock-Rule header, the journal and logs.
	Rule string
	// Source is where the rule was written, as "file:line" (empty for the Fallback decision).
	Source string
	// Result is the outcome of the authorize call.
	Result Result
	// ResultReason is the result_reason to report; it may be empty.
	ResultReason string
	// Customer is what the simulated customer does in the Purchase Journey after a step-up.
	Customer CustomerAction
	// CustomerDelay is how long after the step-up the simulated customer acts.
	CustomerDelay time.Duration
}

// FallbackRule is the Rule of the decision Evaluate returns when no rule matches.
const FallbackRule = "(no matching rule)"

// FallbackReason is the ResultReason of the decision Evaluate returns when no rule matches.
const FallbackReason = "NO_MATCHING_RULE"

// Fallback returns the decision Evaluate gives when no rule matches: DECLINED with result_reason
// NO_MATCHING_RULE. A complete set never yields it for a valid Kind.
func Fallback() Decision {
	return Decision{Rule: FallbackRule, Result: ResultDeclined, ResultReason: FallbackReason}
}

// RuleInfo describes one compiled rule, for documentation, logs and tests.
type RuleInfo struct {
	// Name and Description are as written in the document.
	Name        string
	Description string
	// File and Line tell where the rule starts.
	File string
	Line int
	// Kinds are the kinds the rule applies to (the four initial kinds when the rule has no kind
	// condition).
	Kinds []Kind
	// Conditions are the rule's conditions other than kind, one "key: value" string each, in the
	// document's canonical form (lower-cased substrings, upper-cased currencies).
	Conditions []string
	// CatchAll is true when the rule has no condition other than kind.
	CatchAll bool
	// Decision is what the rule decides.
	Decision Decision
}

// Set is a compiled, immutable list of rules; safe for concurrent use.
type Set struct {
	name    string
	replace bool
	rules   []rule
}

// Name returns the name the set was loaded under; a merged set is named "over + base".
func (s *Set) Name() string {
	if s == nil {
		return ""
	}
	return s.name
}

// ReplacesDefaults reports whether the document asked to replace the defaults
// (replace_defaults: true).
func (s *Set) ReplacesDefaults() bool { return s != nil && s.replace }

// Len returns the number of rules in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// Complete reports whether every Kind has a catch-all rule, that is a rule with no condition
// other than kind, so that Evaluate never returns the Fallback decision for a valid Kind.
func (s *Set) Complete() bool {
	return s != nil && s.catchAllKinds() == allKinds
}

func (s *Set) catchAllKinds() uint8 {
	var covered uint8
	for i := range s.rules {
		if s.rules[i].catchAll {
			covered |= s.rules[i].kinds
		}
	}
	return covered
}

// Rules describes the rules of the set in evaluation order.
func (s *Set) Rules() []RuleInfo {
	if s == nil {
		return nil
	}
	out := make([]RuleInfo, len(s.rules))
	for i := range s.rules {
		r := &s.rules[i]
		out[i] = RuleInfo{
			Name:        r.decision.Rule,
			Description: r.description,
			File:        r.file,
			Line:        r.line,
			Kinds:       maskKinds(r.kinds),
			Conditions:  append([]string(nil), r.conditions...),
			CatchAll:    r.catchAll,
			Decision:    r.decision,
		}
	}
	return out
}

// Evaluate returns the decision of the first rule that matches f. It does not allocate for ASCII
// data and is safe for concurrent use. A nil f is treated as zero Facts. When no rule matches
// (an incomplete set, or an unknown Kind) it returns Fallback().
func (s *Set) Evaluate(f *Facts) Decision {
	if d, ok := s.Lookup(f); ok {
		return d
	}
	return Fallback()
}

// Lookup returns the decision of the first rule that matches f, and false when none does. It is
// Evaluate for a set that is tried before another: Evaluate(Merge(base, over)) decides as
// over.Lookup, then, unless over replaces the defaults, base.Evaluate, without building the
// merged set.
func (s *Set) Lookup(f *Facts) (Decision, bool) {
	if s == nil || f == nil {
		return Decision{}, false
	}
	bit := kindBit(f.Kind)
	if bit == 0 {
		return Decision{}, false
	}
	for i := range s.rules {
		r := &s.rules[i]
		if r.kinds&bit != 0 && r.match(f) {
			return r.decision, true
		}
	}
	return Decision{}, false
}

// Merge returns a set whose rules are over's rules first, then base's, so over wins by order.
// If over declares replace_defaults: true the result is over alone. A nil argument is ignored
// (Merge(nil, nil) is nil). Neither argument is modified.
func Merge(base, over *Set) *Set {
	switch {
	case over == nil:
		return base
	case base == nil || over.replace:
		return over
	}
	merged := make([]rule, 0, len(over.rules)+len(base.rules))
	merged = append(merged, over.rules...)
	merged = append(merged, base.rules...)
	return &Set{name: over.name + " + " + base.name, replace: base.replace, rules: merged}
}
