package producer_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

type row struct {
	r    producer.Recipient
	line int
	err  string
}

func drain(t *testing.T, src producer.Source) ([]row, error) {
	t.Helper()
	var out []row
	for i := 0; i < 10000; i++ {
		r, line, err := src.Next()
		var re *producer.RowError
		switch {
		case err == io.EOF:
			return out, nil
		case errors.As(err, &re):
			out = append(out, row{line: re.Line, err: re.Reason})
		case err != nil:
			return out, err
		default:
			out = append(out, row{r: r, line: line})
		}
	}
	t.Fatal("source never ended")
	return nil, nil
}

func componentsJSON(t *testing.T, r producer.Recipient) string {
	t.Helper()
	b, err := json.Marshal(r.Components)
	require.NoError(t, err)
	return string(b)
}

func TestCSV_Columns(t *testing.T) {
	t.Parallel()
	in := "\xEF\xBB\xBFto,header.image,body.first_name,body.discount,button.0,meta.crm_id\n" +
		"+55 11 98765-4321,https://example.com/banner.jpg,Ana,20%,ana-20,42\n" +
		"441234567890,https://example.com/b.jpg,\"Bob \"\"the\"\" <b>\",10%,bob,\n"
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, 2, rows[0].line)
	require.Equal(t, "+55 11 98765-4321", rows[0].r.To, "the producer normalises numbers")
	require.JSONEq(t, `[
	  {"type":"header","parameters":[{"type":"image","image":{"link":"https://example.com/banner.jpg"}}]},
	  {"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Ana"},{"type":"text","parameter_name":"discount","text":"20%"}]},
	  {"type":"button","sub_type":"url","index":"0","parameters":[{"type":"text","text":"ana-20"}]}]`, componentsJSON(t, rows[0].r))
	require.Equal(t, map[string]string{"crm_id": "42"}, rows[0].r.Metadata)
	require.Contains(t, componentsJSON(t, rows[1].r), `"text":"Bob \"the\" \u003cb\u003e"`)
	require.Nil(t, rows[1].r.Metadata, "empty metadata cells are left out")

	rows, err = drain(t, producer.NewCSVSource(strings.NewReader("body.2,to,body.1,header.text\r\nsecond,441234567890,first,Hi\r\n")))
	require.NoError(t, err)
	require.JSONEq(t, `[{"type":"header","parameters":[{"type":"text","text":"Hi"}]},
	  {"type":"body","parameters":[{"type":"text","text":"first"},{"type":"text","text":"second"}]}]`, componentsJSON(t, rows[0].r))
}

// A results export (GET /v1/campaigns/{id}/results as CSV) is enqueued as
// it is: its outcome columns are read past.
func TestCSV_ResultsExportColumnsAreReadPast(t *testing.T) {
	t.Parallel()
	in := "to,body.1,meta.crm_id,status,error_code,wamid\n441234567890,Ana,42,failed,131026,\n441234567891,Bob,43,expired,,\n"
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Empty(t, rows[0].err)
	require.JSONEq(t, `[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]`, componentsJSON(t, rows[0].r))
	require.Equal(t, map[string]string{"crm_id": "42"}, rows[0].r.Metadata, "status, error_code and wamid are not metadata")
}

func TestCSV_HeaderErrors(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                              "line 1: the file is empty",
		"phone\n1\n":                    `line 1: column "phone" is unknown`,
		"body.1\nx\n":                   `line 1: no "to" column`,
		"to,to\n":                       `column "to" appears twice`,
		"to,body.1,body.name\n":         "cannot be mixed",
		"to,body.2\n":                   "body.1 is missing",
		"to,body.1,body.3\n":            "body.2 is missing",
		"to,body.0\n":                   "positions run from body.1",
		"to,body.First\n":               "lowercase letters",
		"to,header.text,header.image\n": "a template has one header",
		"to,header.audio\n":             `column "header.audio" is unknown`,
		"to,button.x\n":                 "want button.0 to button.9",
		"to,button.10\n":                "want button.0 to button.9",
		// One position written two ways would send one column's cells and
		// drop the other's: a position is written as a plain number.
		"to,button.0,button.00\n": `column "button.00": want button.0 to button.9`,
		"to,button.+1\n":          `column "button.+1": want button.0 to button.9`,
		"to,body.1,body.01\n":     `column "body.01": write a position as body.1, body.2, ...`,
		"to,body.+1\n":            `column "body.+1": write a position as body.1, body.2, ...`,
		"to,meta.\n":              `column "meta." is unknown`,
		"to,\"a\"b\"\n":           "line 1: header",
	}
	for in, want := range cases {
		_, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
		require.ErrorContains(t, err, want, "%q", in)
	}
}

func TestCSV_RowErrorsKeepGoing(t *testing.T) {
	t.Parallel()
	in := "to,body.1,header.image,button.0\n" +
		"441234567890,a,https://x.com/i.png,s\n" + // 2 ok
		"441234567891,,https://x.com/i.png,s\n" + // 3 empty body
		"441234567892,a,ftp://x/i.png,s\n" + // 4 not http
		"441234567893,a,https://x.com/i.png\n" + // 5 field count
		"441234567894,\"multi\nline\",https://x.com/i.png,s\n" + // 6-7 ok, quoted newline
		"441234567895,a,https://x.com/i.png,\n" + // 8 empty button
		"441234567896,a\"b,https://x.com/i.png,s\n" + // 9 bare quote
		"441234567897,a,https://x.com/i.png,s\n" // 10 ok
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.NoError(t, err)
	got := map[int]string{}
	for _, r := range rows {
		got[r.line] = r.err
	}
	require.Equal(t, "", got[2])
	require.Contains(t, got[3], "body.1: empty")
	require.Contains(t, got[4], "header.image")
	require.Contains(t, got[5], "3 fields, the header has 4")
	require.Equal(t, "", got[6])
	require.Contains(t, got[8], "button.0: empty")
	require.Contains(t, got[9], "malformed CSV")
	require.Equal(t, "", got[10])
	require.Len(t, rows, 8)
}

func TestCSV_LongLineStops(t *testing.T) {
	t.Parallel()
	in := "to\n" + strings.Repeat("4", producer.MaxLine+10) + "\n"
	_, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.ErrorContains(t, err, "line 2 is longer than")
}

func TestJSONL(t *testing.T) {
	t.Parallel()
	in := `{"to": "441234567890", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}], "metadata": {"crm_id": "42"}}` + "\n" +
		"\n" + // 2 blank, skipped
		`{"to": "441234567891", "colour": "red"}` + "\n" + // 3 unknown field
		`{"to": 441234567892}` + "\n" + // 4 wrong type
		`{"to": "441234567893"` + "\n" + // 5 broken
		`{"to": "441234567894", "components": [{"parameters": []}]}` + "\n" + // 6 component without type
		`{"to": "441234567895"} {"to": "1"}` + "\n" + // 7 two values
		strings.Repeat(" ", producer.MaxLine+1) + "\n" + // 8 too long
		`{"to": "441234567896"}` // 9 last line without newline
	rows, err := drain(t, producer.NewJSONLSource(strings.NewReader(in)))
	require.NoError(t, err)
	got := map[int]row{}
	for _, r := range rows {
		got[r.line] = r
	}
	require.Empty(t, got[1].err)
	require.Equal(t, map[string]string{"crm_id": "42"}, got[1].r.Metadata)
	require.JSONEq(t, `[{"type":"body","parameters":[{"type":"text","text":"Ana"}]}]`, componentsJSON(t, got[1].r))
	require.Contains(t, got[3].err, `unknown field "colour"`)
	require.Contains(t, got[4].err, "to: want string, got number")
	require.Contains(t, got[5].err, "invalid JSON")
	require.Contains(t, got[6].err, `missing "type"`)
	require.Contains(t, got[7].err, "more than one JSON value")
	require.Contains(t, got[8].err, "longer than")
	require.Empty(t, got[9].err)
	require.Equal(t, "441234567896", got[9].r.To)
	require.Len(t, rows, 8)
}

func TestArraySource(t *testing.T) {
	t.Parallel()
	d := json.NewDecoder(strings.NewReader(`[{"to": "441234567890"}, {"to": 5}, {"too": "x"}, {"to": "441234567891"}]`))
	_, err := d.Token()
	require.NoError(t, err)
	rows, err := drain(t, producer.NewArraySource(d))
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, 0, rows[0].line)
	require.Equal(t, 1, rows[1].line)
	require.Contains(t, rows[1].err, "to: want string")
	require.Contains(t, rows[2].err, `unknown field "too"`)
	require.Equal(t, "441234567891", rows[3].r.To)

	d = json.NewDecoder(strings.NewReader(`[{"to": "441234567890"}, {"to": `))
	_, _ = d.Token()
	_, err = drain(t, producer.NewArraySource(d))
	require.ErrorContains(t, err, "recipients[1]: invalid JSON")
}

// In a results export (a file with its outcome columns), an empty cell of
// a component column is "none of its own": the recipient gets what it had,
// the campaign's, and a positional body keeps its first parameters. In
// any other file it is a mistake, as before.
func TestCSV_ExportEmptyCellsAreNoneOfItsOwn(t *testing.T) {
	t.Parallel()
	in := "to,header.text,body.1,body.2,button.0,status,error_code,wamid\n" +
		"441234567801,Hi,Ana,Rio,ana,failed,131026,\n" + // 2: all its own
		"441234567802,,,,,failed,131026,\n" + // 3: none
		"441234567803,,Bia,,,failed,131026,\n" + // 4: its body's first parameter only
		"441234567804,,,Rio,,failed,131026,\n" // 5: a gap: body.1 missing before body.2
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Empty(t, rows[0].err)
	require.Len(t, rows[0].r.Components, 3)
	require.Empty(t, rows[1].err)
	require.Empty(t, rows[1].r.Components)
	require.Empty(t, rows[2].err)
	require.JSONEq(t, `[{"type":"body","parameters":[{"type":"text","text":"Bia"}]}]`, componentsJSON(t, rows[2].r))
	require.Equal(t, "body.1: empty while body.2 is given (positional parameters run body.1, body.2, ... without gaps)", rows[3].err)

	rows, err = drain(t, producer.NewCSVSource(strings.NewReader("to,body.1\n441234567802,\n")))
	require.NoError(t, err)
	require.Equal(t, "body.1: empty (a template parameter cannot be blank)", rows[0].err, "not an export: a blank parameter")
}

// A position past the last one a body takes is named with its range; one
// too long for an int was refused as "a named parameter is lowercase
// letters, digits and underscores", which its digits are.
func TestCSV_BodyPositionOutOfRange(t *testing.T) {
	t.Parallel()
	for _, col := range []string{"body.0", "body.101", "body.99999999999999999999"} {
		_, err := drain(t, producer.NewCSVSource(strings.NewReader("to,"+col+"\n")))
		require.ErrorContains(t, err, `line 1: column "`+col+`": positions run from body.1 to body.100`, col)
	}
}

// A spreadsheet's CSV written with semicolons (the list separator where the
// decimal separator is a comma: Brazil, most of Europe) or a tab-separated
// export was refused as one unknown column, `column "to;body.1" is unknown:
// want to, body.N, ...`, which does not say that the separator is wrong.
func TestCSV_HeaderWithAnotherSeparatorSaysSo(t *testing.T) {
	t.Parallel()
	const save = `: save the file as CSV with commas (in a spreadsheet, "CSV UTF-8 (Comma delimited)")`
	cases := map[string]string{
		"to;body.1;meta.crm_id\n5511912345678;Ana;42\n": `line 1: column "to;body.1;meta.crm_id" is unknown: the header is separated by ";", not by commas` + save,
		"\ufeffto\tbody.1\r\n5511912345678\tAna\r\n":    `line 1: column "to\tbody.1" is unknown: the header is separated by tabs, not by commas` + save,
		"meta.a;to,body.1\n":                            `line 1: column "meta.a;to" is unknown: the header is separated by ";", not by commas` + save,
	}
	for in, want := range cases {
		_, err := drain(t, producer.NewCSVSource(strings.NewReader(in)))
		require.EqualError(t, err, want, "%q", in)
	}
	_, err := drain(t, producer.NewCSVSource(strings.NewReader("phone;name\n1;a\n")))
	require.ErrorContains(t, err, `column "phone;name" is unknown: want to, body.N`, "no to column either way: the columns it wants")
}

// A CSV file read as JSON Lines (named .jsonl, or uploaded as
// application/x-ndjson) was a rejected row per line, each in encoding/json's
// words ("line 1: invalid JSON: invalid character 'o' in literal true
// (expecting 'r')"), none saying that the file is CSV. Its first line stops
// the file, saying so, header or not (TestJSONL_ReadFirst).
func TestJSONL_CSVHeaderSaysSo(t *testing.T) {
	t.Parallel()
	in := "\ufeff\r\nto,body.1,meta.crm_id\r\n+55 11 91234-5678,Ana,42\r\n"
	rows, err := drain(t, producer.NewJSONLSource(strings.NewReader(in)))
	require.Empty(t, rows)
	require.EqualError(t, err, `line 2: this is a CSV header, not JSON Lines`)

	rows, err = drain(t, producer.NewJSONLSource(strings.NewReader("phone,name\n{\"to\": \"441234567890\"}\n")))
	require.Empty(t, rows)
	require.EqualError(t, err, `line 1: not a JSON object: the input looks like CSV`)

	// After the first line, a line that is no JSON object stays a rejected
	// row, and reading goes on.
	rows, err = drain(t, producer.NewJSONLSource(strings.NewReader("{\"to\": \"441234567890\"}\nphone,name\n{\"to\": \"441234567891\"}\n")))
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Contains(t, rows[1].err, "invalid JSON")
	require.Equal(t, "441234567891", rows[2].r.To)
}

// A body.<name> column took a stricter name than a JSON recipient's
// parameter_name (no leading digit, at most 64 characters): a CSV export
// of a campaign enqueued as JSON could not be read back. A column takes
// every name a JSON recipient does.
func TestCSV_NamedColumnTakesEveryNameJSONDoes(t *testing.T) {
	t.Parallel()
	long := "a234567890123456789012345678901234567890123456789012345678901234567890"
	rows, err := drain(t, producer.NewCSVSource(strings.NewReader("to,body.2nd,body."+long+"\n441234567890,Ana,Bob\n")))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.JSONEq(t, `[{"type":"body","parameters":[{"type":"text","parameter_name":"2nd","text":"Ana"},{"type":"text","parameter_name":"`+long+`","text":"Bob"}]}]`,
		componentsJSON(t, rows[0].r))
}
