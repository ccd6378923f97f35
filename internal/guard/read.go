package guard

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/mmlite/mmlite/internal/bom"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/strictjson"
)

const (
	// ImportBatch is how many entries an import adds at a time.
	ImportBatch = 1000
	// MaxListedErrors is how many bad lines an import lists; all are counted.
	MaxListedErrors = 100
	// maxImportLine bounds a CSV record or a JSON element of an import.
	maxImportLine = 64 << 10
	// csvReadAhead is what encoding/csv's Reader buffers past a record.
	csvReadAhead = 4096
)

// LineError says why one line (CSV: the header is line 1) or element (JSON:
// its index from 0) of a suppression import was refused.
type LineError struct {
	// Line is the line of a CSV file; for a JSON element, its index (read
	// Index), as in the enqueue summary.
	Line int `json:"line"`
	// Index is set for the elements of a JSON list: the index, from 0.
	Index  *int   `json:"index,omitempty"`
	Reason string `json:"reason"`
}

// ImportSummary is what an import added and refused.
type ImportSummary struct {
	Added    int         `json:"added"`
	Rejected int         `json:"rejected"`
	Errors   []LineError `json:"errors"` // the first MaxListedErrors of them
}

// BadImportError is an import that stopped on its body: it is not CSV or a
// JSON list, a quote never closes, a line is longer than 64 KiB, data
// follows the list. The entries read before it were added.
type BadImportError struct{ Reason string }

func (e *BadImportError) Error() string { return e.Reason }

func badImport(format string, a ...any) error {
	return &BadImportError{Reason: fmt.Sprintf(format, a...)}
}

// Import reads a suppression import (see ReadEntries) and adds its good
// entries to scope's list.
func (g *Guard) Import(ctx context.Context, scope string, r io.Reader, source string) (ImportSummary, error) {
	return ReadEntries(r, source, func(es []Entry) error { return g.Suppress(ctx, scope, es...) })
}

// AddNumbers adds numbers to scope's list with one reason, as an import
// does: each is checked (numbered from 1, by its place), the good ones
// added, the bad ones counted and listed.
func (g *Guard) AddNumbers(ctx context.Context, scope string, tos []string, reason, source string) (ImportSummary, error) {
	im := &importer{source: source, add: func(es []Entry) error { return g.Suppress(ctx, scope, es...) },
		sum: ImportSummary{Errors: []LineError{}}}
	for i, to := range tos {
		if err := im.entry(i+1, to, reason); err != nil {
			return im.sum, err
		}
	}
	return im.sum, im.flush()
}

// ReadEntries reads a suppression import: a JSON list of {"to", "reason"}
// objects, or CSV with a header naming the columns to and, optionally,
// reason. Numbers are normalised as recipients are (internal/phone). The
// good entries go to add as they are read, ImportBatch at a time, so that
// an import of any size holds about a batch and a line; bad ones are
// counted and listed with their line. An error returned with the summary
// stopped the import: a *BadImportError (the body), add's, or r's. What
// the summary counts as added was added: an import is safe to send again.
func ReadEntries(r io.Reader, source string, add func([]Entry) error) (ImportSummary, error) {
	im := &importer{source: source, add: add, sum: ImportSummary{Errors: []LineError{}}}
	br := bufio.NewReader(r)
	if err := bom.Skip(br); err != nil {
		return im.sum, badImport("%v", err)
	}
	b, _ := br.Peek(64)
	var err error
	switch t := bytes.TrimLeft(b, " \t\r\n"); {
	case len(t) > 0 && t[0] == '[':
		err = im.readJSON(br)
	case len(t) > 0 && t[0] == '{':
		// No CSV header starts so; read as CSV, it was refused for its quotes.
		err = badImport(`the body is a JSON object: want a JSON list of {"to", "reason"} objects (of an export's page, its "entries")`)
	default:
		err = im.readCSV(br)
	}
	// What was read before an error in the body (or a body cut short) is
	// kept.
	if !im.addFailed {
		if ferr := im.flush(); ferr != nil {
			return im.sum, errors.Join(err, ferr)
		}
	}
	return im.sum, err
}

// importEntry is an element of a JSON import: the fields of an export
// (GET /v1/suppressions) are taken, so that an export imports again; only
// to and reason are read.
type importEntry struct {
	To     string          `json:"to"`
	Reason string          `json:"reason"`
	Code   json.RawMessage `json:"code"`
	Source json.RawMessage `json:"source"`
	At     json.RawMessage `json:"at"`
}

// importShape is importEntry's keys: a key repeated in an element (the
// last "to" would win) or given in another case is refused, as anywhere
// in the API.
var importShape = strictjson.ShapeOf[importEntry]()

type importer struct {
	indexed   bool // a JSON list: its errors name an index
	source    string
	add       func([]Entry) error
	batch     []Entry
	sum       ImportSummary
	addFailed bool
}

// entry takes one line's entry, or lists why it is refused.
func (im *importer) entry(line int, to, reason string) error {
	e, err := NewEntry(to, reason, im.source)
	if err != nil {
		im.reject(line, err.Error())
		return nil
	}
	im.batch = append(im.batch, e)
	if len(im.batch) < ImportBatch {
		return nil
	}
	return im.flush()
}

func (im *importer) reject(line int, reason string) {
	im.sum.Rejected++
	if len(im.sum.Errors) < MaxListedErrors {
		le := LineError{Line: line, Reason: reason}
		if im.indexed {
			le.Index = &line
		}
		im.sum.Errors = append(im.sum.Errors, le)
	}
}

func (im *importer) flush() error {
	if len(im.batch) == 0 {
		return nil
	}
	if err := im.add(im.batch); err != nil {
		im.addFailed = true
		return err
	}
	im.sum.Added += len(im.batch)
	im.batch = im.batch[:0]
	return nil
}

func (im *importer) readJSON(r io.Reader) error {
	im.indexed = true
	d := readlimit.NewDecoder(r, maxImportLine)
	if _, err := d.Token(); err != nil { // the '[' Peek saw
		return jsonImportErr(err, "the list")
	}
	for i := 0; d.More(); i++ {
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return jsonImportErr(err, fmt.Sprintf("element %d", i))
		}
		if string(raw) == "null" { // decodes into an empty entry
			im.reject(i, "want an object with to and reason, got null")
			continue
		}
		var v importEntry
		err := strictjson.Unmarshal(raw, importShape, &v)
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "": // the element itself
			im.reject(i, "want an object with to and reason, got "+te.Value)
			continue
		case err != nil:
			im.reject(i, strictjson.Describe(err))
			continue
		}
		if err := im.entry(i, v.To, v.Reason); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // the closing ']'
		return jsonImportErr(err, "the list")
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return badImport("data after the JSON list: send one list")
	}
	return nil
}

// jsonImportErr says where the JSON of an import broke; r's own errors
// (a body over the upload limit, a client gone) pass as they are.
func jsonImportErr(err error, at string) error {
	var se *json.SyntaxError
	var tl *readlimit.TooLargeError
	switch {
	case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badImport("%s: invalid JSON: %v", at, err)
	case errors.As(err, &tl):
		return badImport("%s: %v", at, err)
	}
	return err
}

func (im *importer) readCSV(r io.Reader) error {
	var start int64 // where the record being read begins
	lim := &readlimit.Reader{R: r, Limit: maxImportLine, Room: maxImportLine + csvReadAhead, Mark: func() int64 { return start }}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	last := 0 // the last line of the last record read
	csvErr := func(rec []string, err error) error {
		var tl *readlimit.TooLargeError
		if errors.As(err, &tl) {
			return tooLong(cr, rec, last)
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return badImport("line %d: %v", pe.StartLine, pe.Err)
		}
		return err
	}
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return badImport("empty body: want CSV with a header (to,reason) or a JSON list")
	}
	if err != nil {
		return csvErr(head, err)
	}
	to, reason := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "to":
			to = i
		case "reason":
			reason = i
		}
	}
	if to < 0 {
		return badImport("line 1: the header has no column \"to\" (want to,reason)")
	}
	last = lastLine(cr, head)
	for {
		start = cr.InputOffset()
		rec, err := cr.Read()
		var pe *csv.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case errors.As(err, &pe) && pe.Err == csv.ErrQuote && pe.Line > pe.StartLine:
			// The quoted field ran over the lines after it.
			return badImport("line %d: a quote opened here does not close properly before line %d: fix it and import again (the lines before it were added)", pe.StartLine, pe.Line)
		case errors.As(err, &pe) && (pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote):
			// csv drops the rest of the line: the next record is on the next.
			im.reject(pe.StartLine, pe.Err.Error())
			last = pe.Line
			continue
		case err != nil:
			return csvErr(rec, err)
		}
		line, _ := cr.FieldPos(0) // a record has at least one field
		last = lastLine(cr, rec)
		if to >= len(rec) {
			im.reject(line, "no value in column to")
			continue
		}
		why := ""
		if reason >= 0 && reason < len(rec) {
			why = rec[reason]
		}
		// csv keeps bytes that are not UTF-8, which would be stored as
		// they are and shown as U+FFFD (a JSON import refuses them).
		if !utf8.ValidString(rec[to]) {
			im.reject(line, "to: "+notUTF8File)
			continue
		}
		if !utf8.ValidString(why) {
			im.reject(line, "reason: "+notUTF8File)
			continue
		}
		if err := im.entry(line, rec[to], why); err != nil {
			return err
		}
	}
}

// lastLine is the line a record just read ends on: that of its last
// field's start, plus the line ends quoted in it (csv counts a line at each
// "\n", and reads "\r\n" as "\n").
func lastLine(cr *csv.Reader, rec []string) int {
	n := len(rec) - 1
	line, _ := cr.FieldPos(n)
	return line + strings.Count(rec[n], "\n")
}

// tooLong names the record longer than maxImportLine that csv stopped on.
// rec is what csv read of it: with a field, csv knows its line (blank
// lines may come before it); without one (its first field is a quote that
// never closes) the record is named by the line before it, last.
func tooLong(cr *csv.Reader, rec []string, last int) error {
	const why = "(or a quote opened there never closes)"
	switch {
	case len(rec) > 0:
		line, _ := cr.FieldPos(0)
		return badImport("line %d is longer than %d bytes %s", line, maxImportLine, why)
	case last == 0:
		return badImport("the header is longer than %d bytes %s", maxImportLine, why)
	}
	return badImport("the record after line %d is longer than %d bytes %s", last, maxImportLine, why)
}

// MaxReason is how long an entry's reason may be, in characters.
const MaxReason = 500

// notUTF8File is why a file's text that is not UTF-8 is refused.
const notUTF8File = "not valid UTF-8 (save the file as UTF-8)"

// NewEntry checks one entry: the number is normalised as recipients are,
// an empty reason says the operator added it, a reason must be UTF-8 text
// of at most MaxReason characters.
func NewEntry(to, reason, source string) (Entry, error) {
	n, err := phone.Normalize(to)
	if err != nil {
		return Entry{}, fmt.Errorf("to: %w", err)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "added by the operator"
	}
	if !utf8.ValidString(reason) {
		return Entry{}, errors.New("reason: not valid UTF-8")
	}
	if chars := utf8.RuneCountInString(reason); chars > MaxReason {
		return Entry{}, fmt.Errorf("reason is longer than %d characters (%d)", MaxReason, chars)
	}
	return Entry{To: n, Reason: reason, Source: source}, nil
}
