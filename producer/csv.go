package producer

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mmlite/mmlite/internal/csvcell"
	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// CSVSource reads recipients from CSV with a header row (see docs/campaigns.md
// for the columns). The header is line 1; a row's line is the line it starts on.
// A malformed row on one line is rejected; a quote that never closes, or a
// row longer than MaxLine, stops the file at the line where it began.
type CSVSource struct {
	r      *csvReader
	cols   []column
	layout layout
	err    error
}

type colKind uint8

const (
	colTo colKind = iota
	colBodyPos
	colBodyNamed
	colHeader
	colButton
	colMeta
	colOutcome // a results export's status, error_code or wamid: read past
)

type column struct {
	kind  colKind
	name  string // parameter name, header kind (text, image, video, document) or metadata key
	index int    // body position (from 1) or button index
}

// layout is what the header says the components look like.
type layout struct {
	header  int   // column of the header parameter, -1 if none
	body    []int // columns of body parameters, in order
	buttons []int // columns of buttons, by index
	meta    []int
	to      int
	// export: the file has a results export's outcome columns, whose
	// empty component cells are a recipient's "none of its own" (it had
	// the campaign's), not a blank parameter, and whose parameter and
	// metadata cells were neutralized against spreadsheets (a ' first
	// is taken off: see package csvcell).
	export bool
}

// maxColumns bounds the header; a row's fields are bounded by the header's.
const maxColumns = 1000

// NewCSVSource reads CSV from r.
func NewCSVSource(r io.Reader) *CSVSource {
	return &CSVSource{r: newCSVReader(newLineReader(r), maxColumns+1)}
}

// Next implements Source.
func (s *CSVSource) Next() (Recipient, int, error) {
	if s.err != nil {
		return Recipient{}, 0, s.err
	}
	if err := s.ReadHeader(); err != nil {
		return Recipient{}, 0, err
	}
	rec, err := s.r.read()
	line := s.r.start
	var se *csvSyntaxError
	switch {
	case err == io.EOF:
		s.err = io.EOF
		return Recipient{}, 0, io.EOF
	case errors.As(err, &se):
		return Recipient{}, line, rowErr(line, "malformed CSV: %s", se.msg)
	case err != nil:
		s.err = readErr(err)
		return Recipient{}, 0, s.err
	case s.r.n != len(s.cols) && s.r.open > 0:
		// A quoted line break and a row of the wrong width: most likely a
		// quote that did not close where it should have, so the rows it
		// spans cannot be told apart.
		s.err = fileErrorf("line %d: a quote opened here closes only on line %d, and the row it ends has %d fields, the header has %d: check the quotes of line %d",
			s.r.open, s.r.lr.line, s.r.n, len(s.cols), s.r.open)
		return Recipient{}, 0, s.err
	case s.r.n != len(s.cols):
		return Recipient{}, line, rowErr(line, "%d fields, the header has %d", s.r.n, len(s.cols))
	}
	if !s.r.utf8 {
		if name := s.notUTF8(rec); name != "" {
			return Recipient{}, line, rowErr(line, "%s: not valid UTF-8 (save the file as UTF-8)", name)
		}
	}
	r, rerr := s.row(rec)
	if rerr != nil {
		return Recipient{}, line, rowErr(line, "%s", rerr)
	}
	return r, line, nil
}

// ReadHeader reads and checks the header row, if Next has not yet: for a
// caller that wants a file with no header, or a wrong one, refused before
// it does anything (registers the campaign, say). A header refused is
// Next's error too.
func (s *CSVSource) ReadHeader() error {
	if s.cols == nil && s.err == nil {
		s.err = s.readHeader()
	}
	return s.err
}

// readHeader parses the column names.
func (s *CSVSource) readHeader() error {
	names, err := s.r.read()
	line := s.r.start
	var se *csvSyntaxError
	switch {
	case err == io.EOF:
		return errors.New("line 1: the file is empty: want a header row with a \"to\" column")
	case errors.As(err, &se):
		return fmt.Errorf("line %d: header: malformed CSV: %w", line, se)
	case err != nil:
		return readErr(err)
	case s.r.n > maxColumns:
		return fmt.Errorf("line %d: %d columns, at most %d", line, s.r.n, maxColumns)
	}
	cols, l, err := parseHeader(names)
	if err != nil {
		return fmt.Errorf("line %d: %w", line, err)
	}
	s.cols, s.layout = cols, l
	return nil
}

func parseHeader(names []string) ([]column, layout, error) {
	cols := make([]column, len(names))
	l := layout{header: -1, to: -1}
	seen := map[string]bool{}
	var positional, named, outcomes int
	buttons := map[int]int{}
	for i, raw := range names {
		name := strings.TrimSpace(raw)
		if seen[name] {
			return nil, l, fmt.Errorf("column %q appears twice", name)
		}
		seen[name] = true
		c, err := parseColumn(name)
		if err != nil {
			return nil, l, otherSeparator(name, err)
		}
		cols[i] = c
		switch c.kind {
		case colTo:
			l.to = i
		case colBodyPos:
			positional++
			l.body = append(l.body, i)
		case colBodyNamed:
			named++
			l.body = append(l.body, i)
		case colHeader:
			if l.header >= 0 {
				return nil, l, fmt.Errorf("columns %q and %q: a template has one header", names[l.header], name)
			}
			l.header = i
		case colButton:
			buttons[c.index] = i
		case colMeta:
			l.meta = append(l.meta, i)
		case colOutcome:
			outcomes++
		}
	}
	// A results export writes all the outcome columns.
	l.export = outcomes == len(results.OutcomeColumns)
	if l.to < 0 {
		return nil, l, errors.New(`no "to" column`)
	}
	if positional > 0 && named > 0 {
		return nil, l, errors.New("body.N and body.<name> columns cannot be mixed: a template's body is positional or named")
	}
	if positional > 0 {
		sort.Slice(l.body, func(a, b int) bool { return cols[l.body[a]].index < cols[l.body[b]].index })
		for n, ci := range l.body {
			if cols[ci].index != n+1 {
				return nil, l, fmt.Errorf("body.%d is missing: positional parameters run body.1, body.2, ... without gaps", n+1)
			}
		}
	}
	idx := make([]int, 0, len(buttons))
	for k := range buttons {
		idx = append(idx, k)
	}
	sort.Ints(idx)
	for _, k := range idx {
		l.buttons = append(l.buttons, buttons[k])
	}
	return cols, l, nil
}

// otherSeparator says so when the unknown column name holds a "to" column
// separated by ";" or a tab (a spreadsheet's CSV where the decimal separator
// is a comma, or a tab-separated export), else returns err.
func otherSeparator(name string, err error) error {
	for _, sep := range []struct{ sep, says string }{{";", `";"`}, {"\t", "tabs"}} {
		if slices.ContainsFunc(strings.Split(name, sep.sep), func(c string) bool { return strings.TrimSpace(c) == "to" }) {
			return fmt.Errorf(`column %q is unknown: the header is separated by %s, not by commas: save the file as CSV with commas (in a spreadsheet, "CSV UTF-8 (Comma delimited)")`, name, sep.says)
		}
	}
	return err
}

// maxBodyPosition is the last body.N column a file may have.
const maxBodyPosition = 100

func parseColumn(name string) (column, error) {
	kind, rest, _ := strings.Cut(name, ".")
	switch {
	case name == "to":
		return column{kind: colTo}, nil
	case slices.Contains(results.OutcomeColumns, name):
		// The outcome columns of a results export (GET
		// /v1/campaigns/{id}/results as CSV): such a file is enqueued as it is.
		return column{kind: colOutcome}, nil
	case kind == "body" && rest != "":
		// A number too long for an int is a position too: named, its
		// digits would pass.
		if n, err := strconv.Atoi(rest); err == nil || errors.Is(err, strconv.ErrRange) {
			if err == nil && strconv.Itoa(n) != rest { // "01", "+1": a second name for a position
				return column{}, fmt.Errorf("column %q: write a position as body.1, body.2, ...", name)
			}
			if err != nil || n < 1 || n > maxBodyPosition {
				return column{}, fmt.Errorf("column %q: positions run from body.1 to body.%d", name, maxBodyPosition)
			}
			return column{kind: colBodyPos, index: n}, nil
		}
		if !mmapi.ParamName(rest) {
			return column{}, fmt.Errorf("column %q: a named parameter is lowercase letters, digits and underscores", name)
		}
		return column{kind: colBodyNamed, name: rest}, nil
	case kind == "header" && (rest == "text" || rest == "image" || rest == "video" || rest == "document"):
		return column{kind: colHeader, name: rest}, nil
	case kind == "button":
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 || n > 9 || strconv.Itoa(n) != rest { // "00", "+1": a second name for an index
			return column{}, fmt.Errorf("column %q: want button.0 to button.9 (the URL button's index)", name)
		}
		return column{kind: colButton, index: n}, nil
	case kind == "meta" && metaKey.MatchString(rest):
		return column{kind: colMeta, name: rest}, nil
	}
	return column{}, fmt.Errorf("column %q is unknown: want to, body.N, body.<name>, header.text, header.image, header.video, header.document, button.N or meta.<key> (status, error_code and wamid, the columns of a results export, are read past)", name)
}

// row turns one record into a recipient.
func (s *CSVSource) row(rec []string) (Recipient, error) {
	r := Recipient{To: rec[s.layout.to]}
	l, cols := s.layout, s.cols
	if l.export { // its parameters and metadata as they were (see package csvcell)
		for i, c := range cols {
			if c.kind != colTo && c.kind != colOutcome && i < len(rec) {
				rec[i] = csvcell.Restore(rec[i])
			}
		}
	}
	if l.header >= 0 && !s.none(rec, l.header) {
		c, err := headerComponent(cols[l.header].name, rec[l.header])
		if err != nil {
			return r, err
		}
		r.Components = append(r.Components, c)
	}
	body, err := s.bodyColumns(rec)
	if err != nil {
		return r, err
	}
	if len(body) > 0 {
		var b jsonBuf
		b.raw(`{"type":"body","parameters":[`)
		for n, ci := range body {
			v := rec[ci]
			if err := mmapi.CheckValue(v); err != nil {
				return r, fmt.Errorf("%s: %w", columnName(cols[ci]), err)
			}
			if n > 0 {
				b.raw(",")
			}
			b.raw(`{"type":"text",`)
			if cols[ci].kind == colBodyNamed {
				b.raw(`"parameter_name":`).str(cols[ci].name).raw(",")
			}
			b.raw(`"text":`).str(v).raw("}")
		}
		b.raw("]}")
		r.Components = append(r.Components, mmapi.RawComponent("body", "", "", b.bytes()))
	}
	for _, ci := range l.buttons {
		v := rec[ci]
		if s.none(rec, ci) {
			continue
		}
		if err := mmapi.CheckValue(v); err != nil {
			return r, fmt.Errorf("%s: %w", columnName(cols[ci]), err)
		}
		idx := strconv.Itoa(cols[ci].index)
		var b jsonBuf
		b.raw(`{"type":"button","sub_type":"url","index":`).str(idx).raw(`,"parameters":[{"type":"text","text":`).str(v).raw("}]}")
		r.Components = append(r.Components, mmapi.RawComponent("button", "url", idx, b.bytes()))
	}
	for _, ci := range l.meta {
		if v := rec[ci]; v != "" {
			if r.Metadata == nil {
				r.Metadata = make(map[string]string, len(l.meta))
			}
			r.Metadata[cols[ci].name] = v
		}
	}
	return r, nil
}

// none says that the cell is "none of its own" (see layout.export).
func (s *CSVSource) none(rec []string, ci int) bool {
	return s.layout.export && strings.TrimSpace(rec[ci]) == ""
}

// bodyColumns are the row's body parameter columns: every one, but in an
// export those of its own (none: its cell is empty), a positional body's
// first ones without a gap.
func (s *CSVSource) bodyColumns(rec []string) ([]int, error) {
	if !s.layout.export {
		return s.layout.body, nil
	}
	var out []int
	missing := -1
	for _, ci := range s.layout.body {
		switch {
		case s.none(rec, ci) && missing < 0:
			missing = ci
		case s.none(rec, ci):
		case missing >= 0 && s.cols[ci].kind == colBodyPos:
			return nil, fmt.Errorf("%s: empty while %s is given (positional parameters run body.1, body.2, ... without gaps)",
				columnName(s.cols[missing]), columnName(s.cols[ci]))
		default:
			out = append(out, ci)
		}
	}
	return out, nil
}

func headerComponent(kind, v string) (mmapi.Component, error) {
	check := mmapi.CheckLink
	if kind == "text" {
		check = mmapi.CheckValue
	}
	if err := check(v); err != nil {
		return mmapi.Component{}, fmt.Errorf("header.%s: %w", kind, err)
	}
	var b jsonBuf
	b.raw(`{"type":"header","parameters":[{"type":`).str(kind).raw(",")
	if kind == "text" {
		b.raw(`"text":`).str(v)
	} else {
		b.str(kind).raw(`:{"link":`).str(v).raw("}")
	}
	b.raw("}]}")
	return mmapi.RawComponent("header", "", "", b.bytes()), nil
}

// notUTF8 names the first column of rec that is not UTF-8 (a file saved
// in Latin-1, say), "" if none but the outcome columns, which are read past:
// encoding its text into the message's JSON would turn such bytes into
// U+FFFD.
func (s *CSVSource) notUTF8(rec []string) string {
	for i, c := range s.cols {
		if c.kind != colOutcome && !utf8.ValidString(rec[i]) {
			return columnName(c)
		}
	}
	return ""
}

func columnName(c column) string {
	switch c.kind {
	case colTo:
		return "to"
	case colHeader:
		return "header." + c.name
	case colMeta:
		return "meta." + c.name
	case colBodyPos:
		return "body." + strconv.Itoa(c.index)
	case colBodyNamed:
		return "body." + c.name
	case colButton:
		return "button." + strconv.Itoa(c.index)
	}
	return c.name
}
