package rules

import (
	"strings"
	"unicode/utf8"
)

// Kind bits: a rule's kinds are a mask so that the kind test is one AND.
const (
	bitOneTime uint8 = 1 << iota
	bitTokenCreation
	bitCustomerPresent
	bitCustomerNotPresent
	bitFinal

	allKinds     = bitOneTime | bitTokenCreation | bitCustomerPresent | bitCustomerNotPresent | bitFinal
	initialKinds = allKinds &^ bitFinal // the kinds of a rule without a kind condition
)

func kindBit(k Kind) uint8 {
	switch k {
	case KindOneTime:
		return bitOneTime
	case KindTokenCreation:
		return bitTokenCreation
	case KindCustomerPresent:
		return bitCustomerPresent
	case KindCustomerNotPresent:
		return bitCustomerNotPresent
	case KindFinal:
		return bitFinal
	}
	return 0
}

func maskKinds(mask uint8) []Kind {
	var out []Kind
	for _, k := range Kinds() {
		if mask&kindBit(k) != 0 {
			out = append(out, k)
		}
	}
	return out
}

// tri is a boolean condition that may be absent.
type tri int8

const (
	triAny tri = iota
	triTrue
	triFalse
)

func (t tri) ok(v bool) bool { return t == triAny || (t == triTrue) == v }

// amountRange is an inclusive range of minor units.
type amountRange struct{ min, max int64 }

// needle is a lower-cased substring to look for case-insensitively.
type needle struct {
	s     string
	ascii bool // s is pure ASCII: compare with ASCII case folding, no allocation
}

func newNeedle(s string) needle {
	l := strings.ToLower(s)
	return needle{s: l, ascii: isASCII(l)}
}

// rule is one compiled rule. Conditions that are nil/triAny are absent.
type rule struct {
	kinds uint8

	hasAmount    tri
	identified   tri
	subscription tri
	ondemand     tri

	amounts    []amountRange
	currencies []string // upper case
	scopes     []string

	references    []needle
	emails        []needle // email_contains
	exactEmails   []needle // email: the whole address
	lineItemNames []needle
	lineItemRefs  []needle

	catchAll    bool // no condition other than kind
	decision    Decision
	description string
	file        string
	line        int
	conditions  []string // canonical "key: value" strings for RuleInfo
}

// match reports whether every condition of r other than kind holds for f. Cheap tests come first.
func (r *rule) match(f *Facts) bool {
	if r.catchAll {
		return true
	}
	if !r.hasAmount.ok(f.HasAmount) || !r.identified.ok(f.IdentifiedCustomer) ||
		!r.subscription.ok(f.HasSubscriptions) || !r.ondemand.ok(f.HasOndemandService) {
		return false
	}
	if r.amounts != nil && !matchAmount(r.amounts, f) {
		return false
	}
	if r.currencies != nil && !matchCurrency(r.currencies, f.Currency) {
		return false
	}
	if r.scopes != nil && !matchScopes(r.scopes, f.Scopes) {
		return false
	}
	if r.references != nil && !matchAny(r.references, f.References, containsFold) {
		return false
	}
	if r.emails != nil && !matchAny(r.emails, f.Emails, containsFold) {
		return false
	}
	if r.exactEmails != nil && !matchAny(r.exactEmails, f.Emails, equalFold) {
		return false
	}
	if r.lineItemNames != nil && !matchAny(r.lineItemNames, f.LineItemNames, containsFold) {
		return false
	}
	if r.lineItemRefs != nil && !matchAny(r.lineItemRefs, f.LineItemReferences, containsFold) {
		return false
	}
	return true
}

func matchAmount(ranges []amountRange, f *Facts) bool {
	if !f.HasAmount {
		return false
	}
	for _, a := range ranges {
		if f.Amount >= a.min && f.Amount <= a.max {
			return true
		}
	}
	return false
}

func matchCurrency(currencies []string, c string) bool {
	for _, want := range currencies {
		if len(want) == len(c) && equalFoldASCII(c, want) {
			return true
		}
	}
	return false
}

func matchScopes(want, have []string) bool {
	for _, h := range have {
		for _, w := range want {
			if h == w {
				return true
			}
		}
	}
	return false
}

// matchAny reports whether any value matches any needle: contains it (containsFold) or is it
// (equalFold), ignoring case.
func matchAny(needles []needle, values []string, matches func(string, needle) bool) bool {
	for _, v := range values {
		for i := range needles {
			if matches(v, needles[i]) {
				return true
			}
		}
	}
	return false
}

// equalFold reports whether s equals n.s, ignoring case, without allocating: ASCII letters
// folded byte by byte for an ASCII needle, Unicode simple folding otherwise.
func equalFold(s string, n needle) bool {
	if !n.ascii {
		return strings.EqualFold(s, n.s)
	}
	return len(s) == len(n.s) && equalFoldASCII(s, n.s)
}

// containsFold reports whether s contains n.s, ignoring case. For an ASCII needle it folds ASCII
// letters byte by byte without allocating (a non-ASCII byte of s never equals an ASCII needle
// byte, so the result is exact for everything but the few non-ASCII runes that lower-case to
// ASCII letters, such as the Kelvin sign). A non-ASCII needle lower-cases s with the Unicode
// rules, which allocates.
func containsFold(s string, n needle) bool {
	if !n.ascii {
		return strings.Contains(strings.ToLower(s), n.s)
	}
	sub := n.s
	if len(sub) == 0 {
		return true
	}
	if len(sub) > len(s) {
		return false
	}
	// Testing the first byte against both cases before calling equalFoldASCII is what keeps the
	// scan fast: most positions fail that test.
	first := sub[0]
	firstUpper := first
	if 'a' <= first && first <= 'z' {
		firstUpper -= 'a' - 'A'
	}
	last := len(s) - len(sub)
	for i := 0; i <= last; i++ {
		if c := s[i]; c != first && c != firstUpper {
			continue
		}
		if equalFoldASCII(s[i+1:i+len(sub)], sub[1:]) {
			return true
		}
	}
	return false
}

// equalFoldASCII reports whether s and t, of the same length, are equal but for the case of
// ASCII letters.
func equalFoldASCII(s, t string) bool {
	for i := 0; i < len(t); i++ {
		if lowerASCII(s[i]) != lowerASCII(t[i]) {
			return false
		}
	}
	return true
}

// lowerASCII lower-cases an ASCII letter and returns any other byte as it is.
func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
