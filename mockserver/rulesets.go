package mockserver

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// The bounds of a tenant's own rules document: with the tenant limit they bound what the rules
// of every tenant together can hold.
const (
	// MaxRulesDocumentBytes is the largest rules document a tenant may set (256 KiB).
	MaxRulesDocumentBytes = 256 << 10
	// MaxTenantRules is the most rules a tenant's document may hold.
	MaxTenantRules = 500
	// MaxTenantRuleValues is the most condition values (texts, amounts, kinds, ...) a tenant's
	// document may list in all, each use of a YAML alias counted again.
	MaxTenantRuleValues = 10_000
)

// TenantRulesName is the name a tenant's rules document is read under: the sources of its rules
// read "PUT /mock/v1/rules:LINE", after the call that sets it.
const TenantRulesName = "PUT /mock/v1/rules"

// RulesDocument is a tenant's own outcome rules: the document as the tenant sent it, in the
// format of a --fixtures file (fixtures/README.md), and its compiled rules. It is never changed
// once made.
type RulesDocument struct {
	// Text is the document as sent; JSON tells whether it is JSON rather than YAML.
	Text string
	JSON bool
	// Set holds the document's rules. They are tried before the defaults, or alone when the
	// document says replace_defaults: true.
	Set *rules.Set
}

// ParseRules checks and compiles a tenant's rules document, YAML or, when json is true, JSON. A
// document over MaxRulesDocumentBytes is a 413 PAYLOAD_TOO_LARGE. A bad one is a 400
// VALIDATION_ERROR with an errors[] entry for each problem, as a fixtures file is checked: its
// parameter names the line ("line 7"), its message the reason. Over MaxTenantRules rules or
// MaxTenantRuleValues condition values is such a problem too.
func ParseRules(text []byte, json bool) (*RulesDocument, error) {
	if len(text) > MaxRulesDocumentBytes {
		return nil, NewError(CodePayloadTooLarge, fmt.Sprintf(
			"The rules document is %d bytes; a tenant's rules document may be at most %d bytes (256 KiB).", len(text), MaxRulesDocumentBytes))
	}
	set, err := rules.Parse(TenantRulesName, text, rules.Options{JSON: json, MaxRules: MaxTenantRules, MaxValues: MaxTenantRuleValues})
	if err != nil {
		problems := rules.Errors(err)
		if len(problems) == 0 {
			return nil, err
		}
		fields := make([]FieldError, len(problems))
		for i, p := range problems {
			fields[i] = FieldError{Parameter: fmt.Sprintf("line %d", p.Line), ErrorMessage: p.Reason}
		}
		msg := fmt.Sprintf("The rules document is invalid: line %d: %s", problems[0].Line, problems[0].Reason)
		if len(problems) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(problems)-1)
		}
		return nil, NewError(CodeValidation, strings.TrimSuffix(msg, ".")+".", fields...)
	}
	return &RulesDocument{Text: string(text), JSON: json, Set: set}, nil
}

// ruleSets are the outcome rules a Service decides with: the defaults (fixtures/default.yaml and
// any --fixtures file), swapped whole when the fixtures are reloaded, and each tenant's own
// document, kept with the tenant's other state and forgotten with it.
type ruleSets struct {
	defaults atomic.Pointer[rules.Set]
	mu       sync.RWMutex
	byTenant map[string]*RulesDocument
}

// DefaultRules returns the rules of every tenant that has not set its own.
func (s *Service) DefaultRules() *rules.Set { return s.ruleSets.defaults.Load() }

// SetDefaultRules replaces the default rules at once: every authorize from then on is decided by
// set (a tenant's own document still goes first). A nil set is ignored, so the service always
// has rules. Reloading the --fixtures file on SIGHUP calls it.
func (s *Service) SetDefaultRules(set *rules.Set) {
	if set != nil {
		s.ruleSets.defaults.Store(set)
	}
}

// TenantRules returns the tenant's own rules document, or nil when the tenant runs on the
// defaults.
func (s *Service) TenantRules(tenant string) *RulesDocument {
	s.ruleSets.mu.RLock()
	defer s.ruleSets.mu.RUnlock()
	return s.ruleSets.byTenant[tenant]
}

// SetTenantRules makes doc the tenant's rules, for the tenant's authorize calls only; nil
// restores the defaults.
func (s *Service) SetTenantRules(tenant string, doc *RulesDocument) {
	s.ruleSets.mu.Lock()
	defer s.ruleSets.mu.Unlock()
	if doc == nil {
		delete(s.ruleSets.byTenant, tenant)
		return
	}
	s.ruleSets.byTenant[tenant] = doc
}

// RulesOf returns the rules that decide the tenant's calls, in the order they are tried: its own
// document's, then the defaults unless the document replaces them.
func (s *Service) RulesOf(tenant string) *rules.Set {
	defaults := s.DefaultRules()
	if doc := s.TenantRules(tenant); doc != nil {
		return rules.Merge(defaults, doc.Set)
	}
	return defaults
}

// decide returns the decision of the rules of accountID's tenant for f. It decides as
// RulesOf(tenant).Evaluate without building the merged set on every call.
func (s *Service) decide(accountID string, f *rules.Facts) rules.Decision {
	tenant, _ := SplitScope(accountID)
	if doc := s.TenantRules(tenant); doc != nil {
		if d, ok := doc.Set.Lookup(f); ok {
			return d
		}
		if doc.Set.ReplacesDefaults() {
			return rules.Fallback()
		}
	}
	return s.DefaultRules().Evaluate(f)
}
