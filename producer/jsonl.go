package producer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mmlite/mmlite/internal/readlimit"
	"github.com/mmlite/mmlite/internal/strictjson"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// JSONLSource reads recipients from JSON Lines: one object per line,
// {"to": "...", "components": [...], "metadata": {...}}. Blank lines are
// skipped; a line that is not such an object, or longer than MaxLine, is a
// rejected row, except the first: one that is no JSON object (it does not
// start with '{') stops the input with a *NotJSONLinesError, since the
// input is then some other format (a CSV, a JSON array) and every line
// would be a rejected row.
type JSONLSource struct {
	r     *lineReader
	err   error
	begun bool     // a non-blank line was read
	held  *heldRow // the first row, read by ReadFirst, not yet by Next
}

// heldRow is what Next returns next.
type heldRow struct {
	r    Recipient
	line int
	err  error
}

// NewJSONLSource reads JSON Lines from r.
func NewJSONLSource(r io.Reader) *JSONLSource {
	return &JSONLSource{r: newLineReader(r)}
}

// ReadFirst reads and checks the first non-blank line, if Next has not
// yet: for a caller that wants an input that is not JSON Lines refused
// before it does anything (registers the campaign, say). It returns
// io.EOF when the input has no such line, the *NotJSONLinesError or read
// error that Next would return, or nil; Next then returns that line's row
// (or rejected row) first.
func (s *JSONLSource) ReadFirst() error {
	if s.begun || s.err != nil {
		return s.err
	}
	r, line, err := s.next()
	var re *RowError
	if err == nil || errors.As(err, &re) {
		s.held = &heldRow{r: r, line: line, err: err}
		return nil
	}
	return err
}

// Next implements Source.
func (s *JSONLSource) Next() (Recipient, int, error) {
	if h := s.held; h != nil {
		s.held = nil
		return h.r, h.line, h.err
	}
	return s.next()
}

func (s *JSONLSource) next() (Recipient, int, error) {
	for s.err == nil {
		b, err := s.r.next(MaxLine)
		line := s.r.line
		switch {
		case errors.Is(err, errLongLine):
			s.begun = true
			if err := s.r.skipRest(); err != nil {
				s.err = readErr(err)
				return Recipient{}, 0, s.err
			}
			return Recipient{}, line, rowErr(line, "%v", err)
		case err == io.EOF:
			s.err = io.EOF
			return Recipient{}, 0, io.EOF
		case err != nil:
			s.err = readErr(err)
			return Recipient{}, 0, s.err
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue
		}
		if !s.begun {
			s.begun = true
			if b[0] != '{' { // some other format: each line would be a rejected row
				s.err = notJSONLines(line, b)
				return Recipient{}, 0, s.err
			}
		}
		r, err := decodeRecipient(b)
		if err != nil {
			return Recipient{}, line, rowErr(line, "%v", err)
		}
		return r, line, nil
	}
	return Recipient{}, 0, s.err
}

// NotJSONLinesError is the first line of a JSON Lines input that is no
// JSON object, which says that the input is not JSON Lines: "line 1: not a
// JSON object: the input looks like CSV". Like says which format it looks
// like, for a caller to add how to send it as that.
type NotJSONLinesError struct {
	Line int
	What string // "this is a CSV header, not JSON Lines", "an array, not a JSON object"
	Like string // LikeCSV, LikeJSONArray, or "" (JSON Lines has one object per line)

	header bool // What says it: a CSV header
}

// What a JSON Lines input that is not JSON Lines looks like (NotJSONLinesError.Like).
const (
	LikeCSV       = "CSV"
	LikeJSONArray = "a JSON array"
)

func (e *NotJSONLinesError) Error() string {
	if e.Like == "" || e.header {
		return fmt.Sprintf("line %d: %s", e.Line, e.What)
	}
	return fmt.Sprintf("line %d: %s: the input looks like %s", e.Line, e.What, e.Like)
}

// Hint says how to send the input instead: asCSV (how the caller takes a
// CSV: "use --format csv") when it looks like one, else how JSON Lines is
// written.
func (e *NotJSONLinesError) Hint(asCSV string) string {
	switch e.Like {
	case LikeCSV:
		return asCSV
	case LikeJSONArray:
		return "write one recipient object per line"
	}
	return "JSON Lines has one recipient object per line"
}

// notJSONLines says what the first line b, which does not start with '{',
// is instead. Its text is not quoted: it may be a phone number.
func notJSONLines(line int, b []byte) *NotJSONLinesError {
	e := &NotJSONLinesError{Line: line, What: "not a JSON object {\"to\": ...}"}
	switch {
	case validHeader(b):
		e.What, e.Like, e.header = "this is a CSV header, not JSON Lines", LikeCSV, true
	case b[0] == '[':
		e.What, e.Like = "an array, not a JSON object", LikeJSONArray
	case json.Valid(b):
		e.What = jsonKind(b) + ", not a JSON object {\"to\": ...}"
	case bytes.ContainsAny(b, ",;\t"):
		e.What, e.Like = "not a JSON object", LikeCSV
	}
	return e
}

// validHeader says whether b is a CSV header mmlite would read.
func validHeader(b []byte) bool {
	_, _, err := parseHeader(strings.Split(string(b), ","))
	return err == nil
}

// jsonKind names a valid JSON value that is not an object.
func jsonKind(b []byte) string {
	switch c := b[0]; {
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return "a number"
}

// recipientShape is a recipient's keys, for what encoding/json lets pass.
var recipientShape = strictjson.ShapeOf[Recipient]()

// decodeRecipient reads one recipient object strictly (strictjson.Unmarshal):
// beyond encoding/json's checks, it refuses what the decoder would let
// pass silently: bytes that are not UTF-8 (turned into U+FFFD), a key
// repeated in one object (the last value kept: a second "to" got the
// message) and a key that names a field only when case is ignored ("TO").
// b does not end in white space: a line is trimmed (bytes.TrimSpace), an
// array's element is read as it is.
func decodeRecipient(b []byte) (Recipient, error) {
	if b = bytes.TrimLeft(b, " \t\r\n"); len(b) > 0 && b[0] != '{' && json.Valid(b) {
		return Recipient{}, fmt.Errorf("want a JSON object {\"to\": ...}, got %s", jsonKind(b))
	}
	var r Recipient
	if err := strictjson.Unmarshal(b, recipientShape, &r); err != nil {
		return Recipient{}, jsonProblem(b, err)
	}
	return r, nil
}

// componentsShape is a list of components' keys.
var componentsShape = strictjson.ShapeOf[[]mmapi.Component]()

// DecodeComponents reads a recipient's components given apart from a row
// (mmlite campaign test --components): a JSON list, read as strictly as a
// row's "components" and its problems named as a row's are:
// `components[0]: unknown field "Type"`. They are checked when they are
// sent, as a row's are.
func DecodeComponents(b []byte) ([]mmapi.Component, error) {
	var list []mmapi.Component
	err := strictjson.Unmarshal(b, componentsShape, &list)
	var se *strictjson.Error
	var tr *strictjson.TrailingError
	var te *json.UnmarshalTypeError
	var ce *mmapi.ComponentError
	var syn *json.SyntaxError
	switch {
	case err == nil:
		return list, nil
	case errors.As(err, &se) && strings.HasPrefix(se.Path, "["):
		return nil, fmt.Errorf("components%v", se)
	case errors.As(err, &ce):
		var raw []json.RawMessage
		_ = json.Unmarshal(b, &raw)
		return nil, errors.New(ce.In(raw, "components"))
	case errors.As(err, &tr):
		rest := bytes.TrimSpace(b[tr.End:])
		if json.Valid(rest) {
			return nil, errors.New("components: more than one JSON value")
		}
		return nil, fmt.Errorf("components: text after the JSON list: %.20q", rest)
	case errors.As(err, &te) && te.Field == "":
		return nil, fmt.Errorf("components: %s", strictjson.Describe(err))
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return nil, fmt.Errorf("components: invalid JSON: %w", err)
	}
	return nil, fmt.Errorf("components: %v", err)
}

// jsonProblem rewords decoding errors of b for people: only JSON that is
// not valid is called invalid.
func jsonProblem(b []byte, err error) error {
	var se *strictjson.Error
	var tr *strictjson.TrailingError
	var te *json.UnmarshalTypeError
	var ce *mmapi.ComponentError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &se): // it names the path: "metadata.crm_id: not valid UTF-8"
		return err
	case errors.As(err, &tr):
		return trailing(b[tr.End:])
	case errors.As(err, &ce):
		return errors.New(ce.At(b, "components"))
	case errors.As(err, &te) && te.Field == "": // "12,x": a value, then what is not JSON
		return fmt.Errorf("want a JSON object {\"to\": ...}, got %s", jsonKind(b))
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("invalid JSON: %w", err)
	}
	return errors.New(strictjson.Describe(err))
}

// trailing says what follows a recipient's object on its line: another
// JSON value, or text that is not one.
func trailing(after []byte) error {
	rest := bytes.TrimSpace(after)
	next := bytes.TrimLeft(after, " \t\r\n")[0] // as (*json.Decoder).More sees it
	if json.Valid(rest) || next != ']' && next != '}' {
		return errors.New("more than one JSON value on the line")
	}
	return fmt.Errorf("text after the JSON object: %.20q", rest)
}

// ArraySource reads the "recipients" array of POST /v1/campaigns from a
// decoder positioned just after its '['. A row's line is its index from 0.
// With a decoder of readlimit.NewDecoder, an element larger than its limit
// stops the array with an error naming the element:
// "recipients[12]: larger than 1048576 bytes".
type ArraySource struct {
	d   *json.Decoder
	i   int
	err error
}

// NewArraySource reads array elements from d.
func NewArraySource(d *json.Decoder) *ArraySource { return &ArraySource{d: d} }

// Indexed implements IndexedSource: a row's line is its index.
func (s *ArraySource) Indexed() bool { return true }

// Next implements Source.
func (s *ArraySource) Next() (Recipient, int, error) {
	if s.err != nil {
		return Recipient{}, 0, s.err
	}
	var tooLarge *readlimit.TooLargeError
	if !s.d.More() {
		if _, err := s.d.Token(); err != nil { // the closing ']'
			s.err = fmt.Errorf("recipients: %w", err)
			if errors.As(err, &tooLarge) { // white space before an element
				s.err = fmt.Errorf("recipients[%d]: %w", s.i, err)
			}
			return Recipient{}, 0, s.err
		}
		s.err = io.EOF
		return Recipient{}, 0, io.EOF
	}
	i := s.i
	s.i++
	var raw json.RawMessage
	if err := s.d.Decode(&raw); err != nil {
		s.err = fmt.Errorf("recipients[%d]: invalid JSON: %w", i, err)
		if errors.As(err, &tooLarge) {
			s.err = fmt.Errorf("recipients[%d]: %w", i, err)
		}
		return Recipient{}, 0, s.err
	}
	r, err := decodeRecipient(raw)
	if err != nil {
		return Recipient{}, i, rowErr(i, "%v", err)
	}
	return r, i, nil
}
