// Package features is the Acquiring Partner contract suite: Gherkin scenarios, one feature per
// flow of docs/flows.md (token creation, customer-present charge, customer-not-present charge)
// plus the payment presentation, the step-up lifecycle, webhooks, interoperability data,
// idempotency, bad input and resilience to a misbehaving Klarna. The step definitions are in
// package steps; features_test.go runs the suite from go test. README.md maps every branch of
// the flows' diagrams to its scenarios and tags.
//
// Files holds the feature files, so another module can run these very scenarios against its
// own Acquiring Partner (see example/).
package features

import "embed"

// Files holds every *.feature file of the suite.
//
//go:embed *.feature
var Files embed.FS
