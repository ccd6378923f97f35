package phone_test

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/stretchr/testify/require"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want, err string
	}{
		{"441234567890", "441234567890", ""},
		{"+44 1234 567890", "441234567890", ""},
		{"+1 (212) 555-0123", "12125550123", ""},
		{"55.11.98765.4321", "5511987654321", ""},
		{"+49\t30-1234567", "49301234567", ""},
		{"12345678", "12345678", ""},
		{"123456789012345", "123456789012345", ""},
		{"1234567", "", "7 digits, want 8 to 15"},
		{"1234567890123456", "", "16 digits, want 8 to 15"},
		{"01234567890", "", "starts with 0"},
		{"+0044 1234 567890", "", "starts with 0"},
		{"12", "", "2 digits"},
		{"", "", "no digits"},
		{"+ - ()", "", "no digits"},
		{"44123456789a", "", `unexpected 'a'`},
		{"441234567890/1", "", `unexpected '/'`},
		{"４４1234567890", "", "unexpected"},
	}
	for _, tc := range cases {
		got, err := phone.Normalize(tc.in)
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	require.Equal(t, "4412*****890", phone.Mask("441234567890"))
	require.Equal(t, "1234*678", phone.Mask("12345678"))
	require.Equal(t, "******", phone.Mask("123456"))
	require.Equal(t, "", phone.Mask(""))
}

func TestMaskIn(t *testing.T) {
	t.Parallel()
	require.Equal(t, "task id=spring:4412*****890 at 127.0.0.1:6379", phone.MaskIn("task id=spring:441234567890 at 127.0.0.1:6379"))
	require.Equal(t, "no number here", phone.MaskIn("no number here"))
}

// Inputs whose digits, once the separators are dropped, make another number
// that still looks valid: they are refused, saying why.
func TestNormalize_RefusesWhatWouldBecomeAnotherNumber(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"447700900102.0":        "looks like a spreadsheet number (447700900102.0): export the column as text",
		"+447700900102.00":      "looks like a spreadsheet number",
		" 447700900102.0 ":      "looks like a spreadsheet number",
		"4.47700900102E+11":     "looks like a spreadsheet number (4.47700900102E+11): export the column as text",
		"+44 (0) 7700 900100":   "drop the trunk prefix (0)",
		"+44(0)7700900100":      "drop the trunk prefix (0)",
		"+44 ( 0 ) 7700 900100": "drop the trunk prefix (0)",
		"44 (0)20 7946 0018":    "drop the trunk prefix (0)",
	} {
		_, err := phone.Normalize(in)
		require.ErrorContains(t, err, want, in)
	}
	// What the rules must not catch: dots as separators, brackets around an
	// area code, a number ending in zeros.
	for in, want := range map[string]string{
		"+39 (0)6 1234 5678": "390612345678", // Italy dials the 0 from abroad
		" +44 1234 567890\n": "441234567890", // a line's newline
		"+378 (0)549 123456": "3780549123456",
		"+33 6.12.34.56.00":  "33612345600",
		"55.11.98765.4300":   "5511987654300",
		"+1 (212) 555-0100":  "12125550100",
		"447700900100":       "447700900100",
		"+44 7700 900.000":   "447700900000",
		"+39 (06) 1234 5678": "390612345678",
	} {
		got, err := phone.Normalize(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

// A value that is no phone number is echoed in its error clipped: a cell
// of a megabyte is not a megabyte of error (found in review).
func TestNormalize_LongValueIsClipped(t *testing.T) {
	t.Parallel()
	for _, s := range []string{strings.Repeat("4", 100_000), strings.Repeat("a", 100_000), strings.Repeat("4", 100_000) + ".0"} {
		_, err := phone.Normalize(s)
		require.Error(t, err)
		require.Less(t, len(err.Error()), 200, "%.200s", err)
		require.Contains(t, err.Error(), "(100", "its length")
	}
}
