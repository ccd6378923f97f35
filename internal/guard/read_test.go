package guard_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/stretchr/testify/require"
)

// read reads an import, keeping every batch it adds.
func read(t *testing.T, body io.Reader) ([]guard.Entry, guard.ImportSummary, error) {
	t.Helper()
	var all []guard.Entry
	sum, err := guard.ReadEntries(body, guard.SourceAPI, func(es []guard.Entry) error {
		require.LessOrEqual(t, len(es), guard.ImportBatch)
		all = append(all, es...)
		return nil
	})
	require.Equal(t, len(all), sum.Added)
	return all, sum, err
}

func TestReadEntries(t *testing.T) {
	t.Parallel()
	es, sum, err := read(t, strings.NewReader("to,reason\n+44 1234 567890,asked\n12,x\n\"unclosed\n"))
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, "441234567890", es[0].To)
	require.Equal(t, 2, sum.Rejected)
	require.Equal(t, []guard.LineError{{Line: 3, Reason: sum.Errors[0].Reason}, {Line: 4, Reason: sum.Errors[1].Reason}}, sum.Errors)

	es, sum, err = read(t, strings.NewReader(`[{"to":"441234567890"},{"to":"x"},7]`))
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, "added by the operator", es[0].Reason)
	require.Equal(t, 2, sum.Rejected)
	require.Equal(t, 1, sum.Errors[0].Line)

	es, _, err = read(t, strings.NewReader("\ufeff[{\"to\":\"441234567890\"}]"))
	require.NoError(t, err, "a spreadsheet's BOM before a JSON list")
	require.Len(t, es, 1)
	es, _, err = read(t, strings.NewReader("\ufeffto\n441234567890\n"))
	require.NoError(t, err, "and before CSV")
	require.Len(t, es, 1)
	_, _, err = read(t, strings.NewReader("[}"))
	require.ErrorContains(t, err, "the list: invalid JSON")
	_, _, err = read(t, strings.NewReader("to,"+strings.Repeat("x", 70<<10)+"\n441234567890\n"))
	require.ErrorContains(t, err, "line 1 is longer than", "the header")

	_, _, err = read(t, strings.NewReader("phone\n1\n"))
	require.ErrorContains(t, err, `no column "to"`)
	var bi *guard.BadImportError
	require.ErrorAs(t, err, &bi)
}

// A quote that opens and never closes swallowed the lines after it: the
// import stops there and says so, with the lines before it added, rather
// than answer as if the rest of the file were not there.
func TestReadEntries_QuoteThatNeverCloses(t *testing.T) {
	t.Parallel()
	body := "to,reason\n+441234500000,asked\n\"+441234500001,asked\n"
	for i := 2; i < 100; i++ {
		body += fmt.Sprintf("+4412345%05d,asked\n", i)
	}
	es, _, err := read(t, strings.NewReader(body))
	var bi *guard.BadImportError
	require.ErrorAs(t, err, &bi)
	require.ErrorContains(t, err, "line 3: a quote opened here")
	require.Len(t, es, 1, "the line before it is added")
}

func TestReadEntries_DataAfterTheList(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`[{"to": "+441234567890"}] [{"to": "+441234567891"}]`, `[{"to": "+441234567890"}] x`} {
		es, _, err := read(t, strings.NewReader(body))
		require.ErrorContains(t, err, "data after the JSON list", body)
		require.Len(t, es, 1)
	}
	_, _, err := read(t, strings.NewReader(`[{"to": "+441234567890"}, {"to": `))
	require.ErrorContains(t, err, "element 1: invalid JSON")
}

// Many bad lines are all counted, the first MaxListedErrors listed.
func TestReadEntries_ErrorsListedUpToALimit(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("to\n")
	for i := 0; i < 3*guard.MaxListedErrors; i++ {
		b.WriteString("nope\n+4412345" + fmt.Sprintf("%05d", i) + "\n")
	}
	es, sum, err := read(t, strings.NewReader(b.String()))
	require.NoError(t, err)
	require.Len(t, es, 3*guard.MaxListedErrors)
	require.Equal(t, 3*guard.MaxListedErrors, sum.Rejected)
	require.Len(t, sum.Errors, guard.MaxListedErrors)
	require.Equal(t, 2, sum.Errors[0].Line)
}

// A failure to add stops the import; what was added before is counted.
func TestReadEntries_AddFails(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("to\n")
	for i := range guard.ImportBatch + 10 {
		fmt.Fprintf(&b, "+4412345%05d\n", i)
	}
	boom := errors.New("boom")
	calls := 0
	sum, err := guard.ReadEntries(strings.NewReader(b.String()), guard.SourceAPI, func(es []guard.Entry) error {
		if calls++; calls == 2 {
			return boom
		}
		return nil
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, guard.ImportBatch, sum.Added)
}

// endless is an endless run of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// One huge line or element costs a bounded amount of memory: the import
// stops at it (it was 527 MB for a 64 MiB CSV line, and the body's size
// several times over for a JSON element).
func TestReadEntries_HugeLineIsBounded(t *testing.T) {
	for _, c := range []struct {
		name, head, want string
		added            int
	}{
		{"csv", "to,reason\n+447700900100,", "line 2 is longer than", 0},
		{"csv quoted", "to,reason\n+447700900100,\"", "line 2 is longer than", 0},
		{"json", `[{"to": "+447700900100"}, {"to": "+447700900101", "reason": "`, "element 1: larger than", 1},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		es, _, err := read(t, io.MultiReader(strings.NewReader(c.head), io.LimitReader(endless('a'), 64<<20)))
		runtime.ReadMemStats(&after)
		require.ErrorContains(t, err, c.want, c.name)
		require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(8<<20), c.name)
		require.Len(t, es, c.added, c.name)
	}
}

func TestUnsuppress_NormalisesTheNumber(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, _, _ := newGuard(t)
	require.NoError(t, g.Suppress(ctx, "W", guard.Entry{To: "441234567890", Reason: "r"}))
	to, ok, err := g.Unsuppress(ctx, "W", "+44 1234 567890")
	require.NoError(t, err)
	require.True(t, ok, "the number as it was imported")
	require.Equal(t, "441234567890", to)
	_, _, err = g.Unsuppress(ctx, "W", "nope")
	require.ErrorIs(t, err, guard.ErrBadNumber)
}

// A JSON element is read as strictly as any JSON body of the API: a
// repeated key (the last "to" was suppressed), a key in another case, an
// unknown field and text that is not UTF-8 reject the element. An export
// (GET /v1/suppressions) imports again.
func TestReadEntries_JSONElementsAreStrict(t *testing.T) {
	t.Parallel()
	es, sum, err := read(t, strings.NewReader("["+
		`{"to": "441234567890", "to": "441234567891"},`+
		`{"TO": "441234567892"},`+
		`{"to": "441234567893", "name": "x"},`+
		"{\"to\": \"441234567894\", \"reason\": \"caf\xe9\"},"+
		`{"to": "441234567895", "reason": "asked", "code": 131050, "source": "answer", "at": "2026-12-04T10:00:00Z"}]`))
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, "441234567895", es[0].To, "an export's entry")
	require.Equal(t, 4, sum.Rejected)
	for i, want := range []string{`"to" appears twice`, `unknown field "TO"`, `unknown field "name"`, "not valid UTF-8"} {
		require.Equal(t, i, sum.Errors[i].Line)
		require.Contains(t, sum.Errors[i].Reason, want)
	}
}

// A CSV line that is too long is named by its own line, wherever the
// record before it ended: after a quoted reason over several lines, after
// blank lines, after a line rejected for its quotes. A record whose first
// field is a quote that never closes is named after the line before it.
func TestReadEntries_LongLineNamesItsLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("y", 70<<10)
	for body, want := range map[string]string{
		"to,reason\n441234500001,\"asked\nby\nphone\"\n441234500002," + long + "\n":   "line 5 is longer than",
		"to,reason\n441234500001,asked\n\n\n441234500002," + long + "\n":              "line 5 is longer than",
		"to,reason\r\n441234500001,\"a\r\nb\"\r\n\r\n441234500002,\"" + long + "\r\n": "line 5 is longer than",
		"to,reason\n441234500001,a\"b\n441234500002," + long + "\n":                   "line 3 is longer than",
		"to,reason\n441234500001,\"asked\nby\nphone\"\n\"441234500002," + long + "\n": "the record after line 4 is longer than",
		"to,reason\n441234500001,asked\n\"441234500002," + long + "\n":                "the record after line 2 is longer than",
		"\"to," + long + "\n": "the header is longer than",
		"to,reason\n441234500001,\"asked\n\"\"by\"\"\nphone\",x\n441234500002,x\n" + long + "\n": "line 6 is longer than",
	} {
		_, _, err := read(t, strings.NewReader(body))
		require.ErrorContains(t, err, want, "%.60q", body)
	}
}

// A JSON object (one entry, or an export's page) is not taken for CSV: the
// import says it wants a list.
func TestReadEntries_JSONObjectWantsAList(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"to": "+441234567890", "reason": "asked"}`, "\ufeff \n {\"scope\": \"W\", \"entries\": []}"} {
		_, _, err := read(t, strings.NewReader(body))
		var bi *guard.BadImportError
		require.ErrorAs(t, err, &bi, body)
		require.ErrorContains(t, err, "a JSON object: want a JSON list", body)
	}
}

// A JSON element with a field of the wrong type was refused as "want an
// object with to and reason", whichever field it was: the field is named,
// as in a recipient.
func TestReadEntries_JSONTypeErrorNamesTheField(t *testing.T) {
	t.Parallel()
	es, sum, err := read(t, strings.NewReader(`[{"to": 441234567890, "reason": "x"}, {"to": "447700900000", "reason": 5}, 7, {"to": "447700900001"}]`))
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, []guard.LineError{
		{Line: 0, Index: ptr(0), Reason: "to: want string, got number"},
		{Line: 1, Index: ptr(1), Reason: "reason: want string, got number"},
		{Line: 2, Index: ptr(2), Reason: "want an object with to and reason, got number"},
	}, sum.Errors)
}

// A JSON element refused was listed as {"line": 0, ...}: a line 0 for the
// first element (of a list that may be on one line), where the enqueue
// summary names an array's rows by "index". It carries "index" too ("line"
// keeps the same number, as the summary's does); a CSV line has none.
func TestReadEntries_JSONElementIsNamedByIndex(t *testing.T) {
	t.Parallel()
	_, sum, err := read(t, strings.NewReader(`[{"to": "447700900000"}, {"to": "nope"}]`))
	require.NoError(t, err)
	b, err := json.Marshal(sum.Errors)
	require.NoError(t, err)
	require.JSONEq(t, `[{"line": 1, "index": 1, "reason": "to: \"nope\" is not a phone number: unexpected 'n'"}]`, string(b))

	_, sum, err = read(t, strings.NewReader("to\nnope\n"))
	require.NoError(t, err)
	b, err = json.Marshal(sum.Errors)
	require.NoError(t, err)
	require.JSONEq(t, `[{"line": 2, "reason": "to: \"nope\" is not a phone number: unexpected 'n'"}]`, string(b))
}

func ptr(i int) *int { return &i }

// A CSV saved as Latin-1 was imported and its reason stored mangled
// (U+FFFD), while a JSON import refuses such bytes: the row is refused with
// its line, naming the column.
func TestReadEntries_CSVNotUTF8IsRefused(t *testing.T) {
	t.Parallel()
	es, sum, err := read(t, strings.NewReader("to,reason\n447700900000,pedido pelo cliente\n447700900001,recus\xe9\n44770090000\xb2,x\n447700900003,café\n"))
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.Equal(t, "café", es[1].Reason)
	require.Equal(t, []guard.LineError{
		{Line: 3, Reason: "reason: not valid UTF-8 (save the file as UTF-8)"},
		{Line: 4, Reason: "to: not valid UTF-8 (save the file as UTF-8)"},
	}, sum.Errors)
}

// A reason typed in a terminal that is not UTF-8 (mmlite suppress add
// --reason) was stored as it came.
func TestNewEntry_ReasonNotUTF8(t *testing.T) {
	t.Parallel()
	_, err := guard.NewEntry("447700900000", "recus\xe9", guard.SourceAPI)
	require.EqualError(t, err, "reason: not valid UTF-8")
}

// A reason's limit of 500 characters counted bytes: 300 Cyrillic letters
// (600 bytes) were refused.
func TestNewEntry_ReasonCountsCharacters(t *testing.T) {
	t.Parallel()
	e, err := guard.NewEntry("447700900000", strings.Repeat("я", 500), guard.SourceAPI)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("я", 500), e.Reason)
	_, err = guard.NewEntry("447700900000", strings.Repeat("я", 501), guard.SourceAPI)
	require.EqualError(t, err, "reason is longer than 500 characters (501)")
}

// A number that is not one names its field, as a recipient row's does
// ("to: ..."): a suppression import mixes errors of both columns.
func TestNewEntry_BadNumberNamesItsField(t *testing.T) {
	t.Parallel()
	_, err := guard.NewEntry("12", "asked by phone", guard.SourceAPI)
	require.EqualError(t, err, `to: "12" is not an international phone number: 2 digits, want 8 to 15`)
	_, sum, err := read(t, strings.NewReader("to,reason\n12,asked by phone\n"))
	require.NoError(t, err)
	require.Equal(t, `to: "12" is not an international phone number: 2 digits, want 8 to 15`, sum.Errors[0].Reason)
}

// A UTF-16 import is refused whole, saying so and what to do.
func TestReadEntries_UTF16Refused(t *testing.T) {
	t.Parallel()
	_, sum, err := read(t, strings.NewReader("\xFF\xFEt\x00o\x00\n\x00"))
	var bi *guard.BadImportError
	require.ErrorAs(t, err, &bi)
	require.ErrorContains(t, err, "the file is UTF-16: save it as UTF-8")
	require.Zero(t, sum.Added)
}

// A null element of a JSON import is named for what it is, as a number is:
// it was read as an entry without a number, `to: "" is not a phone
// number: no digits`.
func TestReadEntries_JSONNullElement(t *testing.T) {
	t.Parallel()
	es, sum, err := read(t, strings.NewReader(`[null, {"to": "447700900001"}, null ]`))
	require.NoError(t, err)
	require.Len(t, es, 1)
	require.Equal(t, []guard.LineError{
		{Line: 0, Index: ptr(0), Reason: "want an object with to and reason, got null"},
		{Line: 2, Index: ptr(2), Reason: "want an object with to and reason, got null"},
	}, sum.Errors)
}
