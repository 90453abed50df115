// Package example shows how an Acquiring Partner team reuses the contract suite in a godog suite
// of its own: the step definitions of package steps, the feature files of package features, and
// steps of the team's own (see example_test.go).
package example
