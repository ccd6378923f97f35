package phone

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/mmlite/mmlite/internal/ident"
)

// Normalize strips white space around s, and "+", spaces, dashes, dots and
// brackets in it, and checks that what is left is an international number:
// 8 to 15 digits, not starting with 0. The error says why s was refused. Two inputs whose
// digits would make another number are refused: a spreadsheet's number
// ("447700900102.0", "4.47700900102E+11") and a trunk prefix in brackets
// after the country code ("+44 (0) 7700 900100").
func Normalize(s string) (string, error) {
	s = strings.TrimSpace(s) // a cell's or a line's white space, newline included
	if spreadsheet(s) {
		return "", fmt.Errorf("looks like a spreadsheet number (%s): export the column as text", clip(s))
	}
	if strings.IndexByte(s, '(') >= 0 && trunkPrefix(s) {
		return "", fmt.Errorf("%s: drop the trunk prefix (0), which is not dialled after the country code", ident.Quote(s))
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' || r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\t':
		default:
			return "", fmt.Errorf("%s is not a phone number: unexpected %q", ident.Quote(s), r)
		}
	}
	d := b.String()
	switch {
	case d == "":
		return "", fmt.Errorf("%s is not a phone number: no digits", ident.Quote(s))
	case d[0] == '0':
		return "", fmt.Errorf("%s is not an international phone number: starts with 0 (add the country code)", ident.Quote(s))
	case len(d) < 8 || len(d) > 15:
		return "", fmt.Errorf("%s is not an international phone number: %d digits, want 8 to 15", ident.Quote(s), len(d))
	}
	return d, nil
}

// spreadsheet reports whether s is a number as a spreadsheet writes a cell
// that holds it as a number: digits and a decimal part of zeros
// ("447700900102.0"), or scientific notation ("4.47700900102E+11"). A dot
// among other separators ("+33 6.12.34.56.00") is a separator.
func spreadsheet(s string) bool {
	s = strings.TrimPrefix(s, "+") // Normalize trimmed the white space
	if i := strings.IndexAny(s, "Ee"); i > 0 {
		mant, exp := s[:i], strings.TrimPrefix(s[i+1:], "+")
		if whole, frac, ok := strings.Cut(mant, "."); ok {
			mant = whole + frac
		}
		return allDigits(mant) && allDigits(exp)
	}
	i := strings.LastIndexByte(s, '.')
	if i <= 0 || i == len(s)-1 || !allDigits(s[:i]) {
		return false
	}
	return strings.Trim(s[i+1:], "0") == ""
}

// dialledZero are the country codes after which a number's leading 0 is
// dialled from abroad: Italy, San Marino, the Vatican ("+39 (0)6 1234
// 5678" is 390612345678).
var dialledZero = map[string]bool{"39": true, "378": true, "379": true}

// trunkPrefix reports whether s has "(0)" after a digit: a national trunk
// prefix kept after the country code ("+44 (0) 7700 900100"), whose 0 is
// not dialled from abroad, except after the codes of dialledZero.
func trunkPrefix(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '(' {
			continue
		}
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return false
		}
		if before := digits(s[:i]); strings.TrimSpace(s[i+1:i+j]) == "0" && before != "" && !dialledZero[before] {
			return true
		}
		i += j
	}
	return false
}

// digits are the digits of s.
func digits(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
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

// clip is s unquoted, clipped as ident.Quote clips it.
func clip(s string) string {
	if q := ident.Quote(s); len(s) > ident.MaxLen {
		return q
	}
	return s
}
