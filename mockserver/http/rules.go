package http

import (
	"net/http"

	"github.com/klarna-mock/klarna-mock/internal/httpserver"
	"github.com/klarna-mock/klarna-mock/mockserver"
	"github.com/klarna-mock/klarna-mock/mockserver/rules"
)

// HeaderRule is the response header of every authorize answer that names the outcome rule that
// decided it (fixtures/README.md). It is the mock's own: Klarna sends no such header.
const HeaderRule = "Klarna-Mock-Rule"

// rulesView is the answer of the rules endpoints: the caller's own document, if it set one, and
// the rules its authorize calls are decided by, in the order they are tried.
type rulesView struct {
	// Defaults is true when the tenant has no document of its own.
	Defaults bool `json:"defaults"`
	// ReplaceDefaults is true when the tenant's document says replace_defaults: true.
	ReplaceDefaults bool `json:"replace_defaults"`
	// Format ("yaml" or "json") and Document are the tenant's document as it was sent; absent
	// on the defaults.
	Format   string     `json:"format,omitempty"`
	Document string     `json:"document,omitempty"`
	Rules    []ruleView `json:"rules"`
}

// ruleView is one rule as a rules document says it, in its canonical form.
type ruleView struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Source is where the rule is written, as "file:line".
	Source string   `json:"source"`
	Kinds  []string `json:"kinds"`
	// When holds the conditions other than kind, one "key: value" each; none for a catch-all.
	When         []string      `json:"when"`
	Result       string        `json:"result"`
	ResultReason string        `json:"result_reason,omitempty"`
	Customer     *customerView `json:"customer,omitempty"`
}

// customerView is what a rule has the simulated customer do after a step-up.
type customerView struct {
	Action string `json:"action"`
	After  string `json:"after"`
}

// newRulesView describes the rules of a tenant whose own document is doc (nil for none) over the
// defaults.
func newRulesView(defaults *rules.Set, doc *mockserver.RulesDocument) rulesView {
	v := rulesView{Defaults: doc == nil}
	effective := defaults
	if doc != nil {
		v.ReplaceDefaults = doc.Set.ReplacesDefaults()
		v.Format, v.Document = "yaml", doc.Text
		if doc.JSON {
			v.Format = "json"
		}
		effective = rules.Merge(defaults, doc.Set)
	}
	infos := effective.Rules()
	v.Rules = make([]ruleView, len(infos))
	for i, ri := range infos {
		rv := ruleView{
			Name:         ri.Name,
			Description:  ri.Description,
			Source:       ri.Decision.Source,
			Kinds:        make([]string, len(ri.Kinds)),
			When:         ri.Conditions,
			Result:       string(ri.Decision.Result),
			ResultReason: ri.Decision.ResultReason,
		}
		if rv.When == nil {
			rv.When = []string{}
		}
		for j, k := range ri.Kinds {
			rv.Kinds[j] = string(k)
		}
		if d := ri.Decision; d.Customer != rules.CustomerWait {
			rv.Customer = &customerView{Action: string(d.Customer), After: d.CustomerDelay.String()}
		}
		v.Rules[i] = rv
	}
	return v
}

// readRules answers the caller's rules.
func (s *Server) readRules(w http.ResponseWriter, r *request) error {
	return writeJSON(w, http.StatusOK, newRulesView(s.svc.DefaultRules(), s.svc.TenantRules(r.tenant)))
}

// putRules makes the body, a rules document in YAML or JSON, the caller's rules. A bad document
// changes nothing.
func (s *Server) putRules(w http.ResponseWriter, r *request) error {
	doc, err := mockserver.ParseRules(r.body, httpserver.IsJSON(r.Header.Get("Content-Type")))
	if err != nil {
		return err
	}
	s.svc.SetTenantRules(r.tenant, doc)
	return writeJSON(w, http.StatusOK, newRulesView(s.svc.DefaultRules(), doc))
}

// deleteRules gives the caller the defaults again.
func (s *Server) deleteRules(w http.ResponseWriter, r *request) error {
	s.svc.SetTenantRules(r.tenant, nil)
	return writeJSON(w, http.StatusOK, newRulesView(s.svc.DefaultRules(), nil))
}
