// Package examples holds runnable examples of driving klarna-mock from outside Go:
// walkthrough.sh walks the token creation flow and a customer-not-present charge with curl and
// jq, and the package's test runs it against an in-process mock so the example cannot go stale.
// The tests run the documentation's copy-paste shell blocks the same way (the README's, and
// those of docs/faults.md, docs/webhooks.md, docs/state.md, docs/operations.md and
// fixtures/README.md), each found by the HTML comment before it that names its test, and
// compare what they print with the block's "# " lines.
package examples
