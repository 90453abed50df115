package rules

// Reading YAML nodes: the document, mappings with known keys, and scalar values, each reporting
// its problems with the line they are on.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLineRE splits yaml.v3's error messages into the line and the message.
var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// emptyDocument is the problem of a document with no content at all.
const emptyDocument = "the document is empty: expected a mapping with version and rules"

// document parses data into its root node, reporting syntax errors, an empty document and extra
// documents.
func (p *parser) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(1, emptyDocument)
		} else {
			p.syntaxError(data, err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		line := extra.Line
		if len(extra.Content) > 0 {
			line = extra.Content[0].Line
		}
		p.errorf(line, "a second YAML document starts here: a rules file holds exactly one document")
		return nil
	case !errors.Is(err, io.EOF):
		p.syntaxError(data, err)
		return nil
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		p.errorf(1, emptyDocument)
		return nil
	}
	root := deref(doc.Content[0])
	if isNull(root) {
		p.errorf(1, emptyDocument)
		return nil
	}
	return root
}

// json checks a JSON document and returns it as YAML that means the same, on the same lines.
// JSON is YAML but for two things yaml.v3 does not read: tabs, which JSON allows as white space,
// become spaces, and a text with an escape YAML lacks (\/, or a surrogate pair such as
// \ud83d\ude00) is written again the way encoding/json writes it, which yaml.v3 reads. A text of
// valid JSON holds no line break, so no line moves. A syntax error is reported at its line with
// encoding/json's reason.
func (p *parser) json(data []byte) ([]byte, bool) {
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		line := 1
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the bytes read, the offending one included.
			line += bytes.Count(data[:min(max(se.Offset-1, 0), int64(len(data)))], []byte("\n"))
		}
		p.errorf(line, "JSON syntax error: %s", err)
		return nil, false
	}
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\t':
			out = append(out, ' ')
		case '"':
			end := i + 1 // past the closing quote
			escaped := false
			for ; data[end] != '"'; end++ {
				if data[end] == '\\' {
					escaped = true
					end++
				}
			}
			end++
			text := data[i:end]
			if escaped {
				var s string
				_ = json.Unmarshal(text, &s) // valid: the whole document is
				text, _ = json.Marshal(s)
			}
			out = append(out, text...)
			i = end - 1
		default:
			out = append(out, c)
		}
	}
	return out, true
}

// syntaxError reports a YAML syntax error. yaml.v3 often names the line where the enclosing
// block starts rather than the offending line, so the line is found again by cutting the document
// after a line and parsing what is left (see firstBadLine); the message is yaml.v3's.
func (p *parser) syntaxError(data []byte, err error) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if l := firstBadLine(data, msg, line); l > 0 {
		line = l
	}
	p.errorf(line, "YAML syntax error: %s", msg)
}

// firstBadLine returns the smallest n such that the first n lines of data fail to parse with the
// message msg, which the whole of data fails with at yaml.v3's line reported, or 0 if there is
// none. Requiring the same message skips lines where a multi-line flow collection or quoted text
// has merely not been closed yet. Two parses confirm the reported line when it is the one; else
// the search is a binary one: once the first n lines hold the offending line, so does every
// longer cut, and parses with it fail the same way, while shorter cuts parse or fail otherwise;
// so a long document costs a few parses, not one per line.
func firstBadLine(data []byte, msg string, reported int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	ends := make([]int, len(lines)) // ends[i]: the length of the first i+1 lines
	end := 0
	for i, l := range lines {
		end += len(l)
		ends[i] = end
	}
	fails := func(i int) bool {
		err := parseAll(data[:ends[i]])
		if err == nil {
			return false
		}
		got := err.Error()
		if m := yamlLineRE.FindStringSubmatch(got); m != nil {
			got = m[2]
		}
		return got == msg
	}
	if r := reported - 1; r >= 0 && r < len(lines) && fails(r) && (r == 0 || !fails(r-1)) {
		return reported
	}
	i := sort.Search(len(lines), fails)
	if i == len(lines) {
		return 0
	}
	return i + 1
}

// parseAll parses every document in data and returns the first error.
func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// deref follows aliases to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// field is one key and its value in a mapping.
type field struct {
	key, val *yaml.Node
}

// fields returns the entries of the mapping n, reporting unknown and repeated keys. where names
// the mapping in messages.
func (p *parser) fields(n *yaml.Node, where string, known []string) ([]field, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s must be a mapping of %s, not %s", where, strings.Join(known, ", "), describe(n))
		return nil, false
	}
	out := make([]field, 0, len(n.Content)/2)
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, "%s: a key must be a plain word, not %s", where, describe(k))
			continue
		}
		if !slices.Contains(known, k.Value) {
			p.errorf(k.Line, "%s: unknown key %q%s (known keys: %s)", where, k.Value, suggest(k.Value, known), strings.Join(known, ", "))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.errorf(k.Line, "%s: %s is given twice (first at line %d)", where, k.Value, first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, field{key: k, val: v})
	}
	return out, true
}

// textValue is one text of a one-or-list value, with its line.
type textValue struct {
	s    string
	line int
}

// items returns the values of a one-or-list value: n itself, or the entries of the list n. An
// empty list is reported and yields nil, and so does a list that takes the document past
// maxValues.
func (p *parser) items(n *yaml.Node, what string) []*yaml.Node {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	if len(items) == 0 {
		p.errorf(n.Line, "%s: the list is empty", what)
		return nil
	}
	p.values += len(items)
	if p.maxValues > 0 && p.values > p.maxValues {
		if p.values-len(items) <= p.maxValues { // reported where the document goes past it
			p.errorf(n.Line, "%s: the document's conditions list more than %d values in all (each use of an alias counts again), the most it may list", what, p.maxValues)
		}
		return nil
	}
	return items
}

// texts reads a value that is one text or a non-empty list of texts.
func (p *parser) texts(n *yaml.Node, what string) []textValue {
	items := p.items(n, what)
	if items == nil {
		return nil
	}
	out := make([]textValue, 0, len(items))
	for _, it := range items {
		it = deref(it)
		if s, ok := p.text(it, what); ok {
			out = append(out, textValue{s: s, line: it.Line})
		}
	}
	return out
}

// text reads a scalar text; numbers are taken as written.
func (p *parser) text(n *yaml.Node, what string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.Tag {
		case "!!str", "!!int", "!!float":
			return n.Value, true
		}
	}
	p.errorf(n.Line, "%s must be a text, not %s", what, describe(n))
	return "", false
}

// boolean reads a YAML boolean.
func (p *parser) boolean(n *yaml.Node, what string) (bool, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		var b bool
		if err := n.Decode(&b); err == nil {
			return b, true
		}
	}
	p.errorf(n.Line, "%s must be true or false, not %s", what, describe(n))
	return false, false
}

// integer reads a whole number that fits an int64.
func (p *parser) integer(n *yaml.Node, what string) (int64, bool) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		var v int64
		if err := n.Decode(&v); err == nil {
			return v, true
		}
		p.errorf(n.Line, "%s: %s is out of range", what, n.Value)
		return 0, false
	}
	p.errorf(n.Line, "%s must be a whole number, not %s", what, describe(n))
	return 0, false
}

// describe names the type of a node for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "the boolean " + n.Value
		case "!!int", "!!float":
			return "the number " + n.Value
		default:
			return strconv.Quote(n.Value)
		}
	}
	return "an unexpected YAML node"
}

// mappingText returns the trimmed text value of key in the mapping n, or "".
func mappingText(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k, v := deref(n.Content[i]), deref(n.Content[i+1]); k.Value == key && v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
			return strings.TrimSpace(v.Value)
		}
	}
	return ""
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func hasKey(fs []field, key string) bool { return valueOf(fs, key) != nil }

func valueOf(fs []field, key string) *yaml.Node {
	for _, f := range fs {
		if f.key.Value == key {
			return f.val
		}
	}
	return nil
}
