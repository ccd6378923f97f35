package csvcell_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/csvcell"
	"github.com/stretchr/testify/require"
)

func TestNeutralize(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                    "",
		"Ana":                 "Ana",
		"=HYPERLINK(\"x\")":   "'=HYPERLINK(\"x\")",
		"+447700900000":       "'+447700900000",
		"-5":                  "'-5",
		"@ana":                "'@ana",
		"\tx":                 "'\tx",
		"\rx":                 "'\rx",
		"'quoted'":            "''quoted'",
		"a=b":                 "a=b",
		"https://example.com": "https://example.com",
	} {
		require.Equal(t, want, csvcell.Neutralize(in), "%q", in)
		require.Equal(t, in, csvcell.Restore(want), "%q", in)
	}
}

// Every cell comes back as it was, and none that is neutralized starts as
// a formula would.
func FuzzNeutralize_RoundTrip(f *testing.F) {
	for _, s := range []string{"", "=1+1", "'", "''=x", "-", "plain", "@", "\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := csvcell.Neutralize(s)
		if csvcell.Restore(n) != s {
			t.Fatalf("Restore(Neutralize(%q)) = %q", s, csvcell.Restore(n))
		}
		if n != "" {
			switch n[0] {
			case '=', '+', '-', '@', '\t', '\r':
				t.Fatalf("Neutralize(%q) = %q starts as a formula", s, n)
			}
		}
	})
}
