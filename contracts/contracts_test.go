package contracts_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi/datamodel"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
)

// kinFormats are the string formats kin-openapi checks in examples beyond its built-in ones.
func kinFormats() map[string]openapi3.StringFormatValidator {
	email := regexp.MustCompile(openapi3.FormatOfStringForEmail)
	uuid := regexp.MustCompile(openapi3.FormatOfStringForUUIDOfRFC9562)
	return map[string]openapi3.StringFormatValidator{
		"email": openapi3.NewCallbackValidator(func(s string) error {
			if !email.MatchString(s) {
				return errors.New("not an email address")
			}
			return nil
		}),
		"uuid": openapi3.NewCallbackValidator(func(s string) error {
			if !uuid.MatchString(s) {
				return errors.New("not a uuid")
			}
			return nil
		}),
		"uri": openapi3.NewCallbackValidator(func(s string) error {
			u, err := url.Parse(s)
			if err != nil || u.Scheme == "" {
				return errors.New("not an absolute URI")
			}
			return nil
		}),
	}
}

// lintKin loads and validates a document with kin-openapi, examples included.
func lintKin(data []byte) error {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return fmt.Errorf("kin-openapi load: %w", err)
	}
	ctx := context.Background()
	if err := doc.Validate(ctx,
		openapi3.EnableExamplesValidation(),
		openapi3.EnableSchemaFormatValidation(),
		openapi3.EnableSchemaDefaultsValidation(),
		openapi3.EnableSchemaPatternValidation(),
		openapi3.EnableMultiError(),
	); err != nil {
		return fmt.Errorf("kin-openapi validate: %w", err)
	}
	// Examples again, with the format checks kin-openapi does not ship: walk every example
	// through its schema.
	return validateKinExamples(doc)
}

// validateKinExamples checks every media type and parameter example against its schema with
// format assertions for email, uuid, uri and date-time.
func validateKinExamples(doc *openapi3.T) error {
	opts := []openapi3.SchemaValidationOption{
		openapi3.MultiErrors(),
		openapi3.EnableFormatValidation(),
		openapi3.WithStringFormatValidators(kinFormats()),
	}
	var errs []error
	check := func(where string, schema *openapi3.SchemaRef, value any) {
		if schema == nil || schema.Value == nil {
			return
		}
		if err := schema.Value.VisitJSON(value, opts...); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
	}
	checkContent := func(where string, content openapi3.Content) {
		for mt, media := range content {
			if media.Example != nil {
				check(where+" "+mt+" example", media.Schema, media.Example)
			}
			for name, ex := range media.Examples {
				if ex.Value != nil {
					check(where+" "+mt+" examples."+name, media.Schema, ex.Value.Value)
				}
			}
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			params := append(openapi3.Parameters{}, item.Parameters...)
			params = append(params, op.Parameters...)
			for _, p := range params {
				if p.Value != nil && p.Value.Example != nil {
					check(where+" parameter "+p.Value.Name, p.Value.Schema, p.Value.Example)
				}
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				checkContent(where+" request", op.RequestBody.Value.Content)
			}
			for status, resp := range op.Responses.Map() {
				if resp.Value != nil {
					checkContent(where+" "+status, resp.Value.Content)
					for name, h := range resp.Value.Headers {
						if h.Value != nil && h.Value.Example != nil {
							check(where+" "+status+" header "+name, h.Value.Schema, h.Value.Example)
						}
					}
				}
			}
		}
	}
	return errors.Join(errs...)
}

// lintLibopenapi builds the v3 model and validates the document against the OpenAPI schema with
// pb33f/libopenapi and libopenapi-validator.
func lintLibopenapi(data []byte) error {
	doc, err := libopenapi.NewDocumentWithConfiguration(data, &datamodel.DocumentConfiguration{
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return fmt.Errorf("libopenapi: %w", err)
	}
	if _, err := doc.BuildV3Model(); err != nil {
		return fmt.Errorf("libopenapi v3 model: %w", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return fmt.Errorf("libopenapi-validator: %w", errors.Join(errs...))
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		var msgs []string
		for _, e := range verrs {
			msgs = append(msgs, e.Error())
			for _, se := range e.SchemaValidationErrors {
				msgs = append(msgs, "  "+se.Error())
			}
		}
		return fmt.Errorf("libopenapi-validator: %s", strings.Join(msgs, "\n"))
	}
	return nil
}

var linters = []struct {
	name string
	lint func([]byte) error
}{
	{"kin-openapi", lintKin},
	{"libopenapi", lintLibopenapi},
}

func TestDocumentsAreValid(t *testing.T) {
	t.Parallel()
	names := contracts.Documents()
	require.Contains(t, names, contracts.KlarnaPaymentsFile)
	for _, name := range names {
		data, err := contracts.Files.ReadFile(name)
		require.NoError(t, err)
		for _, l := range linters {
			t.Run(name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				require.NoError(t, l.lint(data))
			})
		}
	}
}

func TestKlarnaPaymentsIsTheEmbeddedFile(t *testing.T) {
	t.Parallel()
	data, err := contracts.Files.ReadFile(contracts.KlarnaPaymentsFile)
	require.NoError(t, err)
	require.Equal(t, data, contracts.KlarnaPayments)
	require.True(t, strings.HasPrefix(string(data), "openapi: 3.0.3\n"))
}

// TestLintersRejectBrokenDocuments proves that each linter can fail.
func TestLintersRejectBrokenDocuments(t *testing.T) {
	t.Parallel()
	base := string(contracts.KlarnaPayments)
	broken := []struct {
		name    string
		old     string
		new     string
		linters []string // which linters must reject it
	}{
		{
			name:    "missing info version",
			old:     "  version: \"2.0.0-mock\"\n",
			new:     "",
			linters: []string{"kin-openapi", "libopenapi"},
		},
		{
			name:    "dangling reference",
			old:     "$ref: '#/components/schemas/RequestPaymentTransaction'",
			new:     "$ref: '#/components/schemas/NoSuchSchema'",
			linters: []string{"kin-openapi", "libopenapi"},
		},
		{
			name:    "response without description",
			old:     "          description: The authorization result (APPROVED, DECLINED or STEP_UP_REQUIRED).\n",
			new:     "",
			linters: []string{"kin-openapi", "libopenapi"},
		},
		{
			name:    "example that breaks its schema",
			old:     "                      result: DECLINED\n",
			new:     "                      result: MAYBE\n",
			linters: []string{"kin-openapi"},
		},
		{
			name:    "example with a bad format",
			old:     "            error_id: 1d0f9a2e-8b7c-4d6e-9f5a-4b3c2d1e0f9a\n",
			new:     "            error_id: not-a-uuid\n",
			linters: []string{"kin-openapi"},
		},
		{
			name:    "unknown parameter location",
			old:     "      name: Partner-Correlation-Id\n      in: header\n",
			new:     "      name: Partner-Correlation-Id\n      in: body\n",
			linters: []string{"kin-openapi", "libopenapi"},
		},
	}
	for _, tc := range broken {
		require.Equal(t, 1, strings.Count(base, tc.old), tc.name)
		data := []byte(strings.Replace(base, tc.old, tc.new, 1))
		for _, l := range linters {
			if !contains(tc.linters, l.name) {
				continue
			}
			t.Run(tc.name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				require.Error(t, l.lint(data))
			})
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
