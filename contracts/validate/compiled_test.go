package validate

import (
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/require"

	"github.com/klarna-mock/klarna-mock/contracts"
	"github.com/klarna-mock/klarna-mock/fixtures"
)

// TestCompiledPassesSamples checks that the compiled check passes every sample authorize body,
// so the common case never falls back to kin-openapi.
func TestCompiledPassesSamples(t *testing.T) {
	t.Parallel()
	op := mustOperation(t, http.MethodPost, authorizeTemplate)
	samples, err := fs.Glob(fixtures.Samples, "samples/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, samples)
	for _, name := range append(samples, "") {
		body := []byte(authorizeBody)
		if name != "" {
			body, err = fixtures.Samples.ReadFile(name)
			require.NoError(t, err)
		}
		v, err := decodeJSON(body, op.v.names)
		require.NoError(t, err, name)
		require.NoError(t, op.body.VisitJSON(v, op.v.fastOpts...), name)
		require.True(t, op.compiled.valid(v), "%s: the compiled check refuses a valid body", name)
		require.True(t, op.compiled.validBody(body, op.v.names), "%s: the compiled check refuses a valid body unread", name)
	}
}

// TestCompiledNeverPassesWhatKinRefuses is the compiled check's safety property: for every
// operation body and plain string parameter of every document, and many values made from the
// schema and then broken in random ways, whatever the compiled check passes kin-openapi passes
// too. It also counts how
// often the two agree on a pass, so a compiled check that refuses everything fails the test.
func TestCompiledNeverPassesWhatKinRefuses(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(14, 2026))
	passed, unsure := 0, 0
	for _, name := range contracts.Documents() {
		spec, err := contracts.Files.ReadFile(name)
		require.NoError(t, err)
		v, err := New(spec)
		require.NoError(t, err, name)
		for path, item := range v.doc.Paths.Map() {
			for method := range item.Operations() {
				op, err := v.Operation(method, path)
				require.NoError(t, err)
				for _, p := range op.params {
					if p.compiled == nil {
						continue
					}
					for range 50 {
						value := instance(rng, p.Schema.Value, 0)
						if rng.IntN(2) == 0 {
							value = oddValue(rng)
						}
						str, ok := value.(string)
						if !ok {
							continue
						}
						require.Equal(t, p.compiled.valid(str), p.compiled.validStringValue(str),
							"%s %s %s: validStringValue and valid disagree on %s %q", name, method, path, p.Name, str)
						if !p.compiled.valid(str) {
							continue
						}
						require.NoError(t, p.Schema.Value.VisitJSON(str, v.fastOpts...),
							"%s %s %s: the compiled check passed %s %q", name, method, path, p.Name, str)
						passed++
					}
				}
				if op.body == nil {
					continue
				}
				for range 300 {
					value := instance(rng, op.body, 0)
					for range rng.IntN(4) {
						value = mutate(rng, value)
					}
					body, err := json.Marshal(value)
					require.NoError(t, err)
					decoded, err := decodeJSON(body, v.names)
					require.NoError(t, err)
					require.Equal(t, op.compiled.valid(decoded), op.compiled.validBody(body, v.names),
						"%s %s %s: validBody and valid disagree on %s", name, method, path, body)
					kinErr := op.body.VisitJSON(value, v.fastOpts...)
					if op.compiled.valid(value) {
						require.NoError(t, kinErr, "%s %s %s: the compiled check passed %#v", name, method, path, value)
						passed++
					} else if kinErr == nil {
						// Not wrong, only slower: Check asks kin-openapi.
						unsure++
					}
				}
			}
		}
	}
	t.Logf("passed by both: %d; passed by kin-openapi alone: %d", passed, unsure)
	require.Greater(t, passed, 10*unsure, "the compiled check leaves too much to kin-openapi")
}

// instance makes a value for s, valid as far as this simple generator can tell: the first enum
// value, the example, or a value of the schema's type within its bounds, with every required
// property and, half the time, each optional one.
func instance(rng *rand.Rand, s *openapi3.Schema, depth int) any {
	if s == nil || depth > 8 {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[rng.IntN(len(s.Enum))]
	}
	if s.Example != nil && rng.IntN(2) == 0 {
		return deepCopy(s.Example) // mutate must not change the document's example
	}
	for _, ref := range s.AllOf {
		if v := instance(rng, ref.Value, depth+1); v != nil {
			if m, ok := v.(map[string]any); ok && s.Properties != nil {
				for k, p := range s.Properties {
					m[k] = instance(rng, p.Value, depth+1)
				}
			}
			return v
		}
	}
	switch {
	case s.Type.Is(openapi3.TypeObject) || s.Properties != nil:
		m := map[string]any{}
		for k, p := range s.Properties {
			if rng.IntN(2) == 0 {
				m[k] = instance(rng, p.Value, depth+1)
			}
		}
		for _, k := range s.Required {
			if p := s.Properties[k]; p != nil {
				m[k] = instance(rng, p.Value, depth+1)
			} else {
				m[k] = "x"
			}
		}
		return m
	case s.Type.Is(openapi3.TypeArray):
		n := int(s.MinItems) + rng.IntN(3)
		a := make([]any, 0, n)
		for range n {
			var item *openapi3.Schema
			if s.Items != nil {
				item = s.Items.Value
			}
			a = append(a, instance(rng, item, depth+1))
		}
		return a
	case s.Type.Is(openapi3.TypeInteger):
		lo := 0.0
		if s.Min != nil {
			lo = *s.Min
		}
		return lo + float64(rng.IntN(100))
	case s.Type.Is(openapi3.TypeNumber):
		return rng.Float64() * 100
	case s.Type.Is(openapi3.TypeBoolean):
		return rng.IntN(2) == 0
	case s.Type.Is(openapi3.TypeString):
		switch s.Format {
		case "email":
			return "jane@example.com"
		case "uri":
			return "https://example.com/x"
		case "uuid":
			return "0f6a2b0c-ef8b-4a5e-b1a4-3c2d1e0f9a8b"
		case "date-time":
			return "2026-12-01T10:00:00Z"
		case "date":
			return "2026-12-01"
		}
		return strings.Repeat("a", int(max(s.MinLength, 1)))
	}
	return "x"
}

// odd are values that break schemas: wrong types, bounds and formats, null.
var odd = []any{nil, true, false, 0.0, -1.0, 1.5, 1e300, "", "x", strings.Repeat("é", 300), "not an email",
	"https://example.com", "2026-13-45", "USD", []any{}, []any{"x"}, map[string]any{}, map[string]any{"x": 1.0}}

// mutate changes one place of v: replaces a value by an odd one, deletes or adds a property, or
// drops or adds an array item. It returns the new root.
func mutate(rng *rand.Rand, v any) any {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		switch r := rng.IntN(10); {
		case r == 0 || len(keys) == 0:
			x["undocumented"] = oddValue(rng)
		case r == 1:
			delete(x, keys[rng.IntN(len(keys))])
		default:
			k := keys[rng.IntN(len(keys))]
			x[k] = mutate(rng, x[k])
		}
		return x
	case []any:
		switch r := rng.IntN(4); {
		case r == 0 || len(x) == 0:
			return append(x, oddValue(rng))
		case r == 1:
			return x[1:]
		default:
			i := rng.IntN(len(x))
			x[i] = mutate(rng, x[i])
			return x
		}
	}
	return oddValue(rng)
}

// deepCopy copies the maps and slices of a JSON value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = deepCopy(e)
		}
		return a
	}
	return v
}

// oddValue is a copy of one of odd, so that a later mutation cannot make a value contain itself.
func oddValue(rng *rand.Rand) any { return deepCopy(odd[rng.IntN(len(odd))]) }

// FuzzValidBody checks validBody's safety property on any bytes: what it passes, decodeJSON
// decodes and kin-openapi passes. The seeds are the sample bodies and their edge cases: repeated
// keys, escapes, whitespace, nesting, numbers at their limits.
func FuzzValidBody(f *testing.F) {
	samples, err := fs.Glob(fixtures.Samples, "samples/*.json")
	require.NoError(f, err)
	for _, name := range samples {
		b, err := fixtures.Samples.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{authorizeBody, `{"currency":"USD","currency":"EUR"}`, `{"currency":"U\u0053D"}`,
		" {\n\"currency\" : \"USD\" } ", `{"currency":"USD","request_payment_transaction":{"amount":-0}}`,
		`{"currency":"USD","request_payment_transaction":{"amount":1e2}}`, `[[[[]]]]`, `{"currency":null}`, `{"currency":"USD"}x`} {
		f.Add([]byte(s))
	}
	op := mustOperation(f, http.MethodPost, authorizeTemplate)
	f.Fuzz(func(t *testing.T, body []byte) {
		if !op.compiled.validBody(body, op.v.names) {
			return
		}
		v, err := decodeJSON(body, op.v.names)
		require.NoError(t, err, "validBody passed what decodeJSON refuses: %q", body)
		require.NoError(t, op.body.VisitJSON(v, op.v.fastOpts...), "validBody passed what kin-openapi refuses: %q", body)
	})
}

// TestIsEmailMatchesKinOpenAPIsPattern checks the email format's matcher against the regular
// expression it stands for, on strings made of the characters that pattern treats specially,
// the whitespace it does not (\v), and characters of several bytes, valid and not.
func TestIsEmailMatchesKinOpenAPIsPattern(t *testing.T) {
	t.Parallel()
	pattern := regexp.MustCompile(openapi3.FormatOfStringForEmail)
	alphabet := []string{"a", "@", "<", ">", `"`, ",", " ", "\t", "\n", "\v", "\f", "\r", "é", "\xff", "\u00a0", "."}
	rng := rand.New(rand.NewPCG(3, 14))
	cases := []string{"", "@", "a@", "@b", "a@b", "jane@example.com", "a@@b", "a@b@c", "a b@c", "a@b c", "a@b\n", "\n@b"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		require.Equal(t, pattern.MatchString(s), isEmail(s), "%q", s)
	}
}
