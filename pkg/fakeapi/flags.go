package fakeapi

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseErrorRules parses a command-line list of error rules: comma
// separated items "CODE:SHARE" or "-:SHARE:ACTION". CODE is a Meta error
// code (answered with its usual HTTP status) or http500, http502, http503,
// http429 (or any httpNNN from 400 to 599) for an answer without a Meta
// code; ACTION is "reset" or "hang". Example:
//
//	130429:0.05,131000:0.01,http502:0.01,-:0.005:hang
//
// An empty string gives no rules.
func ParseErrorRules(s string) ([]ErrorRule, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	items := strings.Split(s, ",")
	rules := make([]ErrorRule, 0, len(items))
	for i, item := range items {
		r, err := parseErrorRule(strings.TrimSpace(item))
		if err != nil {
			return nil, fmt.Errorf("error rule %d (%q): %w", i+1, item, err)
		}
		rules = append(rules, r)
	}
	if err := validateRules(rules, "error rules"); err != nil {
		return nil, err
	}
	return rules, nil
}

func parseErrorRule(item string) (ErrorRule, error) {
	parts := strings.Split(item, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return ErrorRule{}, fmt.Errorf("want CODE:SHARE or -:SHARE:ACTION")
	}
	var r ErrorRule
	share, err := strconv.ParseFloat(strings.TrimSpace(parts[1]), 64)
	if err != nil || !(share >= 0 && share <= 1) {
		return r, fmt.Errorf("share must be a number between 0 and 1, got %q", parts[1])
	}
	r.Share = share
	code := strings.TrimSpace(parts[0])
	if len(parts) == 3 {
		r.Action = strings.TrimSpace(parts[2])
		if r.Action != ActionReset && r.Action != ActionHang {
			return r, fmt.Errorf("action must be %q or %q, got %q", ActionReset, ActionHang, r.Action)
		}
		if code != "-" {
			return r, fmt.Errorf("a rule with an action takes - as its code, got %q", code)
		}
		return r, nil
	}
	switch {
	case code == "-":
		return r, fmt.Errorf("code - needs an action (reset or hang)")
	case strings.HasPrefix(code, "http"):
		n, err := strconv.Atoi(strings.TrimPrefix(code, "http"))
		if err != nil || n < 400 || n > 599 {
			return r, fmt.Errorf("%q is not an HTTP error status like http502", code)
		}
		r.HTTPStatus = n
	default:
		n, err := strconv.Atoi(code)
		if err != nil || n <= 0 {
			return r, fmt.Errorf("code must be a positive Meta error code, httpNNN or -, got %q", code)
		}
		r.Code = n
	}
	return r, nil
}

// ParseFailRecipients parses a command-line list of recipients that always
// fail: comma separated items "TO=CODE", e.g. "441234567890=131026". An
// empty string gives no recipients.
func ParseFailRecipients(s string) (map[string]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	out := make(map[string]int)
	for i, item := range strings.Split(s, ",") {
		to, code, ok := strings.Cut(strings.TrimSpace(item), "=")
		to, code = strings.TrimSpace(to), strings.TrimSpace(code)
		if !ok || to == "" {
			return nil, fmt.Errorf("fail recipient %d (%q): want TO=CODE", i+1, item)
		}
		if !isDigits(to) {
			return nil, fmt.Errorf("fail recipient %d (%q): recipient must be digits only, got %q", i+1, item, to)
		}
		n, err := strconv.Atoi(code)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("fail recipient %d (%q): code must be a positive Meta error code, got %q", i+1, item, code)
		}
		if _, dup := out[to]; dup {
			return nil, fmt.Errorf("fail recipient %d (%q): %s is listed twice", i+1, item, to)
		}
		out[to] = n
	}
	return out, nil
}
