package mmapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Message is the request body of POST /marketing_messages.
type Message struct {
	MessagingProduct       string   `json:"messaging_product"`
	RecipientType          string   `json:"recipient_type"`
	To                     string   `json:"to"`
	Type                   string   `json:"type"`
	Template               Template `json:"template"`
	MessageActivitySharing *bool    `json:"message_activity_sharing,omitempty"`
	MessageSendTTLSeconds  int      `json:"message_send_ttl_seconds,omitempty"`
	ProductPolicy          string   `json:"product_policy,omitempty"`
}

// Template names an approved marketing template and fills its variables.
type Template struct {
	Name       string      `json:"name"`
	Language   Language    `json:"language"`
	Components []Component `json:"components,omitempty"`
}

// Language selects the template translation. Policy is always "deterministic".
type Language struct {
	Policy string `json:"policy"`
	Code   string `json:"code"`
}

// DefaultPolicy is the only language policy the API knows.
const DefaultPolicy = "deterministic"

// Product policies accepted in Message.ProductPolicy.
const (
	PolicyCloudAPIFallback = "CLOUD_API_FALLBACK"
	PolicyStrict           = "STRICT"
)

// NewMessage returns the body for one recipient: the fixed fields set, the
// template copied, and components merged with MergeComponents.
func NewMessage(to string, tpl Template, recipient []Component) *Message {
	if tpl.Language.Policy == "" {
		tpl.Language.Policy = DefaultPolicy
	}
	tpl.Components = MergeComponents(tpl.Components, recipient)
	return &Message{
		MessagingProduct: "whatsapp",
		RecipientType:    "individual",
		To:               to,
		Type:             "template",
		Template:         tpl,
	}
}

// Component is one template component (header, body, button, carousel, ...).
// It keeps the exact JSON it was built from, so that component kinds this
// package does not model travel unchanged; Type, SubType and Index identify it.
type Component struct {
	Type    string
	SubType string
	Index   string
	raw     json.RawMessage
	vouched bool // built by RawComponent: its parameters are not checked again
}

// NewComponent builds a component from any JSON-marshalable object, usually a
// map. It fails if the object has no string "type".
func NewComponent(v any) (Component, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return Component{}, fmt.Errorf("mmapi: component: %w", err)
	}
	var c Component
	if err := c.UnmarshalJSON(b); err != nil {
		return Component{}, err
	}
	return c, nil
}

// MarshalJSON returns the component's JSON as given.
func (c Component) MarshalJSON() ([]byte, error) {
	if len(c.raw) == 0 {
		return json.Marshal(map[string]string{"type": c.Type})
	}
	return c.raw, nil
}

// JSONFields are the component keys mmlite reads (or that every component
// of a kind has), the rest travelling as written: a strict decoder (see
// mmlite's strictjson) refuses "Type" rather than read it as "type" and
// send a component the API refuses.
func (Component) JSONFields() []string { return []string{"type", "sub_type", "index", "parameters"} }

// UnmarshalJSON keeps the raw object and reads its identifying fields. The
// index may be a string or a number, as both appear in the wild.
func (c *Component) UnmarshalJSON(b []byte) error {
	var head struct {
		Type    string          `json:"type"`
		SubType string          `json:"sub_type"`
		Index   json.RawMessage `json:"index"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field == "" {
			return &ComponentError{Offset: te.Offset, Reason: "want a JSON object, got " + te.Value}
		}
		if errors.As(err, &te) {
			return &ComponentError{Field: te.Field, Offset: te.Offset, Reason: fmt.Sprintf("want %s, got %s", te.Type, te.Value)}
		}
		return fmt.Errorf("mmapi: component: %w", err)
	}
	if head.Type == "" {
		return &ComponentError{Reason: `missing "type"`}
	}
	c.Type, c.SubType = head.Type, head.SubType
	c.Index = string(bytes.Trim(head.Index, `"`))
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return fmt.Errorf("mmapi: component: %w", err)
	}
	c.raw = buf.Bytes()
	return nil
}

// ComponentError is a component's JSON that is not a component: not an
// object, without a "type", or with a field of the wrong type.
type ComponentError struct {
	Field  string // the field at fault ("type", "sub_type"); "" for the component
	Offset int64  // in bytes from the component's start, as encoding/json counts
	Reason string // "want string, got number", `missing "type"`
}

func (e *ComponentError) Error() string { return "mmapi: " + e.Named("component") }

// Named says what is wrong with the component, named by its path, as in
// "components[2].type: want string, got number".
func (e *ComponentError) Named(path string) string {
	if e.Field != "" {
		path += "." + e.Field
	}
	return path + ": " + e.Reason
}

// In names the component of list that fails by its index,
// "prefix[i].field: reason" (its own error cannot know it); prefix alone
// when none of list fails.
func (e *ComponentError) In(list []json.RawMessage, prefix string) string {
	for i, c := range list {
		var comp Component
		var ce *ComponentError
		if err := comp.UnmarshalJSON(c); errors.As(err, &ce) {
			return ce.Named(fmt.Sprintf("%s[%d]", prefix, i))
		}
	}
	return e.Named(prefix)
}

// At is In for the list at path in the JSON document b, its keys joined
// by dots ("template.components"), found as encoding/json finds them (a key
// in other capitals too): what a decoder that failed on a component of b
// reports.
func (e *ComponentError) At(b []byte, path string) string {
	for _, key := range strings.Split(path, ".") {
		b = member(b, key)
	}
	var list []json.RawMessage
	_ = json.Unmarshal(b, &list)
	return e.In(list, path)
}

// member is the value of key in the JSON object b (nil when b is not an
// object or has no such key): the key as written, else one in other
// capitals, as encoding/json reads into a struct field.
func member(b []byte, key string) json.RawMessage {
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return nil
	}
	if v, ok := obj[key]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}

func (c Component) key() string { return c.Type + "/" + c.SubType + "/" + c.Index }

// MergeComponents returns the campaign's components with the recipient's laid
// over them: a recipient component replaces the campaign component of the same
// type, sub_type and index; the others are appended in their order. Each
// list holds one component per type, sub_type and index (CheckComponents
// refuses a repeat at intake): of two that share one, one would be lost.
func MergeComponents(campaign, recipient []Component) []Component {
	if len(recipient) == 0 {
		return campaign
	}
	if len(campaign) == 0 {
		return recipient
	}
	out := make([]Component, 0, len(campaign)+len(recipient))
	byKey := make(map[string]Component, len(recipient))
	for _, c := range recipient {
		byKey[c.key()] = c
	}
	for _, c := range campaign {
		if r, ok := byKey[c.key()]; ok {
			out = append(out, r)
			delete(byKey, c.key())
			continue
		}
		out = append(out, c)
	}
	for _, c := range recipient {
		if _, ok := byKey[c.key()]; ok {
			out = append(out, c)
		}
	}
	return out
}

// RawComponent makes a component from JSON the caller built and vouches
// for: it must be one compact JSON object of the given type, sub_type and
// index, each parameter with its value, checked (see CheckValue and
// CheckLink): CheckComponents does not read its parameters again. It
// saves a parse per recipient when producers build millions.
func RawComponent(typ, subType, index string, raw json.RawMessage) Component {
	return Component{Type: typ, SubType: subType, Index: index, raw: raw, vouched: true}
}
