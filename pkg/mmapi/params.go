package mmapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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
// of its carousel's cards, that CheckValue or CheckLink refuses, named by
// its place under path, the component's: "components[0].parameters[1].text".
// A parameter's value is the member named by its type, when a string
// ("text", "payload", "coupon_code"), or a media's link or id ("image":
// {"link": ...}); other values (a currency, a date_time, a
// limited_time_offer) are the API's to judge.
func checkParameters(path string, raw []byte) error {
	var comp struct {
		Parameters []json.RawMessage `json:"parameters"`
		Cards      []struct {
			Components []json.RawMessage `json:"components"`
		} `json:"cards"`
	}
	// What does not decode (a parameters that is no list) is not this
	// check's to judge: what it did decode is checked.
	_ = json.Unmarshal(raw, &comp)
	for j, p := range comp.Parameters {
		if err := checkParameter(path+".parameters["+strconv.Itoa(j)+"]", p); err != nil {
			return err
		}
	}
	for k, card := range comp.Cards {
		for j, sub := range card.Components {
			if err := checkParameters(fmt.Sprintf("%s.cards[%d].components[%d]", path, k, j), sub); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkParameter(path string, raw []byte) error {
	var p map[string]json.RawMessage
	var typ string
	if json.Unmarshal(raw, &p) != nil || json.Unmarshal(p["type"], &typ) != nil {
		return nil
	}
	path += "." + typ
	check, v, ok := CheckValue, "", false
	switch typ {
	case "image", "video", "document":
		var media map[string]json.RawMessage
		_ = json.Unmarshal(p[typ], &media)
		if v, ok = str(media["link"]); ok {
			check, path = CheckLink, path+".link"
		} else if v, ok = str(media["id"]); ok {
			path += ".id"
		}
	default:
		v, ok = str(p[typ])
	}
	if !ok {
		return nil
	}
	if err := check(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// str is raw's string, if raw is one.
func str(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// suspect reports whether raw, a component's compact JSON, may hold a
// parameter that checkParameters refuses, which it then decodes to find:
// nearly every component holds none, and reading its bytes once costs a
// fraction of decoding it. A blank string opens with a quote followed by
// another quote, white space, an escape or a byte above ASCII (U+00A0,
// U+3000, ...); a closing quote, in compact JSON, by none of them (an
// escaped one may be: a decode for nothing), so every quote but those is
// passed over. A link is suspect unless plainly http(s); one whose key is
// written with an escape opens with one.
func suspect(raw []byte) bool {
	for i := 1; i < len(raw); i++ {
		if raw[i-1] != '"' {
			continue
		}
		switch c := raw[i]; {
		case c == '"' || c == '\\' || c <= ' ':
			return true
		case c >= utf8.RuneSelf:
			if blankUTF8(raw[i:]) {
				return true
			}
		case c == 'l' && bytes.HasPrefix(raw[i:], linkTail):
			v := raw[i+len(linkTail):]
			end := bytes.IndexByte(v, '"')
			if end < 0 || bytes.IndexByte(v[:end], '\\') >= 0 || !httpLink(string(v[:end])) {
				return true
			}
			i += len(linkTail) + end // its closing quote
		}
	}
	return false
}

// linkTail is a "link" key after its opening quote, up to its value's.
var linkTail = []byte(`link":"`)

// blankUTF8 reports whether the string that b starts, after its opening
// quote, may be blank: until its closing quote, or an escape, every rune
// is white space.
func blankUTF8(b []byte) bool {
	for len(b) > 0 && b[0] != '"' && b[0] != '\\' {
		r, n := utf8.DecodeRune(b)
		if !unicode.IsSpace(r) {
			return false
		}
		b = b[n:]
	}
	return true
}
