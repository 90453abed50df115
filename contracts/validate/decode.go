package validate

import (
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
)

// maxDepth is the deepest nesting decodeJSON accepts, as encoding/json.
const maxDepth = 10000

var errSyntax = errors.New("the body is not valid JSON")

// decodeJSON parses a JSON document into the same values as json.Unmarshal into an any
// (map[string]any, []any, string, float64, bool, nil), about three times faster: the request
// body is decoded once per request, and this is where most of the validation time went. Strings
// with escapes or invalid UTF-8 take encoding/json's own path so that the results match exactly;
// FuzzDecodeJSON checks the two agree.
//
// names interns strings: a key or string value found in it (mapping the string to itself,
// boxed) is not allocated again.
func decodeJSON(data []byte, names map[string]any) (any, error) {
	// One string of the whole body: every plain string and number is a substring of it, which
	// costs no allocation.
	d := decoder{data: data, str: string(data), names: names}
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.pos != len(d.data) {
		return nil, errSyntax
	}
	return v, nil
}

type decoder struct {
	data  []byte
	str   string // data as a string
	pos   int
	names map[string]any
}

// smallInts holds boxed float64 values of the integers 0..255, so that decoding common small
// numbers (quantities, frequencies) does not allocate.
var smallInts = func() (a [256]any) {
	for i := range a {
		a[i] = float64(i)
	}
	return a
}()

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.pos >= len(d.data) {
		return nil, errSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.stringValue()
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	}
	return nil, errSyntax
}

func (d *decoder) literal(lit string, v any) (any, error) {
	if len(d.data)-d.pos < len(lit) || string(d.data[d.pos:d.pos+len(lit)]) != lit {
		return nil, errSyntax
	}
	d.pos += len(lit)
	return v, nil
}

func (d *decoder) object(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errSyntax
	}
	m := make(map[string]any)
	if d.open('}') {
		return m, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return nil, errSyntax
		}
		kv, err := d.stringValue()
		if err != nil {
			return nil, err
		}
		k := kv.(string)
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return nil, errSyntax
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v
		more, err := d.more('}')
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
	}
}

func (d *decoder) array(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errSyntax
	}
	a := make([]any, 0, 4)
	if d.open(']') {
		return a, nil
	}
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		more, err := d.more(']')
		if err != nil {
			return nil, err
		}
		if !more {
			return a, nil
		}
	}
}

// open skips the '{' or '[' at d.pos and the space after it, and reports whether end, the
// bracket that closes it, follows at once: then it skips that too, and the container is empty.
func (d *decoder) open(end byte) bool {
	d.pos++
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == end {
		d.pos++
		return true
	}
	return false
}

// more reads what follows a member or element: a ',' and the space after it, when it reports
// true, or end, the bracket that closes the container. Anything else is errSyntax.
func (d *decoder) more(end byte) (bool, error) {
	d.skipSpace()
	if d.pos >= len(d.data) {
		return false, errSyntax
	}
	switch d.data[d.pos] {
	case ',':
		d.pos++
		d.skipSpace()
		return true, nil
	case end:
		d.pos++
		return false, nil
	}
	return false, errSyntax
}

// stringValue decodes the string starting at d.pos (a '"'), boxed.
func (d *decoder) stringValue() (any, error) {
	s, plain, err := d.stringRaw()
	if err != nil {
		return nil, err
	}
	if plain {
		if boxed, ok := d.names[s]; ok {
			return boxed, nil
		}
	}
	return s, nil
}

// stringRaw decodes the string starting at d.pos (a '"'); plain reports that it held neither
// escapes nor anything but ASCII.
func (d *decoder) stringRaw() (s string, plain bool, err error) {
	start := d.pos
	d.pos++
	plain = true
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			if plain {
				return d.str[start+1 : d.pos-1], true, nil
			}
			raw := d.data[start+1 : d.pos-1]
			if !hasBackslash(raw) && utf8.Valid(raw) {
				return d.str[start+1 : d.pos-1], false, nil
			}
			var unquoted string // not s: taking its address would put every s on the heap
			if err := json.Unmarshal(d.data[start:d.pos], &unquoted); err != nil {
				return "", false, errSyntax
			}
			return unquoted, false, nil
		case c == '\\':
			plain = false
			d.pos += 2 // the escaped byte is never the closing quote
		case c < 0x20:
			return "", false, errSyntax
		default:
			if c >= utf8.RuneSelf {
				plain = false
			}
			d.pos++
		}
	}
	return "", false, errSyntax
}

func hasBackslash(b []byte) bool {
	for _, c := range b {
		if c == '\\' {
			return true
		}
	}
	return false
}

// number decodes a number as numberRaw does, boxed.
func (d *decoder) number() (any, error) {
	start := d.pos
	f, err := d.numberRaw()
	if err != nil {
		return nil, err
	}
	// Up to three digits, without sign, fraction or exponent: an integer, boxed once for all.
	if d.pos-start <= 3 && d.data[start] != '-' && !hasFraction(d.data[start:d.pos]) && f < float64(len(smallInts)) {
		return smallInts[int(f)], nil
	}
	return f, nil
}

// numberRaw decodes a number with the JSON grammar -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// into a float64, as encoding/json does.
func (d *decoder) numberRaw() (float64, error) {
	start := d.pos
	if d.data[d.pos] == '-' {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return 0, errSyntax
	}
	switch c := d.data[d.pos]; {
	case c == '0':
		d.pos++
	case c >= '1' && c <= '9':
		d.pos++
		d.digits()
	default:
		return 0, errSyntax
	}
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		d.pos++
		if d.digits() == 0 {
			return 0, errSyntax
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return 0, errSyntax
		}
	}
	if n := d.pos - start; n <= 3 && d.data[start] != '-' && !hasFraction(d.data[start:d.pos]) {
		i := 0
		for _, c := range d.data[start:d.pos] {
			i = i*10 + int(c-'0')
		}
		return float64(i), nil
	}
	f, err := strconv.ParseFloat(d.str[start:d.pos], 64)
	if err != nil {
		return 0, errSyntax // out of range, as encoding/json
	}
	return f, nil
}

func hasFraction(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return true
		}
	}
	return false
}

func (d *decoder) digits() int {
	n := 0
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
		n++
	}
	return n
}
