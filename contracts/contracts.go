// Package contracts holds the OpenAPI documents the mock implements, embedded in the binary.
//
// Every *.yaml file in this directory is an OpenAPI 3.0.3 document. The run-time request
// validator (contracts/validate) compiles them once at start, the mock serves them (for example
// GET /openapi.yaml), and contracttest checks recorded responses against them with the other
// OpenAPI library, so that each contract is enforced by two independent implementations.
package contracts

import (
	"embed"
	"io/fs"
)

// Files holds every OpenAPI document of this directory, by file name (for example
// "klarna-payments.yaml").
//
//go:embed *.yaml
var Files embed.FS

// KlarnaPaymentsFile is the name of the Klarna payments document in Files.
const KlarnaPaymentsFile = "klarna-payments.yaml"

// KlarnaPayments is the Klarna payments document (authorize, Payment Requests, Payment
// Transactions, Payment Presentation, and the Interoperability API's SDK and test tokens).
//
//go:embed klarna-payments.yaml
var KlarnaPayments []byte

// Documents returns the names of all documents in Files, in lexical order.
func Documents() []string {
	names, err := fs.Glob(Files, "*.yaml")
	if err != nil { // Only possible with a malformed pattern.
		panic(err)
	}
	return names
}
