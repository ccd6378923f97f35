package producer

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"github.com/mmlite/mmlite/internal/bom"
)

// MaxLine is the longest line a recipients file may have, and the largest
// CSV row (a row with quoted line breaks spans several lines).
const MaxLine = 1 << 20

// lineBuffer is the read buffer of a recipients file; longer lines are
// gathered in lineReader.long, up to MaxLine.
const lineBuffer = 64 << 10

var errLongLine = fmt.Errorf("longer than %d bytes", MaxLine)

// lineReader reads a file line by line, never holding more than the limit
// the caller gives plus one buffer, whatever the input: a file without
// line breaks cannot make a reader hold it all.
type lineReader struct {
	r    *bufio.Reader
	long []byte // a line longer than r's buffer, gathered
	line int    // the number of the line last returned (or too long), from 1
	rest bool   // the rest of a line too long is still to be read
	err  error  // a file that cannot be read as text (bom.ErrUTF16)
}

func newLineReader(r io.Reader) *lineReader {
	br := bufio.NewReaderSize(r, lineBuffer)
	return &lineReader{r: br, err: bom.Skip(br)}
}

// next returns the next line with its line break, if it has one; the slice
// is valid until the next call. A line of more than limit bytes (not
// counting its line break) is errLongLine, and only its beginning is read:
// skipRest drops the rest. After the last line, next returns io.EOF.
func (l *lineReader) next(limit int) ([]byte, error) {
	if l.err != nil {
		return nil, l.err
	}
	b, err := l.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(l.long) > limit {
				l.line++
				l.rest = true
				return nil, errLongLine
			}
			b, err = l.r.ReadSlice('\n')
			l.long = append(l.long, b...)
		}
		b = l.long
	}
	switch {
	case err == io.EOF && len(b) == 0:
		return nil, io.EOF
	case err != nil && err != io.EOF:
		return nil, err
	}
	l.line++
	if len(b)-eolLen(b) > limit {
		return nil, errLongLine
	}
	return b, nil
}

// skipRest drops the rest of a line that was too long.
func (l *lineReader) skipRest() error {
	for l.rest {
		_, err := l.r.ReadSlice('\n')
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
		case err == nil, err == io.EOF:
			l.rest = false
		default:
			return err
		}
	}
	return nil
}

// eolLen is the length of b's line break: 1 for "\n", 0 without.
func eolLen(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}

// trimEOL drops a line's break: "\n", "\r\n", or a lone "\r" at the very
// end of a file (as encoding/csv does).
func trimEOL(b []byte) []byte {
	b = b[:len(b)-eolLen(b)]
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

// fileError is a problem of the input that stops it, its message whole as
// it is: it names its line (a quote that never closes, a line too long) or
// says what the file is (UTF-16). The caller names the input (the CLI its
// file, the api the body).
type fileError struct{ msg string }

func (e *fileError) Error() string { return e.msg }

func fileErrorf(format string, a ...any) error {
	return &fileError{msg: fmt.Sprintf(format, a...)}
}

// readErr is a reading error that stops a source: a fileError as it is, any
// other (a read that failed) said to be one.
func readErr(err error) error {
	var fe *fileError
	if errors.As(err, &fe) || errors.Is(err, bom.ErrUTF16) {
		return err
	}
	return fmt.Errorf("read recipients: %w", err)
}
