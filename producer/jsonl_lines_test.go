package producer_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// Every kind of bad line is a rejected row with its own line number, and
// the lines after it are read.
func TestJSONL_BadLinesAreRowsWithTheirLine(t *testing.T) {
	t.Parallel()
	long := `{"to": "441234567890", "metadata": {"x": "` + strings.Repeat("a", producer.MaxLine) + `"}}`
	in := "\xEF\xBB\xBF" + `{"to": "441234567890"}` + "\r\n" + // 1 BOM and CRLF
		" \t \r\n" + // 2 blank
		`[{"to": "441234567891"}]` + "\n" + // 3 an array
		"null\n" + // 4
		`"441234567892"` + "\n" + // 5
		"42\n" + // 6
		"true\n" + // 7
		"tru\n" + // 8 not JSON
		long + "\n" + // 9 too long
		`{"to": "441234567893"}` + "\n" + // 10
		"\xEF\xBB\xBF" + `{"to": "441234567894"}` + "\n" + // 11 a BOM in the middle: a concatenated file
		`{"to": "441234567895",}` + "\n" + // 12
		"\x00\n" + // 13
		`{"to": "441234567897"}}` + "\n" + // 14 text after the object
		`{"to": "441234567896"}` + "\r" // 15 a CR at the end of the file
	rows, err := drain(t, producer.NewJSONLSource(strings.NewReader(in)))
	require.NoError(t, err)
	got := map[int]row{}
	for _, r := range rows {
		require.NotContains(t, got, r.line, "line %d twice", r.line)
		got[r.line] = r
	}
	require.Len(t, rows, 14, "one row per line but the blank one")
	require.Equal(t, "441234567890", got[1].r.To)
	require.Contains(t, got[3].err, "want a JSON object {\"to\": ...}, got an array")
	require.Contains(t, got[4].err, "got null")
	require.Contains(t, got[5].err, "got a string")
	require.Contains(t, got[6].err, "got a number")
	require.Contains(t, got[7].err, "got a boolean")
	require.Contains(t, got[8].err, "invalid JSON")
	require.Contains(t, got[9].err, "longer than 1048576 bytes")
	require.Equal(t, "441234567893", got[10].r.To)
	require.Contains(t, got[11].err, "invalid JSON")
	require.Contains(t, got[12].err, "invalid JSON")
	require.Contains(t, got[13].err, "invalid JSON")
	require.Contains(t, got[14].err, "text after the JSON object")
	require.Equal(t, "441234567896", got[15].r.To)

	// A line too long at the end of a file without a line break.
	rows, err = drain(t, producer.NewJSONLSource(strings.NewReader(`{"to": "441234567890"}`+"\n"+long)))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, 2, rows[1].line)
	require.Contains(t, rows[1].err, "longer than")
}

func TestArraySource_ElementsThatAreNotObjects(t *testing.T) {
	t.Parallel()
	d := json.NewDecoder(strings.NewReader(`[null, [], "441234567890", 7, {"to": "441234567890"}, {}]`))
	_, err := d.Token()
	require.NoError(t, err)
	rows, err := drain(t, producer.NewArraySource(d))
	require.NoError(t, err)
	require.Len(t, rows, 6)
	for i, want := range []string{"got null", "got an array", "got a string", "got a number", "", ""} {
		require.Equal(t, i, rows[i].line)
		if want != "" {
			require.Contains(t, rows[i].err, want)
		}
	}
	require.Equal(t, "441234567890", rows[4].r.To)

	for _, in := range []string{`[}`, `[{"to": "1"}}`, `[{"to": "1"},]`, `[,]`, `[`, `[{"to": "1"} {"to": "2"}]`} {
		d := json.NewDecoder(strings.NewReader(in))
		_, _ = d.Token()
		_, err := drain(t, producer.NewArraySource(d))
		require.Error(t, err, in)
	}
}
