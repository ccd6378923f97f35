package producer_test

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// utf16 is s as a spreadsheet's "Unicode text" saves it: UTF-16 with its
// byte order mark.
func utf16(s string, bigEndian bool) string {
	var b strings.Builder
	if bigEndian {
		b.WriteString("\xFE\xFF")
	} else {
		b.WriteString("\xFF\xFE")
	}
	for _, c := range []byte(s) { // ASCII only
		if bigEndian {
			b.WriteByte(0)
			b.WriteByte(c)
		} else {
			b.WriteByte(c)
			b.WriteByte(0)
		}
	}
	return b.String()
}

// A UTF-16 file is refused whole, saying so and what to do; it was read as
// a header of garbled column names (column "\xff\xfet\x00o\x00" is unknown).
func TestSources_UTF16FileRefused(t *testing.T) {
	t.Parallel()
	for _, be := range []bool{false, true} {
		in := utf16("to,body.1\n441234567890,Ana\n", be)
		for name, src := range map[string]producer.Source{"csv": producer.NewCSVSource(strings.NewReader(in)),
			"jsonl": producer.NewJSONLSource(strings.NewReader(in))} {
			rows, err := drain(t, src)
			require.Empty(t, rows, name)
			require.ErrorContains(t, err, "the file is UTF-16: save it as UTF-8", name)
		}
	}
}
