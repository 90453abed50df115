package contracts

//go:generate go run ./internal/derive/gen

// Operation is one operation of a document in Files, as the document declares it.
type Operation struct {
	// Method is the HTTP method in upper case, Path the path template as the document writes it
	// (e.g. "/v2/accounts/{partner_account_id}/payment/authorize") and ID the operationId,
	// empty when the operation has none.
	Method, Path, ID string
	// Checked is whether a request has anything to be checked against: the operation or its
	// path item declares parameters, or the operation a request body. The validator
	// (contracts/validate) checks nothing else, so it passes every request of an operation that
	// is not checked, and a caller need not compile the document for one.
	Checked bool
}

// Operations returns the operations of the document name in Files (nil for any other name),
// sorted by path template and method, without parsing it: they are read from the documents at
// `go generate` time into operations_gen.go, which TestOperationsIndexUpToDate checks is current.
func Operations(name string) []Operation { return operations[name] }

// FindOperation returns the operation of the document name with the method and path template, and
// whether the document has it.
func FindOperation(name, method, pathTemplate string) (Operation, bool) {
	for _, op := range operations[name] {
		if op.Method == method && op.Path == pathTemplate {
			return op, true
		}
	}
	return Operation{}, false
}
