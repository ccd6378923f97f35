package fakeapi

import (
	"encoding/json"
	"strconv"
	"strings"
)

// validateComponents checks the components at path (template.components,
// or a carousel card's components): each an object with a type, and the
// parameters of each (see validateParameter), in its cards too.
func validateComponents(path string, raw json.RawMessage) *apiError {
	comps, e := objects(path, raw)
	if e != nil {
		return e
	}
	for i, m := range comps {
		at := path + "[" + strconv.Itoa(i) + "]"
		if _, e := str(m, "type", at+".type"); e != nil {
			return e
		}
		if e := validateComponent(at, m); e != nil {
			return e
		}
	}
	return nil
}

// validateComponent checks a component's parameters and its cards'
// components.
func validateComponent(path string, m map[string]json.RawMessage) *apiError {
	if raw, ok := m["parameters"]; ok {
		var params []json.RawMessage
		if jsonKind(raw) != '[' || json.Unmarshal(raw, &params) != nil {
			return badParam("Param %s.parameters must be an array", path)
		}
		for j, p := range params {
			if e := validateParameter(path+".parameters["+strconv.Itoa(j)+"]", p); e != nil {
				return e
			}
		}
	}
	raw, ok := m["cards"]
	if !ok {
		return nil
	}
	cards, e := objects(path+".cards", raw)
	if e != nil {
		return e
	}
	for k, cm := range cards {
		if raw, ok := cm["components"]; ok {
			if e := validateComponents(path+".cards["+strconv.Itoa(k)+"].components", raw); e != nil {
				return e
			}
		}
	}
	return nil
}

// objects decodes the list at path, each of whose items must be an
// object.
func objects(path string, raw json.RawMessage) ([]map[string]json.RawMessage, *apiError) {
	var items []json.RawMessage
	if jsonKind(raw) != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, badParam("Param %s must be an array", path)
	}
	objs := make([]map[string]json.RawMessage, len(items))
	for i, it := range items {
		if jsonKind(it) != '{' || json.Unmarshal(it, &objs[i]) != nil {
			return nil, badParam("Param %s[%d] must be a JSON object", path, i)
		}
	}
	return objs, nil
}

// validateParameter checks one template parameter as the API does: an
// object with a type, its value under the member its type names (a text,
// a payload or a coupon code that is not blank; a media's link or id; a
// currency's fallback_value, code and amount_1000; a date_time's
// fallback_value), and a parameter_name, when it has one, that is a name.
// A type the fake does not know passes.
func validateParameter(path string, raw json.RawMessage) *apiError {
	var p map[string]json.RawMessage
	if jsonKind(raw) != '{' || json.Unmarshal(raw, &p) != nil {
		return badParam("Param %s must be a JSON object", path)
	}
	typ, e := str(p, "type", path+".type")
	if e != nil {
		return e
	}
	if _, ok := p["parameter_name"]; ok {
		name, e := nonBlank(p, "parameter_name", path+".parameter_name")
		if e != nil {
			return e
		}
		if !paramName(name) {
			return badParam("Param %s.parameter_name must be lowercase letters, digits and underscores, got %q", path, clip(name))
		}
	}
	at := path + "." + typ
	switch typ {
	case "text", "payload", "coupon_code":
		_, e := nonBlank(p, typ, at)
		return e
	case "image", "video", "document":
		media, e := object(p, typ, at)
		if e != nil {
			return e
		}
		for _, k := range []string{"link", "id"} {
			if _, ok := media[k]; ok {
				_, e := nonBlank(media, k, at+"."+k)
				return e
			}
		}
		return badParam("Param %s.link or %s.id is required", at, at)
	case "currency", "date_time":
		v, e := object(p, typ, at)
		if e != nil {
			return e
		}
		if _, e := nonBlank(v, "fallback_value", at+".fallback_value"); e != nil || typ == "date_time" {
			return e
		}
		if _, e := str(v, "code", at+".code"); e != nil {
			return e
		}
		n, ok := v["amount_1000"]
		if !ok || jsonKind(n) == 'n' {
			return badParam("Param %s.amount_1000 is required", at)
		}
		if _, err := strconv.ParseInt(string(n), 10, 64); err != nil {
			return badParam("Param %s.amount_1000 must be an integer, got %s", at, clip(string(n)))
		}
	}
	return nil
}

// nonBlank decodes obj[field] as a string that is not blank (empty or
// white space only), which the API refuses in a template parameter.
func nonBlank(obj map[string]json.RawMessage, field, path string) (string, *apiError) {
	s, e := anyStr(obj, field, path)
	if e == nil && strings.TrimSpace(s) == "" {
		return "", badParam("Param %s must not be blank", path)
	}
	return s, e
}

// paramName reports whether s is lowercase letters, digits and
// underscores, as Meta names a template's variables.
func paramName(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return s != ""
}
