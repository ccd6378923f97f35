package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// A recipient's own components become the CSV columns they came from
// (see docs/campaigns.md#recipients): header.text, header.image,
// header.video, header.document, body.N or body.<name>, button.N. Any
// other component, or parameter, has no column: a CSV export refuses it
// (ErrNoColumn) rather than lose it.

// NamedColumn reports whether a body parameter named name has a
// body.<name> column that mmlite enqueue reads back as that name: any name
// the API takes (see mmapi.ParamName) but digits alone, which a column
// reads as a position (body.2, the second parameter).
func NamedColumn(name string) bool {
	return mmapi.ParamName(name) && strings.Trim(name, "0123456789") != ""
}

// ErrHeader says the recipients' columns cannot share one CSV header.
var ErrHeader = errors.New("results: no CSV header fits every recipient")

// ErrNoColumn says a recipient's components cannot be CSV columns.
type ErrNoColumn struct {
	To     string
	Reason string
}

func (e *ErrNoColumn) Error() string {
	return fmt.Sprintf("recipient %s: %s, which no CSV column can carry: export JSON Lines, or follow up with POST /v1/campaigns/{id}/follow-up (it keeps every component)", e.To, e.Reason)
}

type param struct {
	Type          string `json:"type"`
	Text          string `json:"text"`
	ParameterName string `json:"parameter_name"`
	Image         *media `json:"image"`
	Video         *media `json:"video"`
	Document      *media `json:"document"`
}

type media struct {
	Link string `json:"link"`
}

type component struct {
	Type       string  `json:"type"`
	SubType    string  `json:"sub_type"`
	Parameters []param `json:"parameters"`
}

// cells are a recipient's columns and values.
func cells(to string, comps []mmapi.Component, meta map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(comps)+len(meta)+1)
	for _, c := range comps {
		raw, err := c.MarshalJSON()
		if err != nil {
			return nil, err
		}
		var cm component
		if err := json.Unmarshal(raw, &cm); err != nil {
			return nil, &ErrNoColumn{To: to, Reason: "a component that is not valid JSON"}
		}
		if err := addComponent(out, c, cm); err != nil {
			return nil, &ErrNoColumn{To: to, Reason: err.Error()}
		}
		if err := onlyCarriedKeys(c.Type, raw); err != nil {
			return nil, &ErrNoColumn{To: to, Reason: err.Error()}
		}
	}
	for k, v := range meta {
		out["meta."+k] = v
	}
	return out, nil
}

func addComponent(out map[string]string, c mmapi.Component, cm component) error {
	switch c.Type {
	case "header":
		if len(cm.Parameters) != 1 {
			return fmt.Errorf("a header with %d parameters", len(cm.Parameters))
		}
		p := cm.Parameters[0]
		switch {
		case p.ParameterName != "":
			return fmt.Errorf("a named header parameter (%q): header.text has no name", p.ParameterName)
		case p.Type == "text":
			out["header.text"] = p.Text
		case p.Type == "image" && p.Image != nil && p.Image.Link != "":
			out["header.image"] = p.Image.Link
		case p.Type == "video" && p.Video != nil && p.Video.Link != "":
			out["header.video"] = p.Video.Link
		case p.Type == "document" && p.Document != nil && p.Document.Link != "":
			out["header.document"] = p.Document.Link
		default:
			return fmt.Errorf("a header parameter of type %s without a link", p.Type)
		}
	case "body":
		if len(cm.Parameters) == 0 {
			// It replaces the campaign's body; no cell says so (an empty
			// body.* cell is read as "none of its own").
			return errors.New("a body without parameters (it replaces the campaign's body)")
		}
		for i, p := range cm.Parameters {
			if p.Type != "text" {
				return fmt.Errorf("a body parameter of type %s", p.Type)
			}
			if p.ParameterName != "" {
				if !NamedColumn(p.ParameterName) {
					return fmt.Errorf("a body parameter named %q, which no body.<name> column can be", p.ParameterName)
				}
				out["body."+p.ParameterName] = p.Text
			} else {
				out["body."+strconv.Itoa(i+1)] = p.Text
			}
		}
	case "button":
		n, err := strconv.Atoi(c.Index)
		if cm.SubType != "url" || err != nil || n < 0 || n > 9 || len(cm.Parameters) != 1 || cm.Parameters[0].Type != "text" {
			return fmt.Errorf("a %s button at index %s", cm.SubType, c.Index)
		}
		out["button."+c.Index] = cm.Parameters[0].Text
	default:
		return fmt.Errorf("a %s component", c.Type)
	}
	return nil
}

// header orders the columns: to, the header, the body parameters (by
// position, or by name), the buttons, the metadata, then the outcome.
func header(cols map[string]bool) ([]string, error) {
	var head, pos, named, buttons, meta []string
	for c := range cols {
		kind, rest, _ := strings.Cut(c, ".")
		switch kind {
		case "header":
			head = append(head, c)
		case "body":
			if _, err := strconv.Atoi(rest); err == nil {
				pos = append(pos, c)
			} else {
				named = append(named, c)
			}
		case "button":
			buttons = append(buttons, c)
		case "meta":
			meta = append(meta, c)
		}
	}
	if len(head) > 1 {
		sort.Strings(head)
		return nil, sentence.Of(ErrHeader, "no CSV header fits every recipient: they have headers of different kinds (%s): a CSV has one header column", strings.Join(head, ", "))
	}
	if len(pos) > 0 && len(named) > 0 {
		return nil, sentence.Of(ErrHeader, "no CSV header fits every recipient: they have both positional and named body parameters: a CSV has one kind")
	}
	sort.Slice(pos, func(i, j int) bool { return num(pos[i]) < num(pos[j]) })
	sort.Strings(named)
	sort.Strings(buttons)
	sort.Strings(meta)
	out := append([]string{"to"}, head...)
	out = append(append(append(append(out, pos...), named...), buttons...), meta...)
	return append(out, OutcomeColumns...), nil
}

// OutcomeColumns are the columns of the outcome, last in a CSV export:
// mmlite enqueue reads past them, and takes a file with all of them for an
// export (see package producer).
var OutcomeColumns = []string{"status", "error_code", "wamid"}

func num(col string) int {
	_, rest, _ := strings.Cut(col, ".")
	n, _ := strconv.Atoi(rest)
	return n
}

// The keys of a component, of its parameters and of a parameter's media
// that the columns carry, by component type: mmlite enqueue makes the
// component again from its cells with these keys only.
var (
	componentKeys = map[string][]string{"header": {"type", "parameters"}, "body": {"type", "parameters"},
		"button": {"type", "sub_type", "index", "parameters"}}
	paramKeys = map[string][]string{"body": {"type", "text", "parameter_name"}, "button": {"type", "text"}}
	mediaKeys = []string{"link"}
)

// onlyCarriedKeys says which key of a component (one addComponent took)
// no column carries: a key the API gets as written (a document's
// filename, say), which the row would send the component without.
func onlyCarriedKeys(typ string, raw []byte) error {
	var c map[string]json.RawMessage
	if err := json.Unmarshal(raw, &c); err != nil {
		return errors.New("a component that is not valid JSON")
	}
	if k := extraKey(c, componentKeys[typ]); k != "" {
		return fmt.Errorf("a %s component with the key %q", typ, k)
	}
	var params []map[string]json.RawMessage
	if err := json.Unmarshal(c["parameters"], &params); err != nil {
		return fmt.Errorf("a %s component whose parameters are not objects", typ)
	}
	for _, p := range params {
		allowed := paramKeys[typ]
		if typ == "header" { // its type's key only: header.text, header.image, ...
			var pt string
			_ = json.Unmarshal(p["type"], &pt)
			allowed = []string{"type", pt}
		}
		if k := extraKey(p, allowed); k != "" {
			return fmt.Errorf("a %s parameter with the key %q", typ, k)
		}
		for _, m := range []string{"image", "video", "document"} {
			if v, ok := p[m]; ok && !isNull(v) {
				var media map[string]json.RawMessage
				if err := json.Unmarshal(v, &media); err != nil {
					return fmt.Errorf("a %s parameter whose %s is not an object", typ, m)
				}
				if k := extraKey(media, mediaKeys); k != "" {
					return fmt.Errorf("a %s parameter whose %s has the key %q", typ, m, k)
				}
			}
		}
	}
	return nil
}

// extraKey is the first key of m, in order, that is not allowed and not
// null ("" when there is none).
func extraKey(m map[string]json.RawMessage, allowed []string) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if !slices.Contains(allowed, k) && !isNull(v) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	return keys[0]
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }
