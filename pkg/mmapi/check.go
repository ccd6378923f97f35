package mmapi

import (
	"encoding/json"
	"fmt"
)

// CheckComponents reports the first component of list that the API would
// refuse for what it is among the others, named by its place under path
// ("components[1]: ..."):
//   - a component with the type, sub_type and index of an earlier one: the
//     API takes one of each, and MergeComponents lays a recipient's
//     component over one campaign component only, so one of the two would
//     be dropped or the message refused;
//   - an index that is not a button's position, a number from 0 to 9
//     (written as a number or in a string, "0", as both appear in the
//     wild);
//   - a parameter without its value (a text parameter without "text", or
//     with a number there, a currency or a date_time without its
//     fallback_value), whose value is blank, or whose media link is not
//     an http(s) link (see CheckValue and CheckLink), named by its
//     field ("components[0].parameters[1].text: empty (...)"), or whose
//     parameter_name is blank or not lowercase letters, digits and
//     underscores ("components[0].parameters[0].parameter_name: ..."):
//     the API would refuse the message at send (error 100). A component
//     built by RawComponent is vouched for.
//
// A component's type is its caller's to check.
func CheckComponents(path string, list []Component) error {
	for i, c := range list {
		if !validIndex(c.Index) {
			return fmt.Errorf("%s[%d].index: want a number from 0 to 9 (or the same in a string, \"0\"), got %s", path, i, c.describeIndex())
		}
		// Lists are short (a template has a few components): no map.
		for _, prev := range list[:i] {
			if prev.Type == c.Type && prev.SubType == c.SubType && prev.Index == c.Index {
				return fmt.Errorf("%s[%d]: a second %s (one per type, sub_type and index)", path, i, c.kind())
			}
		}
		if !c.vouched && suspect(c.raw) { // a scan of its bytes spares nearly every component a decode
			if err := checkParameters(fmt.Sprintf("%s[%d]", path, i), c.raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// validIndex: no index, or one digit.
func validIndex(index string) bool {
	return index == "" || len(index) == 1 && index[0] >= '0' && index[0] <= '9'
}

// describeIndex says what the component's index is, as written: "an
// object", "an array", or the value itself, shortened.
func (c Component) describeIndex() string {
	v := c.Index
	var head struct {
		Index json.RawMessage `json:"index"`
	}
	if len(c.raw) > 0 && json.Unmarshal(c.raw, &head) == nil && len(head.Index) > 0 {
		v = string(head.Index)
	}
	switch v[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	if r := []rune(v); len(r) > 24 {
		v = string(r[:20]) + "..."
	}
	return v
}

// kind names the component by its type, sub_type and index: "body
// component", `button component of sub_type "url" and index 0`.
func (c Component) kind() string {
	s := c.Type + " component"
	switch {
	case c.SubType != "" && c.Index != "":
		s += fmt.Sprintf(" of sub_type %q and index %s", c.SubType, c.Index)
	case c.SubType != "":
		s += fmt.Sprintf(" of sub_type %q", c.SubType)
	case c.Index != "":
		s += " of index " + c.Index
	}
	return s
}
