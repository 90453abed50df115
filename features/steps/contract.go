package steps

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi/datamodel"

	"github.com/klarna-mock/klarna-mock/contracts"
)

// The Partner API contract (contracts/acquirer.yaml), compiled once per process: every answer of
// the Acquiring Partner is checked against it, and every webhook body against its PartnerEvent
// schema (OpenAPI 3.0 has no webhooks section, so that one is checked as a schema).

var acquirerContract = sync.OnceValues(func() (validator.Validator, error) {
	spec, err := contracts.Files.ReadFile("acquirer.yaml")
	if err != nil {
		return nil, err
	}
	doc, err := libopenapi.NewDocumentWithConfiguration(spec, &datamodel.DocumentConfiguration{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, fmt.Errorf("acquirer.yaml: %v", errs)
	}
	return v, nil
})

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
	v, err := acquirerContract()
	if err != nil {
		return "the contract could not be loaded: " + err.Error()
	}
	r := req.Clone(req.Context())
	r.Body = http.NoBody
	resp := &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: header.Clone(), Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body)), Request: r,
	}
	ok, errs := v.ValidateHttpResponse(r, resp)
	if ok && len(errs) == 0 {
		return ""
	}
	var b bytes.Buffer
	for _, e := range errs {
		if e == nil {
			continue
		}
		b.WriteString(e.Message)
		if e.Reason != "" {
			b.WriteString(": " + e.Reason)
		}
		for _, s := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, " [%s: %s]", s.FieldPath, s.Reason)
		}
		b.WriteString("; ")
	}
	return fmt.Sprintf("%s %s answered %d, which the contract does not allow: %sbody %s", req.Method, req.URL.Path, status, b.String(), clip(string(body), 500))
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
