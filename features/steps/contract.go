package steps

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/contracts/contracttest"
)

// The Partner API contract (contracts/acquirer.yaml): every answer of the Acquiring Partner is
// checked against it with contracttest, and every webhook body against its PartnerEvent schema
// (OpenAPI 3.0 has no webhooks section, so that one is checked as a schema, with kin-openapi).

var partnerEventSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	spec, err := contracts.Files.ReadFile("acquirer.yaml")
	if err != nil {
		return nil, err
	}
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, err
	}
	ref := doc.Components.Schemas["PartnerEvent"]
	if ref == nil || ref.Value == nil {
		return nil, fmt.Errorf("acquirer.yaml has no PartnerEvent schema")
	}
	return ref.Value, nil
})

// checkAnswer returns why an answer of the Acquiring Partner breaks acquirer.yaml, or "".
func checkAnswer(req *http.Request, status int, header http.Header, body []byte) string {
	c, err := contracttest.Load("acquirer.yaml")
	if err != nil {
		return "the contract could not be loaded: " + err.Error()
	}
	problems := c.Problems(req, status, header, body)
	if len(problems) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s answered %d, which the contract does not allow: %s; body %s", req.Method, req.URL.Path, status, strings.Join(problems, "; "), clip(string(body), 500))
}

// checkPartnerEvent returns why a webhook body breaks the PartnerEvent schema, or "".
func checkPartnerEvent(body []byte) string {
	schema, err := partnerEventSchema()
	if err != nil {
		return "the contract could not be loaded: " + err.Error()
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return "the body is not JSON: " + err.Error()
	}
	if err := schema.VisitJSON(v, openapi3.MultiErrors(), openapi3.EnableFormatValidation()); err != nil {
		return "the body does not match PartnerEvent: " + err.Error()
	}
	return ""
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
