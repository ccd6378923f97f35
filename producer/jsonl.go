package producer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// JSONLSource reads recipients from JSON Lines: one object per line,
// {"to": "...", "components": [...], "metadata": {...}}. Blank lines are skipped.
type JSONLSource struct {
	r    *bufio.Reader
	line int
	err  error
}

// NewJSONLSource reads JSON Lines from r.
func NewJSONLSource(r io.Reader) *JSONLSource {
	br := bufio.NewReaderSize(r, MaxLine)
	skipBOM(br)
	return &JSONLSource{r: br}
}

// Next implements Source.
func (s *JSONLSource) Next() (Recipient, int, error) {
	for s.err == nil {
		b, err := readLine(s.r)
		s.line++
		switch {
		case errors.Is(err, errLongLine):
			return Recipient{}, s.line, rowErr(s.line, "%v", err)
		case err == io.EOF:
			s.err = io.EOF
			return Recipient{}, 0, io.EOF
		case err != nil:
			s.err = fmt.Errorf("read recipients: %w", err)
			return Recipient{}, 0, s.err
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		r, err := decodeRecipient(json.NewDecoder(bytes.NewReader(b)))
		if err != nil {
			return Recipient{}, s.line, rowErr(s.line, "%v", err)
		}
		return r, s.line, nil
	}
	return Recipient{}, 0, s.err
}

// decodeRecipient reads one recipient object strictly.
func decodeRecipient(d *json.Decoder) (Recipient, error) {
	d.DisallowUnknownFields()
	var r Recipient
	if err := d.Decode(&r); err != nil {
		return Recipient{}, jsonProblem(err)
	}
	if d.More() {
		return Recipient{}, errors.New("more than one JSON value on the line")
	}
	return r, nil
}

// jsonProblem rewords decoding errors for people.
func jsonProblem(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("%s: want %s, got %s", te.Field, te.Type, te.Value)
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// ArraySource reads the "recipients" array of POST /v1/campaigns from a
// decoder positioned just after its '['. A row's line is its index from 0.
type ArraySource struct {
	d   *json.Decoder
	i   int
	err error
}

// NewArraySource reads array elements from d.
func NewArraySource(d *json.Decoder) *ArraySource { return &ArraySource{d: d} }

// Next implements Source.
func (s *ArraySource) Next() (Recipient, int, error) {
	if s.err != nil {
		return Recipient{}, 0, s.err
	}
	if !s.d.More() {
		if _, err := s.d.Token(); err != nil { // the closing ']'
			s.err = fmt.Errorf("recipients: %w", err)
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
		return Recipient{}, 0, s.err
	}
	r, err := decodeRecipient(json.NewDecoder(bytes.NewReader(raw)))
	if err != nil {
		return Recipient{}, i, rowErr(i, "%v", err)
	}
	return r, i, nil
}
