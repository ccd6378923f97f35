package fakeapi

import (
	"bytes"
	"encoding/json"
	"mime"
	"slices"
	"strconv"
)

// Limits of the send request.
const (
	maxBodyBytes = 64 << 10
	minTTL       = 43200
	maxTTL       = 2592000
	minToDigits  = 8
	maxToDigits  = 15
)

// sendFields are the parts of a valid send request the fake needs.
type sendFields struct {
	to, name, lang string
}

// topLevelField reports whether name is a documented top-level field.
func topLevelField(name string) bool {
	switch name {
	case "messaging_product", "recipient_type", "to", "type", "template",
		"message_activity_sharing", "message_send_ttl_seconds", "product_policy":
		return true
	}
	return false
}

// checkContentType requires application/json, parameters ignored.
func checkContentType(ct string) *apiError {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return badParam("Content-Type must be application/json, got %q", ct)
	}
	return nil
}

// jsonKind is the first byte of a JSON value: '{', '[', '"', 't', 'f',
// 'n' or a number's first character.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

// object decodes obj[field] as a JSON object; a missing field is reported.
func object(obj map[string]json.RawMessage, field, path string) (map[string]json.RawMessage, *apiError) {
	raw, ok := obj[field]
	if !ok || jsonKind(raw) == 'n' {
		return nil, badParam("Param %s is required", path)
	}
	var m map[string]json.RawMessage
	if jsonKind(raw) != '{' || json.Unmarshal(raw, &m) != nil {
		return nil, badParam("Param %s must be a JSON object", path)
	}
	return m, nil
}

// str decodes obj[field] as a non-empty string.
func str(obj map[string]json.RawMessage, field, path string) (string, *apiError) {
	s, e := anyStr(obj, field, path)
	if e == nil && s == "" {
		return "", badParam("Param %s must not be empty", path)
	}
	return s, e
}

// anyStr decodes obj[field] as a string, empty or not.
func anyStr(obj map[string]json.RawMessage, field, path string) (string, *apiError) {
	raw, ok := obj[field]
	if !ok || jsonKind(raw) == 'n' {
		return "", badParam("Param %s is required", path)
	}
	var s string
	if jsonKind(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return "", badParam("Param %s must be a string", path)
	}
	return s, nil
}

// equal requires obj[field] to be the string want.
func equal(obj map[string]json.RawMessage, field, path, want string) *apiError {
	s, e := str(obj, field, path)
	if e != nil {
		return e
	}
	if s != want {
		return badParam("Param %s must be %q, got %q", path, want, clip(s))
	}
	return nil
}

// validPhone reports whether to is 8..15 digits not starting with 0.
func validPhone(to string) bool {
	return len(to) >= minToDigits && len(to) <= maxToDigits && isDigits(to) && to[0] != '0'
}

// validateSend checks a send body the way the API does and returns the
// first problem as a code 100 error.
func validateSend(fl flavor, obj map[string]json.RawMessage) (sendFields, *apiError) {
	var f sendFields
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !topLevelField(k) {
			e := badParam("Param %s is not a known parameter of marketing_messages", k)
			e.message = "(#100) Param " + k + " is not valid"
			return f, e
		}
	}
	if e := equal(obj, "messaging_product", "messaging_product", "whatsapp"); e != nil {
		return f, e
	}
	if e := equal(obj, "recipient_type", "recipient_type", "individual"); e != nil {
		return f, e
	}
	to, e := str(obj, "to", "to")
	if e != nil {
		return f, e
	}
	if !validPhone(to) {
		return f, badParam("Param to must be a phone number in international format, %d to %d digits without + or a leading 0, got %q", minToDigits, maxToDigits, clip(to))
	}
	f.to = to
	if e := equal(obj, "type", "type", "template"); e != nil {
		return f, e
	}
	if e := validateTemplate(fl, obj, &f); e != nil {
		return f, e
	}
	return f, validateOptions(obj)
}

func validateTemplate(fl flavor, obj map[string]json.RawMessage, f *sendFields) *apiError {
	tpl, e := object(obj, "template", "template")
	if e != nil {
		return e
	}
	if f.name, e = str(tpl, "name", "template.name"); e != nil {
		return e
	}
	lang, e := object(tpl, "language", "template.language")
	if e != nil {
		return e
	}
	if f.lang, e = str(lang, "code", "template.language.code"); e != nil {
		return e
	}
	if _, present := lang["policy"]; present || fl == flavor360 {
		if e := equal(lang, "policy", "template.language.policy", "deterministic"); e != nil {
			return e
		}
	}
	raw, ok := tpl["components"]
	if !ok {
		return nil
	}
	return validateComponents("template.components", raw)
}

// validateOptions checks the optional top-level fields.
func validateOptions(obj map[string]json.RawMessage) *apiError {
	if raw, ok := obj["message_send_ttl_seconds"]; ok {
		n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
		if err != nil || n < minTTL || n > maxTTL {
			return badParam("Param message_send_ttl_seconds must be an integer between %d and %d, got %s", minTTL, maxTTL, clip(string(raw)))
		}
	}
	if _, ok := obj["product_policy"]; ok {
		p, e := str(obj, "product_policy", "product_policy")
		if e != nil {
			return e
		}
		if p != "CLOUD_API_FALLBACK" && p != "STRICT" {
			return badParam("Param product_policy must be \"CLOUD_API_FALLBACK\" or \"STRICT\", got %q", clip(p))
		}
	}
	if raw, ok := obj["message_activity_sharing"]; ok {
		if k := jsonKind(raw); k != 't' && k != 'f' {
			return badParam("Param message_activity_sharing must be a boolean, got %s", clip(string(raw)))
		}
	}
	return nil
}

// clip shortens a value echoed in an error message.
func clip(s string) string {
	const limit = 64
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "..."
}
