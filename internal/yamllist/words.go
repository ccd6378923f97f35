package yamllist

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Decode decodes n into v, as n.Decode does, and words a value of the
// wrong type by its field, what it wants and what it got, whole: yaml's
// "line 8: cannot unmarshal !!str `messag...` into []string" becomes
// `line 8: fields: want a list, got "messages_and_more"`.
func Decode(n *yaml.Node, v any) error {
	return worded(n.Decode(v), n, "")
}

// worded rewrites the type errors of decoding in (of a document whose
// only list is key's, when key is set) as LineErrors: a wrong type by its
// field, an unknown top-level field by its name. Any other error is err.
func worded(err error, in *yaml.Node, key string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return err
	}
	es := make(LineErrors, len(te.Errors))
	for i, e := range te.Errors {
		es[i] = lineError(e)
		if m := wrongType.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			if path, val := fieldAt(in, line, "!!"+m[2], ""); path != "" {
				es[i].Msg = fmt.Sprintf("%s: want %s, got %s", path, want(m[3]), got(val))
			}
		} else if m := unknownField.FindStringSubmatch(e); m != nil && key != "" {
			es[i].Msg = fmt.Sprintf("unknown field %q: want a top-level %q list", m[2], key+":")
		}
	}
	return es
}

var (
	wrongType    = regexp.MustCompile("^line ([0-9]+): cannot unmarshal !!([a-z]+)(?: `.*`)? into (.+)$")
	unknownField = regexp.MustCompile(`^line ([0-9]+): field (.+) not found in type `)
)

// fieldAt finds the field whose value, of yaml's tag (!!str), starts on
// line, in a mapping and the mappings within it, and returns its path
// (limit.tier) and value.
func fieldAt(n *yaml.Node, line int, tag, prefix string) (string, *yaml.Node) {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return "", nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := prefix + k.Value
		if v.Line == line && v.ShortTag() == tag {
			return path, v
		}
		if p, val := fieldAt(v, line, tag, path+"."); p != "" {
			return p, val
		}
	}
	return "", nil
}

// want words a Go type.
func want(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "struct"):
		return "a mapping"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	}
	if t, ok := kinds[goType]; ok {
		return t
	}
	return "a value of another kind (" + goType + ")"
}

// kinds words Go's number types; a named type (a struct) is a mapping.
var kinds = func() map[string]string {
	m := map[string]string{}
	for _, k := range []reflect.Kind{reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64} {
		m[k.String()] = "a number"
	}
	return m
}()

// got words a value: a scalar quoted whole, a list or a mapping by kind.
func got(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return strconv.Quote(v.Value)
}
