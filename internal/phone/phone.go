package phone

import (
	"fmt"
	"regexp"
	"strings"
)

// Normalize strips "+", spaces, dashes, dots and brackets from s and checks
// that what is left is an international number: 8 to 15 digits, not
// starting with 0. The error says why s was refused.
func Normalize(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\t':
		default:
			return "", fmt.Errorf("%q is not a phone number: unexpected %q", s, r)
		}
	}
	d := b.String()
	switch {
	case d == "":
		return "", fmt.Errorf("%q is not a phone number: no digits", s)
	case d[0] == '0':
		return "", fmt.Errorf("%q is not an international phone number: starts with 0 (add the country code)", s)
	case len(d) < 8 || len(d) > 15:
		return "", fmt.Errorf("%q is not an international phone number: %d digits, want 8 to 15", s, len(d))
	}
	return d, nil
}

// Mask hides the middle of a number for logs: 441234567890 -> 4412*****890.
func Mask(s string) string {
	if len(s) <= 6 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + strings.Repeat("*", len(s)-7) + s[len(s)-3:]
}

// digitRun is what may be a phone number inside free text.
var digitRun = regexp.MustCompile(`\d{8,15}`)

// MaskIn masks every run of 8 to 15 digits in s, for lines written by
// libraries (asynq's task ids "campaign:441234567890", go-redis's errors)
// that may carry a number.
func MaskIn(s string) string { return digitRun.ReplaceAllStringFunc(s, Mask) }
