package producer

import (
	"bytes"
	"errors"
	"io"
	"unicode/utf8"
)

// csvReader splits CSV into records as encoding/csv does with its defaults
// (RFC 4180: comma-separated fields, optionally quoted with '"', a quote
// inside a quoted field written twice, line breaks allowed inside quoted
// fields, CRLF read as LF, blank lines skipped), with two differences that
// encoding/csv cannot offer: a record is never held beyond MaxLine bytes
// whatever the input, and a quote that does not close where it should
// stops the file, naming the line where it opened, instead of swallowing
// the rows after it.
type csvReader struct {
	lr        *lineReader
	maxFields int      // fields stored per record; more are counted, not kept
	buf       []byte   // the record's fields, unquoted, back to back
	ends      []int    // where each stored field ends in buf
	fields    []string // the record's fields, reused
	n         int      // the number of fields of the record
	start     int      // the line the record starts on
	open      int      // the line of its first quoted field with a line break, 0 if none
	utf8      bool     // whether the record's stored fields are UTF-8
}

// csvSyntaxError is a record that is not valid CSV and sits on one line:
// that line is dropped and reading goes on with the next.
type csvSyntaxError struct{ msg string }

func (e *csvSyntaxError) Error() string { return e.msg }

var (
	errBareQuote  = &csvSyntaxError{`a " in a field that is not quoted: quote the field and write the " twice, as in "say ""hi"""`}
	errAfterQuote = &csvSyntaxError{`text after the closing " of a quoted field: a " inside a quoted field is written twice`}
)

func newCSVReader(lr *lineReader, maxFields int) *csvReader {
	return &csvReader{lr: lr, maxFields: maxFields}
}

// read returns the next record's fields, valid until the next call, or
// io.EOF after the last. A *csvSyntaxError is a malformed record on one
// line; any other error ends the file.
func (c *csvReader) read() ([]string, error) {
	var raw, line []byte
	for len(line) == 0 { // blank lines are skipped
		var err error
		if raw, err = c.lr.next(MaxLine); err != nil {
			if errors.Is(err, errLongLine) {
				return nil, fileErrorf("line %d is longer than %d bytes", c.lr.line, MaxLine)
			}
			return nil, err
		}
		line = trimEOL(raw)
	}
	c.start, c.open, c.n = c.lr.line, 0, 0
	c.buf, c.ends = c.buf[:0], c.ends[:0]
	if err := c.split(raw, line); err != nil {
		return nil, err
	}
	s := string(c.buf)
	c.utf8 = utf8.ValidString(s)
	c.fields = c.fields[:0]
	prev := 0
	for _, end := range c.ends {
		c.fields = append(c.fields, s[prev:end])
		prev = end
	}
	return c.fields, nil
}

// split parses the record that starts with line, reading more lines while
// a quoted field stays open.
func (c *csvReader) split(raw, line []byte) error {
	size, pos := len(raw), 0
	for {
		if pos < len(line) && line[pos] == '"' {
			var more bool
			var err error
			if line, pos, more, err = c.quoted(line, pos+1, &size); err != nil || !more {
				return err
			}
			continue
		}
		f := line[pos:]
		i := bytes.IndexByte(f, ',')
		if i >= 0 {
			f = f[:i]
		}
		if bytes.IndexByte(f, '"') >= 0 {
			return c.malformed(errBareQuote)
		}
		c.add(f...)
		c.end()
		if i < 0 {
			return nil
		}
		pos += i + 1
	}
}

// quoted reads a quoted field from pos, just after its opening quote, and
// returns the line and position after it and whether another field follows.
func (c *csvReader) quoted(line []byte, pos int, size *int) ([]byte, int, bool, error) {
	opened := c.lr.line
	for {
		i := bytes.IndexByte(line[pos:], '"')
		if i < 0 { // the field goes on on the next line
			c.add(line[pos:]...)
			c.add('\n')
			if c.open == 0 {
				c.open = opened
			}
			raw, err := c.lr.next(MaxLine - *size)
			if err != nil {
				return nil, 0, false, c.unclosed(err, opened)
			}
			*size += len(raw)
			line, pos = trimEOL(raw), 0
			continue
		}
		c.add(line[pos : pos+i]...)
		pos += i + 1
		switch {
		case pos == len(line):
			c.end()
			return line, pos, false, nil
		case line[pos] == '"':
			c.add('"')
			pos++
		case line[pos] == ',':
			c.end()
			return line, pos + 1, true, nil
		default:
			return nil, 0, false, c.malformed(errAfterQuote)
		}
	}
}

// add appends to the current field, unless the record has more fields
// than are kept.
func (c *csvReader) add(b ...byte) {
	if c.n < c.maxFields {
		c.buf = append(c.buf, b...)
	}
}

// end ends the current field.
func (c *csvReader) end() {
	if c.n < c.maxFields {
		c.ends = append(c.ends, len(c.buf))
	}
	c.n++
}

// malformed reports a syntax error. On one line it is the row's problem;
// after a quoted line break it most likely means a quote that should have
// closed earlier, and the rows it spans cannot be told apart any more.
func (c *csvReader) malformed(e *csvSyntaxError) error {
	if c.open == 0 {
		return e
	}
	return fileErrorf("line %d: a quote opened here closes only on line %d, where the row is malformed (%s): check the quotes of line %d", c.open, c.lr.line, e.msg, c.open)
}

// unclosed is the error of a quoted field whose next line could not be read.
func (c *csvReader) unclosed(err error, opened int) error {
	switch {
	case err == io.EOF:
		return fileErrorf("line %d: a quote opened here never closes", opened)
	case !errors.Is(err, errLongLine):
		return err
	case opened == c.start:
		return fileErrorf("line %d: a quoted field opened here is longer than %d bytes: does its quote close?", opened, MaxLine)
	}
	return fileErrorf("line %d: the row that starts here is longer than %d bytes (the quote opened on line %d is still open)", c.start, MaxLine, opened)
}
