package guard

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mmlite/mmlite/internal/phone"
)

// LineError says why one line (CSV: the header is line 1) or element (JSON:
// its index from 0) of a suppression import was refused.
type LineError struct {
	Line   int    `json:"line"`
	Reason string `json:"reason"`
}

// maxImportLine bounds a CSV line of a suppression import.
const maxImportLine = 64 << 10

// ReadEntries reads a suppression import: a JSON list of {"to", "reason"}
// objects, or CSV with a header naming the columns to and, optionally,
// reason. Good entries are kept, bad ones listed with their line; only a
// body that is neither is an error. Numbers are normalised as recipients
// are (internal/phone).
func ReadEntries(r io.Reader, source string) ([]Entry, []LineError, error) {
	br := bufio.NewReader(r)
	b, _ := br.Peek(64)
	if t := bytes.TrimLeft(b, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '[' {
		return readJSON(br, source)
	}
	return readCSV(br, source)
}

func readJSON(r io.Reader, source string) ([]Entry, []LineError, error) {
	var raw []json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, nil, fmt.Errorf("suppressions: want a JSON list of {\"to\", \"reason\"}: %w", err)
	}
	var es []Entry
	var bad []LineError
	for i, m := range raw {
		var v struct {
			To     string `json:"to"`
			Reason string `json:"reason"`
		}
		if err := json.Unmarshal(m, &v); err != nil {
			bad = append(bad, LineError{Line: i, Reason: "want an object with to and reason"})
			continue
		}
		if e, err := NewEntry(v.To, v.Reason, source); err != nil {
			bad = append(bad, LineError{Line: i, Reason: err.Error()})
		} else {
			es = append(es, e)
		}
	}
	return es, bad, nil
}

func readCSV(r io.Reader, source string) ([]Entry, []LineError, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errors.New("suppressions: empty body: want CSV with a header (to,reason) or a JSON list")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("suppressions: line 1: %w", err)
	}
	to, reason := -1, -1
	for i, h := range head {
		switch strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) {
		case "to":
			to = i
		case "reason":
			reason = i
		}
	}
	if to < 0 {
		return nil, nil, errors.New("suppressions: line 1: the header has no column \"to\" (want to,reason)")
	}
	var es []Entry
	var bad []LineError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return es, bad, nil
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			if pe.Err == csv.ErrQuote || pe.Err == csv.ErrBareQuote {
				bad = append(bad, LineError{Line: pe.StartLine, Reason: pe.Err.Error()})
				if pe.Err == csv.ErrQuote {
					return es, bad, nil // the rest of the file is inside the quote
				}
				continue
			}
		}
		if err != nil {
			return es, bad, fmt.Errorf("suppressions: %w", err)
		}
		line, _ := cr.FieldPos(0) // a record has at least one field
		if to >= len(rec) {
			bad = append(bad, LineError{Line: line, Reason: "no value in column to"})
			continue
		}
		why := ""
		if reason >= 0 && reason < len(rec) {
			why = rec[reason]
		}
		if len(rec[to])+len(why) > maxImportLine {
			bad = append(bad, LineError{Line: line, Reason: "line too long"})
			continue
		}
		if e, err := NewEntry(rec[to], why, source); err != nil {
			bad = append(bad, LineError{Line: line, Reason: err.Error()})
		} else {
			es = append(es, e)
		}
	}
}

// NewEntry checks one entry: the number is normalised as recipients are,
// an empty reason says the operator added it.
func NewEntry(to, reason, source string) (Entry, error) {
	n, err := phone.Normalize(strings.TrimSpace(to))
	if err != nil {
		return Entry{}, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		reason = "added by the operator"
	}
	if len(reason) > 500 {
		return Entry{}, errors.New("reason is longer than 500 characters")
	}
	return Entry{To: n, Reason: reason, Source: source}, nil
}
