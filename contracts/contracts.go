// Package contracts holds the OpenAPI documents the mock implements, embedded in the binary.
//
// Every *.yaml file in this directory is an OpenAPI 3.0.3 document. The run-time request
// validator (contracts/validate) compiles each once, when the mock first needs it, the mock
// serves them (for example GET /openapi.yaml), and contracttest checks recorded responses
// against them with the other OpenAPI library, so that each contract is enforced by two
// independent implementations. The index of their operations (Operations), generated from
// them, lets the mock mount its routes without parsing them.
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

// requests holds each document of Files cut down to what checking a request needs, by the same
// name under requests/: without responses, callbacks and the components only they use. They are
// generated from Files (`go generate ./contracts`; TestRequestDocumentsUpToDate fails when one is
// stale) because the validator compiles them in half the time of the whole documents or less.
//
//go:embed requests/*.yaml
var requests embed.FS

// RequestDocument returns the document name of Files cut down to what checking a request
// against it needs: the same paths, operations, parameters and request bodies and every schema
// they reach, without the responses and callbacks (TestRequestDocumentsCheckTheSame compares
// them). The run-time request validator compiles it; answers are checked against Files.
func RequestDocument(name string) ([]byte, error) { return requests.ReadFile("requests/" + name) }

// Documents returns the names of all documents in Files, in lexical order.
func Documents() []string {
	names, err := fs.Glob(Files, "*.yaml")
	if err != nil { // Only possible with a malformed pattern.
		panic(err)
	}
	return names
}
