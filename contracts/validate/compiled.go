package validate

import (
	"math"
	"reflect"
	"regexp"
	"slices"
	"unicode/utf16"
	"unsafe"

	"github.com/getkin/kin-openapi/openapi3"
)

// node is a schema compiled once for the common case, a valid request: validBody reads a body
// and valid checks a decoded value by the rules kin-openapi's fail-fast visit applies, but
// without its per-call settings, its cycle bookkeeping and its sorted key lists, which made the
// visit most of the validation time. It never passes a value kin-openapi refuses: where it is
// unsure (a keyword it does not implement, a null that only an allOf would allow, a value that
// fails) it answers false, or asks kin-openapi itself for that part, and Check then runs
// kin-openapi on the whole value, which also describes what is wrong.
type node struct {
	// kin, when set, is the schema this part is checked against with kin-openapi, with opts: a
	// schema using keywords the compiled check does not implement.
	kin  *openapi3.Schema
	opts []openapi3.SchemaValidationOption

	types    *openapi3.Types // nil permits every type, as in kin-openapi
	nullable bool
	empty    bool // the empty schema: any value but null
	allOf    []*node
	enumStr  map[string]bool
	enumNum  []float64
	hasEnum  bool

	// Numbers.
	min, max         *float64
	exclMin, exclMax bool
	intFormat        openapi3.FormatValidator[int64]
	floatFormat      openapi3.FormatValidator[float64]

	// Strings.
	minLen    uint64
	maxLen    *uint64
	pattern   *regexp.Regexp
	strFormat openapi3.FormatValidator[string]

	// Arrays.
	minItems uint64
	maxItems *uint64
	items    *node

	// Objects.
	props      map[string]*node
	required   []string
	minProps   uint64
	maxProps   *uint64
	additional bool  // properties not in props are allowed
	addSchema  *node // and checked against this, when set
}

// compiledKeywords are the fields of openapi3.Schema the compiled check implements, or that do
// not take part in validating a request (annotations). A schema setting any other field is left
// to kin-openapi.
var compiledKeywords = map[string]bool{
	"Extensions": true, "Origin": true, "Title": true, "Description": true, "Default": true,
	"Example": true, "Examples": true, "ExternalDocs": true, "Deprecated": true, "XML": true,
	"AllowEmptyValue": true,
	"AllOf":           true, "Type": true, "Format": true, "Enum": true, "Nullable": true,
	"ExclusiveMin": true, "ExclusiveMax": true, "Min": true, "Max": true,
	"MinLength": true, "MaxLength": true, "Pattern": true,
	"MinItems": true, "MaxItems": true, "Items": true,
	"Required": true, "Properties": true, "MinProps": true, "MaxProps": true, "AdditionalProperties": true,
}

// compiler compiles the schemas of one document.
type compiler struct {
	opts []openapi3.SchemaValidationOption
	// strFormats are the string formats the document's validator adds to kin-openapi's own.
	strFormats map[string]openapi3.StringFormatValidator
	done       map[*openapi3.Schema]*node
}

// compile returns the node of s, compiling it (and what it refers to) on first use; recursive
// schemas share their node.
func (c *compiler) compile(s *openapi3.Schema) *node {
	if n, ok := c.done[s]; ok {
		return n
	}
	n := &node{}
	c.done[s] = n
	if !c.supported(s) {
		n.kin, n.opts = s, c.opts
		return n
	}
	n.types, n.nullable, n.empty = s.Type, s.Nullable || s.Type.IncludesNull(), s.IsEmpty()
	for _, ref := range s.AllOf {
		n.allOf = append(n.allOf, c.compile(ref.Value))
	}
	if len(s.Enum) > 0 {
		n.hasEnum, n.enumStr = true, map[string]bool{}
		for _, e := range s.Enum {
			if str, ok := e.(string); ok {
				n.enumStr[str] = true
			} else if f, ok := jsonNumber(e); ok {
				n.enumNum = append(n.enumNum, f)
			}
		}
	}
	n.min, n.max = s.Min, s.Max
	n.exclMin = s.ExclusiveMin.Bool != nil && *s.ExclusiveMin.Bool && s.Min != nil
	n.exclMax = s.ExclusiveMax.Bool != nil && *s.ExclusiveMax.Bool && s.Max != nil
	if s.Format != "" {
		n.intFormat = openapi3.SchemaIntegerFormats[s.Format]
		n.floatFormat = openapi3.SchemaNumberFormats[s.Format]
		if f, ok := c.strFormats[s.Format]; ok {
			n.strFormat = f
		} else {
			n.strFormat = openapi3.SchemaStringFormats[s.Format]
		}
	}
	n.minLen, n.maxLen = s.MinLength, s.MaxLength
	if s.Pattern != "" {
		n.pattern = regexp.MustCompile(goRegexp(s.Pattern)) // supported checked that it compiles
	}
	n.minItems, n.maxItems = s.MinItems, s.MaxItems
	if s.Items != nil {
		n.items = c.compile(s.Items.Value)
	}
	if len(s.Properties) > 0 {
		n.props = make(map[string]*node, len(s.Properties))
		for name, ref := range s.Properties {
			n.props[name] = c.compile(ref.Value)
		}
	}
	n.required, n.minProps, n.maxProps = s.Required, s.MinProps, s.MaxProps
	n.additional = s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has
	if ref := s.AdditionalProperties.Schema; ref != nil && n.additional {
		n.addSchema = c.compile(ref.Value)
	}
	return n
}

// supported reports whether the compiled check implements everything s asks: no keyword beyond
// compiledKeywords, every reference resolved, a pattern Go compiles, enums of strings and
// numbers, no readOnly or writeOnly property (a request must not carry a readOnly one, a rule of
// the parent object), and no schema among its allOf that is itself again (which kin-openapi
// breaks by its cycle check).
func (c *compiler) supported(s *openapi3.Schema) bool {
	if s == nil || s.Always != nil {
		return false
	}
	v := reflect.ValueOf(s).Elem()
	for i := range v.NumField() {
		if !compiledKeywords[v.Type().Field(i).Name] && !v.Field(i).IsZero() {
			return false
		}
	}
	for _, e := range s.Enum {
		if _, ok := e.(string); !ok {
			if _, ok := jsonNumber(e); !ok {
				return false
			}
		}
	}
	if s.Pattern != "" {
		if _, err := regexp.Compile(goRegexp(s.Pattern)); err != nil {
			return false
		}
	}
	if s.ExclusiveMin.Value != nil || s.ExclusiveMax.Value != nil {
		return false // OpenAPI 3.1's numeric bounds
	}
	for _, ref := range s.Properties {
		if ref == nil || ref.Value == nil || ref.Value.ReadOnly || ref.Value.WriteOnly {
			return false
		}
	}
	for _, ref := range append(s.AllOf, s.Items, s.AdditionalProperties.Schema) {
		if ref != nil && ref.Value == nil {
			return false
		}
	}
	return !inAllOf(s, s, nil)
}

// inAllOf reports whether target is among the allOf schemas of s, at any depth.
func inAllOf(target, s *openapi3.Schema, seen []*openapi3.Schema) bool {
	for _, ref := range s.AllOf {
		sub := ref.Value
		if sub == target {
			return true
		}
		if sub == nil || contains(seen, sub) {
			continue
		}
		if inAllOf(target, sub, append(seen, sub)) {
			return true
		}
	}
	return false
}

func contains(list []*openapi3.Schema, s *openapi3.Schema) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// patCodepoint is the \uXXXX escape of ECMA patterns, which Go writes \x{XXXX}.
var patCodepoint = regexp.MustCompile(`(?P<replaced_with_slash_x>\\u)(?P<code>[0-9A-F]{4})`)

// goRegexp rewrites a document's pattern for Go's regexp as kin-openapi does.
func goRegexp(re string) string { return patCodepoint.ReplaceAllString(re, `\x{${code}}`) }

// jsonNumber returns an enum value the document gives as a number, as a float64.
func jsonNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	}
	return 0, false
}

// valid reports whether v, a value decodeJSON returned, passes the schema. False means "not
// known to pass", not "fails".
func (n *node) valid(v any) bool {
	if n.kin != nil {
		return n.kin.VisitJSON(v, n.opts...) == nil
	}
	if v == nil {
		return n.nullable
	}
	if n.empty {
		return true
	}
	for _, sub := range n.allOf {
		if !sub.valid(v) {
			return false
		}
	}
	switch v := v.(type) {
	case bool:
		return !n.hasEnum && n.types.Permits(openapi3.TypeBoolean)
	case float64:
		return n.validNumber(v)
	case string:
		return n.validString(v)
	case []any:
		return n.validArray(v)
	case map[string]any:
		return n.validObject(v)
	}
	return false
}

// validStringValue is valid for a string, without boxing it into an interface (an allocation):
// the check of every plain string header and path parameter, on every call.
func (n *node) validStringValue(v string) bool {
	switch {
	case n.kin != nil:
		return n.kin.VisitJSON(v, n.opts...) == nil
	case n.empty:
		return true
	}
	for _, sub := range n.allOf {
		if !sub.validStringValue(v) {
			return false
		}
	}
	return n.validString(v)
}

func (n *node) validNumber(v float64) bool {
	if n.hasEnum && !containsFloat(n.enumNum, v) {
		return false
	}
	integer := n.types.Permits(openapi3.TypeInteger) && !n.types.Permits(openapi3.TypeNumber)
	switch {
	case integer:
		if v != math.Trunc(v) {
			return false
		}
		if n.intFormat != nil && !validInteger(n.intFormat, v) {
			return false
		}
	case !n.types.Permits(openapi3.TypeNumber):
		return false
	case n.floatFormat != nil && n.floatFormat.Validate(v) != nil:
		return false
	}
	switch {
	case n.exclMin && !(v > *n.min), n.exclMax && !(v < *n.max):
		return false
	case n.min != nil && !(*n.min <= v), n.max != nil && !(*n.max >= v):
		return false
	}
	return true
}

// validInteger converts v for an integer format as kin-openapi does: float64 cannot hold
// math.MaxInt64, which rounds up to 2^63.
func validInteger(f openapi3.FormatValidator[int64], v float64) bool {
	switch {
	case v == float64(math.MaxInt64):
		return f.Validate(math.MaxInt64) == nil
	case v >= float64(math.MinInt64) && v < float64(math.MaxInt64):
		return f.Validate(int64(v)) == nil
	}
	return false
}

func containsFloat(list []float64, v float64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (n *node) validString(v string) bool {
	if n.hasEnum && !n.enumStr[v] || !n.types.Permits(openapi3.TypeString) {
		return false
	}
	if n.minLen != 0 || n.maxLen != nil {
		// Counted as kin-openapi counts (its comment says UTF-16 code units; its test,
		// utf16.IsSurrogate, is false for every rune of a Go string, so it counts runes).
		length := uint64(0)
		for _, r := range v {
			if utf16.IsSurrogate(r) {
				length += 2
			} else {
				length++
			}
		}
		if length < n.minLen || n.maxLen != nil && length > *n.maxLen {
			return false
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(v) {
		return false
	}
	return n.strFormat == nil || n.strFormat.Validate(v) == nil
}

func (n *node) validArray(v []any) bool {
	if n.hasEnum || !n.types.Permits(openapi3.TypeArray) {
		return false
	}
	if uint64(len(v)) < n.minItems || n.maxItems != nil && uint64(len(v)) > *n.maxItems {
		return false
	}
	if n.items != nil {
		for _, item := range v {
			if !n.items.valid(item) {
				return false
			}
		}
	}
	return true
}

func (n *node) validObject(v map[string]any) bool {
	if n.hasEnum || !n.types.Permits(openapi3.TypeObject) {
		return false
	}
	if uint64(len(v)) < n.minProps || n.maxProps != nil && uint64(len(v)) > *n.maxProps {
		return false
	}
	for k, value := range v {
		if p, ok := n.props[k]; ok {
			if !p.valid(value) {
				return false
			}
			continue
		}
		if !n.additional || n.addSchema != nil && !n.addSchema.valid(value) {
			return false
		}
	}
	for _, k := range n.required {
		if _, ok := v[k]; !ok {
			return false
		}
	}
	return true
}

// maxScanKeys is the most members an object may have for scan to check it; a larger one is
// left to decodeJSON and valid, since scan finds repeated keys by comparing each with the others.
const maxScanKeys = 32

// validBody reports whether body is JSON that decodeJSON decodes into a value the schema passes,
// checked as it is read, without building the value: no maps, no boxed strings. False means
// "not known to pass": the caller decodes the body and checks it again.
func (n *node) validBody(body []byte, names map[string]any) bool {
	if len(body) == 0 {
		return false
	}
	// The strings read are looked at during the call and kept by nothing, so they may share the
	// body's bytes, which the caller does not change meanwhile: no copy of the body.
	d := decoder{data: body, str: unsafe.String(&body[0], len(body)), names: names}
	d.skipSpace()
	if !n.scan(&d, 0) {
		return false
	}
	d.skipSpace()
	return d.pos == len(d.data)
}

// scan reads the JSON value at d.pos and reports whether it passes the schema, by the rules of
// valid. Parts that need the decoded value (kin-openapi's, allOf, the empty schema) are decoded
// with d.value and handed to valid.
func (n *node) scan(d *decoder, depth int) bool {
	if d.pos >= len(d.data) {
		return false
	}
	c := d.data[d.pos]
	if n.kin != nil || len(n.allOf) > 0 || n.empty || c == 't' || c == 'f' || c == 'n' {
		v, err := d.value(depth)
		return err == nil && n.valid(v)
	}
	switch {
	case c == '"':
		s, _, err := d.stringRaw()
		return err == nil && n.validString(s)
	case c == '-' || c >= '0' && c <= '9':
		f, err := d.numberRaw()
		return err == nil && n.validNumber(f)
	case c == '[':
		return n.scanArray(d, depth+1)
	case c == '{':
		return n.scanObject(d, depth+1)
	}
	return false
}

func (n *node) scanArray(d *decoder, depth int) bool {
	if depth > maxDepth || n.hasEnum || !n.types.Permits(openapi3.TypeArray) {
		return false
	}
	count := uint64(0)
	if !d.open(']') {
		for {
			if n.items != nil {
				if !n.items.scan(d, depth) {
					return false
				}
			} else if _, err := d.value(depth); err != nil {
				return false
			}
			count++
			more, err := d.more(']')
			if err != nil {
				return false
			}
			if !more {
				break
			}
		}
	}
	return count >= n.minItems && (n.maxItems == nil || count <= *n.maxItems)
}

func (n *node) scanObject(d *decoder, depth int) bool {
	if depth > maxDepth || n.hasEnum || !n.types.Permits(openapi3.TypeObject) {
		return false
	}
	var keys [maxScanKeys]string
	count := 0
	if !d.open('}') {
		for {
			if count == maxScanKeys || d.pos >= len(d.data) || d.data[d.pos] != '"' {
				return false
			}
			k, _, err := d.stringRaw()
			if err != nil {
				return false
			}
			for _, seen := range keys[:count] {
				if seen == k {
					return false // decodeJSON keeps the last; valid decides
				}
			}
			keys[count] = k
			count++
			d.skipSpace()
			if d.pos >= len(d.data) || d.data[d.pos] != ':' {
				return false
			}
			d.pos++
			d.skipSpace()
			switch p, ok := n.props[k]; {
			case ok:
				if !p.scan(d, depth) {
					return false
				}
			case !n.additional:
				return false
			case n.addSchema != nil:
				if !n.addSchema.scan(d, depth) {
					return false
				}
			default:
				if _, err := d.value(depth); err != nil {
					return false
				}
			}
			more, err := d.more('}')
			if err != nil {
				return false
			}
			if !more {
				break
			}
		}
	}
	if uint64(count) < n.minProps || n.maxProps != nil && uint64(count) > *n.maxProps {
		return false
	}
	for _, r := range n.required {
		if !slices.Contains(keys[:count], r) {
			return false
		}
	}
	return true
}
