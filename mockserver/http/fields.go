package http

import (
	"fmt"

	"github.com/klarna-mock/klarna-mock/contracts/validate"
)

// FieldPolicy is what a body property gets that the contract of a Klarna API route does not
// describe. Klarna publishes its OpenAPI documents only as downloads, so a property missing from
// the mock's contract may still be one Klarna takes; refusing it would fail a request Klarna
// accepts. The mock's own control API (mock-control.yaml) always refuses unknown properties: no
// Klarna behaviour stands behind it.
type FieldPolicy string

// The field policies (--undocumented-fields).
const (
	// WarnUndocumented, the default, accepts the request and keeps each undocumented property
	// as a warning in the journal entry of the call (JournalEntry.Warnings), where a conformance
	// check finds it.
	WarnUndocumented FieldPolicy = "warn"
	// RefuseUndocumented answers 400 VALIDATION_ERROR naming each undocumented property, as a
	// strict reading of the contract does.
	RefuseUndocumented FieldPolicy = "refuse"
)

// ParseFieldPolicy returns the policy named s: warn or refuse.
func ParseFieldPolicy(s string) (FieldPolicy, error) {
	switch p := FieldPolicy(s); p {
	case WarnUndocumented, RefuseUndocumented:
		return p, nil
	}
	return "", fmt.Errorf("undocumented fields: %q is neither %s nor %s", s, WarnUndocumented, RefuseUndocumented)
}

// sort splits the violations of a request to a route of contract into those that refuse it and
// those the policy only warns about.
func (p FieldPolicy) sort(contract string, vs []validate.Violation) (refused, warned []validate.Violation) {
	if p == RefuseUndocumented || contract == contractControl {
		return vs, nil
	}
	for _, v := range vs {
		if v.Undocumented {
			warned = append(warned, v)
		} else {
			refused = append(refused, v)
		}
	}
	return refused, warned
}

// parametersOf lists the parameters the violations name, for a log line.
func parametersOf(vs []validate.Violation) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Parameter
	}
	return out
}
