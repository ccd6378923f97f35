package producer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The fuzz targets of the recipient readers. Their seeds (testdata/fuzz)
// run in every `go test`; `make fuzz` runs each for a while.

// FuzzCSV checks the CSV reader against encoding/csv, which reads every
// input the same way as long as its records fit in MaxLine, and checks the
// rows a CSVSource yields: every record is one row, at the line where it
// starts, until the end or a problem with the file that names a line.
func FuzzCSV(f *testing.F) {
	for _, s := range []string{
		"to\n\"x", // issue 10: the crash
		"to,body.1\n441234567890,a\n441234567891,\"unterminated\n441234567892,b\n",
		"to,meta.a\n441234567890,\"1 High St\r\nLondon\"\r\n\r\n441234567891,\"a \"\"b\"\"\"\n",
		"to,body.1\n441234567890,a\"b\n441234567891,\"a\"b\n441234567892,\"a\nb\"c\n",
		"\xEF\xBB\xBFto\n441234567890\r",
		"to\n\n\n441234567890\n\"\"\n,\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithEncodingCSV(t, data)
		checkCSVSource(t, data)
		checkCSVSource(t, append([]byte("to,body.1,meta.x\n"), data...))
	})
}

// compareWithEncodingCSV reads data with both readers, record by record.
func compareWithEncodingCSV(t *testing.T, data []byte) {
	want := csv.NewReader(bytes.NewReader(data))
	want.FieldsPerRecord = -1
	got := newCSVReader(newLineReader(bytes.NewReader(data)), maxColumns+1)
	// encoding/csv does not skip a BOM.
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		return
	}
	for {
		rec, werr := want.Read()
		fields, gerr := got.read()
		checkBounds(t, got)
		var se *csvSyntaxError
		switch {
		case werr == io.EOF:
			if gerr != io.EOF {
				t.Fatalf("encoding/csv ends, we read %q, %v", fields, gerr)
			}
			return
		case werr == nil && gerr != nil:
			t.Fatalf("encoding/csv reads %q, we fail: %v", rec, gerr)
		case werr == nil:
			line, _ := want.FieldPos(0)
			kept := rec[:min(len(rec), got.maxFields)] // fields past maxFields are counted, not kept
			if !equalFields(kept, fields) || got.start != line || got.n != len(rec) {
				t.Fatalf("encoding/csv reads %.300q on line %d, we read %.300q (%d fields) on line %d", rec, line, fields, got.n, got.start)
			}
		case gerr == nil || gerr == io.EOF:
			t.Fatalf("encoding/csv fails (%v), we read %q, %v", werr, fields, gerr)
		case errors.As(gerr, &se):
			// A malformed row on one line: both go on with the next line.
			var pe *csv.ParseError
			if !errors.As(werr, &pe) || pe.StartLine != pe.Line || pe.StartLine != got.start {
				t.Fatalf("we reject the row on line %d (%v), encoding/csv says %v", got.start, gerr, werr)
			}
		default:
			return // a problem with the file: we stop, encoding/csv failed too
		}
	}
}

func equalFields(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkBounds asserts the reader holds no more than a record's worth.
func checkBounds(t *testing.T, c *csvReader) {
	if len(c.buf) > MaxLine || cap(c.lr.long) > MaxLine+2*lineBuffer || len(c.ends) > c.maxFields {
		t.Fatalf("the reader holds %d bytes of fields, %d of line, %d field ends", len(c.buf), cap(c.lr.long), len(c.ends))
	}
}

var lineRef = regexp.MustCompile(`line (\d+)`)

// checkCSVSource drains a CSVSource and compares its rows with what
// encoding/csv finds in the file, when it finds no error.
func checkCSVSource(t *testing.T, data []byte) {
	lines := bytes.Count(data, []byte("\n")) + 1
	src := NewCSVSource(bytes.NewReader(data))
	var rowLines []int
	var fatal error
	for {
		_, line, err := src.Next()
		var re *RowError
		if errors.As(err, &re) {
			line = re.Line
		} else if err != nil {
			if err != io.EOF {
				fatal = err
			}
			break
		}
		if line < 2 || line > lines || (len(rowLines) > 0 && line <= rowLines[len(rowLines)-1]) {
			t.Fatalf("row at line %d after %v, the file has %d lines", line, rowLines, lines)
		}
		rowLines = append(rowLines, line)
	}
	if fatal != nil {
		m := lineRef.FindStringSubmatch(fatal.Error())
		if m == nil {
			t.Fatalf("%q: the error names no line", fatal)
		}
		if n, _ := strconv.Atoi(m[1]); n < 1 || n > lines {
			t.Fatalf("%q: line %d, the file has %d lines", fatal, n, lines)
		}
	}
	wantLines, wantFatal, ok := csvReference(data)
	if !ok || src.cols == nil {
		return
	}
	if !equalInts(rowLines, wantLines) || (fatal != nil) != wantFatal {
		t.Fatalf("rows on lines %v then %v; encoding/csv expects rows on %v, fatal %v", rowLines, fatal, wantLines, wantFatal)
	}
}

// csvReference is what a CSVSource must yield for a file that encoding/csv
// reads without error: one row per record after the header, on the line
// where it starts, until a record with a quoted line break has the wrong
// number of fields (a quote that probably closes too late): then the file
// stops.
func csvReference(data []byte) (lines []int, fatal, ok bool) {
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		return nil, false, false
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	width := -1
	for {
		rec, err := r.Read()
		switch {
		case err == io.EOF:
			return lines, false, true
		case err != nil:
			return nil, false, false
		case width < 0:
			width = len(rec)
			continue
		}
		if len(rec) != width && strings.Contains(strings.Join(rec, ""), "\n") {
			return lines, true, true
		}
		line, _ := r.FieldPos(0)
		lines = append(lines, line)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzJSONL checks that every line that is not blank is exactly one row,
// at its own line, and that a row is accepted only if its line is a JSON
// object.
func FuzzJSONL(f *testing.F) {
	for _, s := range []string{
		`{"to": "441234567890", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}], "metadata": {"crm_id": "42"}}`,
		"\xEF\xBB\xBF{\"to\": \"441234567890\"}\r\n\r\n[1]\nnull\n\"x\"\n{\"to\": 5}\n{\"to\": \"1\"} {}\n{\"to\":",
		"{\"to\": \"441234567890\", \"metadata\": {\"a\": \"\\u0000\"}}\n \t\n{}\n{\"colour\": 1}\r",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := bytes.TrimPrefix(data, []byte("\xEF\xBB\xBF"))
		phys := bytes.Split(in, []byte("\n"))
		var want []int
		for i, l := range phys {
			if len(bytes.TrimSpace(l)) > 0 {
				want = append(want, i+1)
			}
		}
		src := NewJSONLSource(bytes.NewReader(data))
		var got []int
		for {
			r, line, err := src.Next()
			var re *RowError
			var nj *NotJSONLinesError
			switch {
			case errors.As(err, &nj): // only the first line that is not blank may say so
				if len(got) > 0 || len(want) == 0 || nj.Line != want[0] || bytes.TrimSpace(phys[nj.Line-1])[0] == '{' {
					t.Fatalf("%v, after rows on lines %v; lines not blank: %v", err, got, want)
				}
				return
			case err == io.EOF:
				if !equalInts(got, want) {
					t.Fatalf("rows on lines %v, want one per line that is not blank: %v", got, want)
				}
				return
			case errors.As(err, &re):
				got = append(got, re.Line)
			case err != nil:
				t.Fatalf("a JSON Lines file read from memory cannot fail as a whole: %v", err)
			default:
				if line < 1 || line > len(phys) {
					t.Fatalf("row on line %d of %d", line, len(phys))
				}
				text := bytes.TrimSpace(phys[line-1])
				if text[0] != '{' || !json.Valid(text) {
					t.Fatalf("line %d %q is accepted as %+v", line, text, r)
				}
				got = append(got, line)
			}
			if len(got) > len(phys) {
				t.Fatalf("more rows than lines: %v", got)
			}
		}
	})
}

// FuzzArraySource feeds the "recipients" array of POST /v1/campaigns as
// the HTTP intake does (a decoder positioned after '['): every element is
// one row with its index, and a valid array is read to its end.
func FuzzArraySource(f *testing.F) {
	for _, s := range []string{
		`[{"to": "441234567890"}, {"to": 5}, {"too": "x"}, null, [], "x", {"to": "441234567891", "metadata": {"a": "b"}}]`,
		`[{"to": "441234567890"}, {"to": `,
		`[}`,
		`[{"to": "1"},]`,
		`[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := json.NewDecoder(bytes.NewReader(data))
		if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
			return
		}
		var elems []json.RawMessage
		valid := json.Unmarshal(data, &elems) == nil
		src := NewArraySource(d)
		for i := 0; ; i++ {
			_, line, err := src.Next()
			var re *RowError
			switch {
			case err == io.EOF:
				if valid && i != len(elems) {
					t.Fatalf("%d rows, the array has %d elements", i, len(elems))
				}
				if !json.Valid(data[:d.InputOffset()]) {
					t.Fatalf("read to the end of an array that is not valid: %q", data[:d.InputOffset()])
				}
				return
			case errors.As(err, &re):
				line = re.Line
			case err != nil:
				if valid {
					t.Fatalf("a valid array fails at element %d: %v", i, err)
				}
				return
			}
			if line != i {
				t.Fatalf("element %d reported as %d", i, line)
			}
			if i > len(data) {
				t.Fatalf("more elements than bytes")
			}
		}
	})
}
