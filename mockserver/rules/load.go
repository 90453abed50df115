package rules

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Version is the only rules document version this package reads.
const Version = 1

// MaxCustomerDelay is the longest customer.after a rule may ask for: the longest interaction
// expiry a payment request can have.
const MaxCustomerDelay = 48 * time.Hour

// maxErrors bounds how many problems one Load reports.
const maxErrors = 20

// MaxNameLength is the longest rule name, in bytes: the name of the rule that decided an
// authorize call is sent in a response header and written in logs.
const MaxNameLength = 200

// The scopes a customer token can have.
const (
	// ScopeCustomerPresent lets a token be charged with the customer present (step-up possible).
	ScopeCustomerPresent = "payment:customer_present"
	// ScopeCustomerNotPresent lets a token be charged without the customer (subscriptions).
	ScopeCustomerNotPresent = "payment:customer_not_present"
)

// Error is one problem in a rules document. Load returns either one *Error or, when a document
// has several problems, an error that wraps each of them (use errors.As to get the first).
type Error struct {
	// File is the name given to Load.
	File string
	// Line is the 1-based line of the problem.
	Line int
	// Reason says what is wrong.
	Reason string
}

// Error formats the problem as "file:line: reason".
func (e *Error) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// Errors returns the problems an error of Load or Parse reports, in line order, or nil when err
// is none of theirs.
func Errors(err error) []*Error {
	var out []*Error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			out = append(out, Errors(e)...)
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		out = append(out, e)
	}
	return out
}

// LoadFile reads the file at path and loads it with Load, naming it by path in errors.
func LoadFile(path string) (*Set, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return Load(path, data)
}

// Load parses and compiles a rules document. name is used in errors, which read
// "name:line: reason". Parsing is strict: unknown keys, values of the wrong type, unknown
// results, kinds, scopes or customer actions, bad durations, empty ranges, empty, duplicate,
// overlong or multi-line rule names, rules that can never match and a replace_defaults document
// without a catch-all rule for every kind are all errors.
func Load(name string, data []byte) (*Set, error) { return Parse(name, data, Options{}) }

// Options tune Parse for documents that come from elsewhere than the mock's own files, such as
// a tenant's rules sent over HTTP. The zero value is what Load does.
type Options struct {
	// JSON says that data is JSON. It is checked as JSON first, so that a syntax error is
	// reported with JSON's reason and its line, and then read as the YAML document it also is.
	JSON bool
	// MaxRules, when positive, refuses a document with more rules.
	MaxRules int
	// MaxValues, when positive, refuses a document whose conditions list more values (texts,
	// amounts, kinds, ...) in all, counting each use of a YAML alias again: it bounds what a
	// small document with aliases can make the mock compile and keep.
	MaxValues int
}

// Parse is Load with options: it parses and compiles a rules document and reports its problems
// as Load does, with the same line-and-reason errors.
func Parse(name string, data []byte, opt Options) (*Set, error) {
	p := &parser{file: name, maxRules: opt.MaxRules, maxValues: opt.MaxValues}
	if opt.JSON {
		var ok bool
		if data, ok = p.json(data); !ok {
			return nil, p.err()
		}
	}
	root := p.document(data)
	var set *Set
	if root != nil {
		set = p.set(root)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return set, nil
}

// parser collects the problems of one document.
type parser struct {
	file string
	errs []error // each an *Error
	// maxRules and maxValues are Options.MaxRules and Options.MaxValues; values counts the
	// condition values read so far.
	maxRules, maxValues, values int
}

// errorf records a problem at line; past maxErrors the rest are dropped.
func (p *parser) errorf(line int, format string, args ...any) {
	if len(p.errs) < maxErrors {
		p.errs = append(p.errs, &Error{File: p.file, Line: max(line, 1), Reason: fmt.Sprintf(format, args...)})
	}
}

// err returns the problems found, in line order.
func (p *parser) err() error {
	slices.SortStableFunc(p.errs, func(a, b error) int {
		return cmp.Compare(a.(*Error).Line, b.(*Error).Line)
	})
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	}
	return errors.Join(p.errs...)
}

// The keys each mapping of a rules document may have, and the forms of its texts.
var (
	topKeys      = []string{"version", "replace_defaults", "rules"}
	ruleKeys     = []string{"name", "description", "when", "then"}
	thenKeys     = []string{"result", "result_reason", "customer"}
	customerKeys = []string{"action", "after"}
	rangeKeys    = []string{"min", "max"}
	whenKeys     = []string{
		"kind", "amount", "has_amount", "currency", "reference_contains", "email", "email_contains",
		"line_item_name_contains", "line_item_reference_contains", "scope", "identified_customer",
		"subscriptions", "ondemand_service",
	}
	resultReasonRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)
	currencyRE     = regexp.MustCompile(`^[A-Za-z]{3}$`)
)

// set compiles the root mapping.
func (p *parser) set(root *yaml.Node) *Set {
	fs, ok := p.fields(root, "the document", topKeys)
	if !ok {
		return nil
	}
	s := &Set{name: p.file}
	var rulesNode *yaml.Node
	replaceLine, rulesLine, haveVersion := 0, 0, false
	for _, f := range fs {
		switch f.key.Value {
		case "version":
			haveVersion = true
			if v, ok := p.integer(f.val, "version"); ok && v != Version {
				p.errorf(f.val.Line, "version: this mock reads version %d documents, not version %d", Version, v)
			}
		case "replace_defaults":
			s.replace, _ = p.boolean(f.val, "replace_defaults")
			replaceLine = f.val.Line
		case "rules":
			rulesNode, rulesLine = f.val, f.key.Line
		}
	}
	if !haveVersion {
		p.errorf(root.Line, "version is missing: start the document with \"version: %d\"", Version)
	}
	if rulesNode == nil {
		p.errorf(root.Line, "rules is missing: the document needs a list of rules")
		return nil
	}
	if rulesNode.Kind != yaml.SequenceNode {
		p.errorf(rulesNode.Line, "rules must be a list of rules, not %s", describe(rulesNode))
		return nil
	}
	if len(rulesNode.Content) == 0 {
		p.errorf(rulesNode.Line, "rules is empty: give at least one rule")
		return nil
	}
	if p.maxRules > 0 && len(rulesNode.Content) > p.maxRules {
		p.errorf(rulesLine, "rules: the document has %d rules, more than the %d it may have", len(rulesNode.Content), p.maxRules)
		return nil
	}
	names := make(map[string]int, len(rulesNode.Content))
	for i, rn := range rulesNode.Content {
		if r, ok := p.rule(deref(rn), i, names); ok {
			s.rules = append(s.rules, r)
		}
	}
	if len(p.errs) > 0 {
		return nil
	}
	p.checkReachable(s)
	if s.replace {
		if missing := allKinds &^ s.catchAllKinds(); missing != 0 {
			p.errorf(replaceLine, "replace_defaults: true needs a catch-all rule (one whose when has no condition other than kind) for every kind, "+
				"and none decides %s; end the file with such a rule, for example: {name: everything else, when: {kind: [%s]}, then: {result: APPROVED}} "+
				"(a rule without kind does not apply to final authorizes)",
				kindList(missing), kindList(missing))
		}
	}
	return s
}

// checkReachable reports rules that earlier catch-all rules of the same document make unreachable.
func (p *parser) checkReachable(s *Set) {
	var covered uint8
	var coveredBy []string
	for i := range s.rules {
		r := &s.rules[i]
		if r.kinds&^covered == 0 {
			p.errorf(r.line, "rule %q can never match: the catch-all rules above it (%s) already decide every %s call",
				r.decision.Rule, strings.Join(coveredBy, ", "), kindList(r.kinds))
			continue
		}
		if r.catchAll {
			covered |= r.kinds
			coveredBy = append(coveredBy, fmt.Sprintf("%q at line %d", r.decision.Rule, r.line))
		}
	}
}

// rule compiles one rule. names maps the rule names seen so far to their lines.
func (p *parser) rule(n *yaml.Node, index int, names map[string]int) (rule, bool) {
	where := fmt.Sprintf("rule #%d", index+1)
	if name := mappingText(n, "name"); name != "" {
		where = fmt.Sprintf("rule %q", name) // for messages about the rule's own keys
	}
	before := len(p.errs)
	fs, ok := p.fields(n, where, ruleKeys)
	if !ok {
		return rule{}, false
	}
	badKeys := len(p.errs) > before
	where = fmt.Sprintf("rule #%d", index+1)
	r := rule{file: p.file, line: n.Line, kinds: initialKinds}
	var when, then *yaml.Node
	for _, f := range fs {
		if f.key.Value != "name" {
			continue
		}
		name, ok := p.text(f.val, where+": name")
		if !ok {
			break
		}
		name = strings.TrimSpace(name)
		if reason := badName(name); reason != "" {
			p.errorf(f.val.Line, "%s: %s", where, reason)
			break
		}
		if first, dup := names[name]; dup {
			p.errorf(f.val.Line, "%s: duplicate rule name %q (first used at line %d)", where, name, first)
		} else {
			names[name] = f.val.Line
		}
		r.decision.Rule = name
		where = fmt.Sprintf("rule %q", name)
	}
	if r.decision.Rule == "" && len(p.errs) == before {
		p.errorf(n.Line, "%s: name is missing: give every rule a name", where)
	}
	for _, f := range fs {
		switch f.key.Value {
		case "description":
			r.description, _ = p.text(f.val, where+": description")
		case "when":
			when = f.val
		case "then":
			then = f.val
		}
	}
	if when != nil && !isNull(when) {
		p.when(when, where, &r)
	}
	r.catchAll = len(r.conditions) == 0
	switch {
	case then != nil:
		p.then(then, where, &r)
	case !badKeys: // else a misspelt then has been reported already
		p.errorf(n.Line, "%s: then is missing: say what the rule decides, for example then: {result: APPROVED}", where)
	}
	r.decision.Source = fmt.Sprintf("%s:%d", p.file, r.line)
	return r, len(p.errs) == before
}

// badName says what is wrong with a rule's name, or returns "" for a good one.
func badName(name string) string {
	switch {
	case name == "":
		return "name is empty: give every rule a name"
	case strings.ContainsFunc(name, unicode.IsControl):
		return "name holds a line break or another control character: a name is one line of text, sent in the Klarna-Mock-Rule header"
	case len(name) > MaxNameLength:
		return fmt.Sprintf("name is %d bytes long, more than %d", len(name), MaxNameLength)
	}
	return ""
}

// when compiles the conditions of a rule into r.
func (p *parser) when(n *yaml.Node, where string, r *rule) {
	fs, ok := p.fields(n, where+": when", whenKeys)
	if !ok {
		return
	}
	for _, f := range fs {
		key := f.key.Value
		what := where + ": when." + key
		switch key {
		case "kind":
			r.kinds = p.kinds(f.val, what)
		case "amount":
			r.amounts = p.amounts(f.val, what)
			if r.amounts != nil {
				r.conditions = append(r.conditions, key+": "+formatAmounts(r.amounts))
			}
		case "currency":
			r.currencies = p.words(f.val, what, key, r, func(v textValue) (string, bool) {
				if !currencyRE.MatchString(v.s) {
					p.errorf(v.line, "%s: %q is not a currency code (three letters, such as USD)", what, v.s)
					return "", false
				}
				return strings.ToUpper(v.s), true
			})
		case "scope":
			r.scopes = p.words(f.val, what, key, r, func(v textValue) (string, bool) {
				if v.s != ScopeCustomerPresent && v.s != ScopeCustomerNotPresent {
					p.errorf(v.line, "%s: unknown scope %q (want %s or %s)", what, v.s, ScopeCustomerPresent, ScopeCustomerNotPresent)
					return "", false
				}
				return v.s, true
			})
		case "reference_contains":
			r.references = p.needles(f.val, what, key, r)
		case "email_contains":
			r.emails = p.needles(f.val, what, key, r)
		case "email":
			r.exactEmails = p.textCondition(f.val, what, key, r, "an empty email matches no call; remove the condition instead")
		case "line_item_name_contains":
			r.lineItemNames = p.needles(f.val, what, key, r)
		case "line_item_reference_contains":
			r.lineItemRefs = p.needles(f.val, what, key, r)
		case "has_amount":
			r.hasAmount = p.tri(f.val, what, key, r)
		case "identified_customer":
			r.identified = p.tri(f.val, what, key, r)
		case "subscriptions":
			r.subscription = p.tri(f.val, what, key, r)
		case "ondemand_service":
			r.ondemand = p.tri(f.val, what, key, r)
		}
	}
}

// then compiles the decision of a rule into r.
func (p *parser) then(n *yaml.Node, where string, r *rule) {
	fs, ok := p.fields(n, where+": then", thenKeys)
	if !ok {
		return
	}
	var customer *yaml.Node
	for _, f := range fs {
		what := where + ": then." + f.key.Value
		switch f.key.Value {
		case "result":
			s, ok := p.text(f.val, what)
			if !ok {
				continue
			}
			if res := Result(s); !res.Valid() {
				p.errorf(f.val.Line, "%s: unknown result %q (want APPROVED, DECLINED or STEP_UP_REQUIRED)", what, s)
			} else {
				r.decision.Result = res
			}
		case "result_reason":
			s, ok := p.text(f.val, what)
			if !ok {
				continue
			}
			if !resultReasonRE.MatchString(s) || len(s) > 100 {
				p.errorf(f.val.Line, "%s: %q is not an UPPER_SNAKE_CASE reason such as RISK_REJECTED", what, s)
			} else {
				r.decision.ResultReason = s
			}
		case "customer":
			customer = f.val
		}
	}
	if r.decision.Result == "" {
		if !hasKey(fs, "result") {
			p.errorf(n.Line, "%s: then.result is missing (want APPROVED, DECLINED or STEP_UP_REQUIRED)", where)
		}
		return
	}
	if customer != nil {
		if r.decision.Result != ResultStepUpRequired {
			p.errorf(customer.Line, "%s: then.customer only applies to STEP_UP_REQUIRED (the simulated customer acts in the Purchase Journey), not to %s",
				where, r.decision.Result)
			return
		}
		p.customer(customer, where+": then.customer", r)
	}
}

// customer compiles then.customer into r.
func (p *parser) customer(n *yaml.Node, where string, r *rule) {
	fs, ok := p.fields(n, where, customerKeys)
	if !ok {
		return
	}
	for _, f := range fs {
		what := where + "." + f.key.Value
		s, ok := p.text(f.val, what)
		if !ok {
			continue
		}
		switch f.key.Value {
		case "action":
			a := CustomerAction(s)
			if a == CustomerWait || !a.Valid() {
				p.errorf(f.val.Line, "%s: unknown customer action %q (want approve, decline or abandon; leave customer out to wait for a person or an API call)", what, s)
				continue
			}
			r.decision.Customer = a
		case "after":
			d, err := time.ParseDuration(s)
			switch {
			case err != nil:
				p.errorf(f.val.Line, "%s: %q is not a duration (write it like 2s, 500ms or 1m30s)", what, s)
			case d < 0:
				p.errorf(f.val.Line, "%s: %s is negative", what, s)
			case d > MaxCustomerDelay:
				p.errorf(f.val.Line, "%s: %s is longer than %s, the longest a payment request can stay open", what, s, MaxCustomerDelay)
			default:
				r.decision.CustomerDelay = d
			}
		}
	}
	if !hasKey(fs, "action") {
		p.errorf(n.Line, "%s: action is missing (want approve, decline or abandon)", where)
	}
}

// kinds compiles a kind condition: one kind or a list.
func (p *parser) kinds(n *yaml.Node, what string) uint8 {
	var mask uint8
	for _, v := range p.texts(n, what) {
		bit := kindBit(Kind(v.s))
		if bit == 0 {
			p.errorf(v.line, "%s: unknown kind %q (want one of %s)", what, v.s, kindList(allKinds))
			continue
		}
		mask |= bit
	}
	if mask == 0 {
		return initialKinds // an error has been reported; keep the rule well-formed
	}
	return mask
}

// amounts compiles an amount condition: a number, a {min, max} range, or a list of them.
func (p *parser) amounts(n *yaml.Node, what string) []amountRange {
	var out []amountRange
	for _, it := range p.items(n, what) {
		it = deref(it)
		switch it.Kind {
		case yaml.ScalarNode:
			if v, ok := p.amount(it, what); ok {
				out = append(out, amountRange{min: v, max: v})
			}
		case yaml.MappingNode:
			if a, ok := p.amountRange(it, what); ok {
				out = append(out, a)
			}
		default:
			p.errorf(it.Line, "%s must be an amount in minor units, a {min, max} range or a list of them, not %s", what, describe(it))
		}
	}
	return out
}

// amountRange compiles a {min, max} range; either bound may be left out.
func (p *parser) amountRange(n *yaml.Node, what string) (amountRange, bool) {
	fs, _ := p.fields(n, what, rangeKeys)
	a, ok := amountRange{min: 0, max: math.MaxInt64}, true
	for _, f := range fs {
		v, good := p.amount(f.val, what+"."+f.key.Value)
		if !good {
			ok = false
			continue
		}
		if f.key.Value == "min" {
			a.min = v
		} else {
			a.max = v
		}
	}
	switch {
	case len(fs) == 0 && len(n.Content) == 0:
		p.errorf(n.Line, "%s: give min, max or both", what)
	case !ok:
	case a.min > a.max:
		p.errorf(valueOf(fs, "max").Line, "%s: min %d is greater than max %d", what, a.min, a.max)
	default:
		return a, true
	}
	return amountRange{}, false
}

// amount reads one amount in minor units.
func (p *parser) amount(n *yaml.Node, what string) (int64, bool) {
	v, ok := p.integer(n, what)
	if ok && v < 0 {
		p.errorf(n.Line, "%s: %d is negative (amounts are minor units, 11800 = 118.00)", what, v)
		return 0, false
	}
	return v, ok
}

// words compiles a condition that is one word or a list of words and records it in
// r.conditions. canon returns a word's canonical form, or reports the word and returns false.
func (p *parser) words(n *yaml.Node, what, key string, r *rule, canon func(textValue) (string, bool)) []string {
	var out []string
	for _, v := range p.texts(n, what) {
		if w, ok := canon(v); ok {
			out = append(out, w)
		}
	}
	if out != nil {
		r.conditions = append(r.conditions, key+": "+strings.Join(out, ", "))
	}
	return out
}

// needles compiles a substring condition and records it in r.conditions.
func (p *parser) needles(n *yaml.Node, what, key string, r *rule) []needle {
	return p.textCondition(n, what, key, r, "an empty text matches everything; remove the condition instead")
}

// textCondition compiles a condition on texts, matched ignoring case, and records it in
// r.conditions; empty says why an empty text is refused.
func (p *parser) textCondition(n *yaml.Node, what, key string, r *rule, empty string) []needle {
	var out []needle
	var shown []string
	for _, v := range p.texts(n, what) {
		if v.s == "" {
			p.errorf(v.line, "%s: %s", what, empty)
			continue
		}
		nd := newNeedle(v.s)
		out = append(out, nd)
		shown = append(shown, strconv.Quote(nd.s))
	}
	if out != nil {
		r.conditions = append(r.conditions, key+": "+strings.Join(shown, ", "))
	}
	return out
}

// tri compiles a boolean condition and records it in r.conditions.
func (p *parser) tri(n *yaml.Node, what, key string, r *rule) tri {
	b, ok := p.boolean(n, what)
	if !ok {
		return triAny
	}
	r.conditions = append(r.conditions, key+": "+strconv.FormatBool(b))
	if b {
		return triTrue
	}
	return triFalse
}

// kindList names the kinds of mask, for messages.
func kindList(mask uint8) string {
	ks := maskKinds(mask)
	parts := make([]string, len(ks))
	for i, k := range ks {
		parts[i] = string(k)
	}
	return strings.Join(parts, ", ")
}

// formatAmounts writes amount ranges in the canonical form of RuleInfo.Conditions.
func formatAmounts(rs []amountRange) string {
	parts := make([]string, len(rs))
	for i, a := range rs {
		switch {
		case a.min == a.max:
			parts[i] = strconv.FormatInt(a.min, 10)
		case a.max == math.MaxInt64:
			parts[i] = ">= " + strconv.FormatInt(a.min, 10)
		default:
			parts[i] = strconv.FormatInt(a.min, 10) + ".." + strconv.FormatInt(a.max, 10)
		}
	}
	return strings.Join(parts, ", ")
}
