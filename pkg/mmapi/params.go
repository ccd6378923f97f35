package mmapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckValue reports a template parameter's value that is blank (empty or
// white space only), which the API refuses at send (error 100). The error
// is the reason alone, "empty (a template parameter cannot be blank)",
// for the caller to name the field: "body.1: empty (...)".
func CheckValue(v string) error {
	if strings.TrimSpace(v) == "" {
		return errBlank
	}
	return nil
}

var errBlank = errors.New("empty (a template parameter cannot be blank)")

// CheckLink reports a media parameter's link that is blank (see
// CheckValue) or not an http(s) URL, as CheckValue does: the reason alone.
func CheckLink(v string) error {
	if err := CheckValue(v); err != nil {
		return err
	}
	if !httpLink(v) {
		return fmt.Errorf("%q is not an http(s) link", v)
	}
	return nil
}

func httpLink(v string) bool {
	u, err := url.Parse(v)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// checkParameters reports the first parameter of the component raw, or
// of its carousel's cards, that lacks its value or whose value CheckValue
// or CheckLink refuses, or whose parameter_name checkName refuses, named
// by its place under path, the component's:
// "components[0].parameters[1].text". A parameter's value is the member
// named by its type: a string ("text", "payload", "coupon_code"), a
// media's object with its link or id ("image": {"link": ...}), or a
// currency's or a date_time's object with its fallback_value; other
// parameters (a limited_time_offer) are the API's to judge.
func checkParameters(path string, raw []byte) error {
	// Its members by their exact names, as the API reads them; what does
	// not decode (cards that are no list) is not this check's to judge.
	var comp map[string]json.RawMessage
	_ = json.Unmarshal(raw, &comp)
	var params []json.RawMessage
	if v := comp["parameters"]; len(v) > 0 && json.Unmarshal(v, &params) != nil {
		return fmt.Errorf("%s.parameters: want a list of parameters [{\"type\": ...}, ...], got %s", path, describe(v))
	}
	for j, p := range params {
		if err := checkParameter(path+".parameters["+strconv.Itoa(j)+"]", p); err != nil {
			return err
		}
	}
	var cards []map[string]json.RawMessage
	_ = json.Unmarshal(comp["cards"], &cards)
	for k, card := range cards {
		var subs []json.RawMessage
		_ = json.Unmarshal(card["components"], &subs)
		for j, sub := range subs {
			if err := checkParameters(fmt.Sprintf("%s.cards[%d].components[%d]", path, k, j), sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// describe names a JSON value in an error: an object as such, any other
// value as written, shortened.
func describe(v json.RawMessage) string {
	if len(v) > 0 && v[0] == '{' {
		return "an object"
	}
	return clip(string(v))
}

// checkParameter checks one parameter, at path: an object with a "type"
// (the API refuses any other at send), and, for the types of
// valueShapes, the value that type names.
func checkParameter(path string, raw []byte) error {
	var p map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &p) != nil {
		return fmt.Errorf("%s: want a parameter object (%s, say), got %s", path, valueShapes["text"], describe(raw))
	}
	if name, ok := p["parameter_name"]; ok {
		if err := checkName(name); err != nil {
			return fmt.Errorf("%s.parameter_name: %w", path, err)
		}
	}
	rawType, ok := p["type"]
	if !ok {
		return fmt.Errorf("%s: a parameter without \"type\" (want %s)", path, shapeOf(p))
	}
	typ, ok := str(rawType)
	switch {
	case !ok:
		return fmt.Errorf("%s.type: want a string, got %s", path, describe(rawType))
	case typ == "":
		return fmt.Errorf("%s.type: empty (want \"text\", \"image\", \"currency\", ...)", path)
	}
	shape, ok := valueShapes[typ]
	if !ok { // a limited_time_offer, ...: the API's to judge
		return nil
	}
	v, ok := p[typ]
	if !ok { // left out, or under another name or case ("value", "Text")
		article := "a"
		if typ == "image" {
			article = "an"
		}
		return fmt.Errorf("%s: %s %s parameter without %q (want %s)", path, article, typ, typ, shape)
	}
	path += "." + typ
	switch typ {
	case "image", "video", "document":
		return checkMedia(path, v)
	case "currency", "date_time":
		return checkFallback(path, v, shape)
	}
	s, ok := str(v)
	if !ok {
		return fmt.Errorf("%s: want a string, got %s", path, clip(string(v)))
	}
	if err := CheckValue(s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// shapeOf is the shape a parameter without its type wants: that of the
// value it holds ({"image": ...} an image's), else a text's, as an example.
func shapeOf(p map[string]json.RawMessage) string {
	for _, typ := range valueNames {
		if _, ok := p[typ]; ok {
			return valueShapes[typ]
		}
	}
	return valueShapes["text"] + ", say"
}

// checkMedia checks a media's object, at path: its link (see CheckLink),
// else its id (see CheckValue).
func checkMedia(path string, v json.RawMessage) error {
	var media map[string]json.RawMessage
	_ = json.Unmarshal(v, &media)
	if s, ok := str(media["link"]); ok {
		if err := CheckLink(s); err != nil {
			return fmt.Errorf("%s.link: %w", path, err)
		}
		return nil
	}
	if s, ok := str(media["id"]); ok {
		if err := CheckValue(s); err != nil {
			return fmt.Errorf("%s.id: %w", path, err)
		}
		return nil
	}
	return fmt.Errorf(`%s: want a "link" or an "id"`, path)
}

// checkFallback checks a currency's or a date_time's object, at path: its
// fallback_value, the text the API shows (and requires), must be there
// and not blank (see CheckValue). Its other members (a currency's code and
// amount_1000) are the API's to judge.
func checkFallback(path string, v json.RawMessage, shape string) error {
	var obj map[string]json.RawMessage
	if v[0] != '{' || json.Unmarshal(v, &obj) != nil {
		return fmt.Errorf("%s: want an object, got %s", path, clip(string(v)))
	}
	path += ".fallback_value"
	fb, ok := obj["fallback_value"]
	if !ok {
		return fmt.Errorf("%s: missing (want %s)", path, shape)
	}
	s, ok := str(fb)
	if !ok {
		return fmt.Errorf("%s: want a string, got %s", path, clip(string(fb)))
	}
	if err := CheckValue(s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// checkName reports a named parameter's parameter_name that is no
// string, blank, or not a name Meta gives (lowercase letters, digits and
// underscores), which the API refuses at send (error 100): the reason
// alone, as CheckValue's.
func checkName(raw json.RawMessage) error {
	s, ok := str(raw)
	switch {
	case !ok:
		return fmt.Errorf("want a string, got %s", clip(string(raw)))
	case strings.TrimSpace(s) == "":
		return errBlankName
	case !ParamName(s):
		if r := []rune(s); len(r) > 64 {
			s = string(r[:60]) + "..."
		}
		return fmt.Errorf("%q is not a parameter name: lowercase letters, digits and underscores only", s)
	}
	return nil
}

var errBlankName = errors.New("empty (a parameter name cannot be blank)")

// ParamName reports whether s is a named parameter's parameter_name the
// API takes: lowercase letters, digits and underscores, at least one. A CSV
// body.<name> column takes the same names (but digits alone: body.2 is a
// position).
func ParamName[S string | []byte](s S) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(s) > 0
}

// valueShapes are the parameters whose value this check reads, by type,
// with the shape it wants.
var valueShapes = map[string]string{
	"text":        `{"type": "text", "text": "..."}`,
	"payload":     `{"type": "payload", "payload": "..."}`,
	"coupon_code": `{"type": "coupon_code", "coupon_code": "..."}`,
	"image":       `{"type": "image", "image": {"link": "https://..."}}`,
	"video":       `{"type": "video", "video": {"link": "https://..."}}`,
	"document":    `{"type": "document", "document": {"link": "https://..."}}`,
	"currency":    `{"type": "currency", "currency": {"fallback_value": "$10.00", "code": "USD", "amount_1000": 10000}}`,
	"date_time":   `{"type": "date_time", "date_time": {"fallback_value": "February 25, 2026"}}`,
}

// str is raw's string, if raw is one.
func str(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}
