// Package examples holds runnable examples of driving klarna-mock from outside Go:
// walkthrough.sh walks the token creation flow and a customer-not-present charge with curl and
// jq, and the package's test runs it against an in-process mock so the example cannot go stale;
// the tests run copy-paste examples of the documentation the same way (fixtures/README.md's rules
// per tenant).
package examples
