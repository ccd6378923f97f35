package producer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// MaxLine is the longest line a recipients file may have.
const MaxLine = 1 << 20

// lineLimit passes a reader through, failing on a line longer than MaxLine,
// so that a file without newlines cannot make a parser hold it all.
type lineLimit struct {
	r    *bufio.Reader
	run  int // bytes since the last newline
	line int // physical line number, from 1
}

func newLineLimit(r io.Reader) *lineLimit {
	return &lineLimit{r: bufio.NewReaderSize(r, 64<<10), line: 1}
}

func (l *lineLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.run = 0
			l.line++
			continue
		}
		l.run++
		if l.run > MaxLine {
			return 0, fmt.Errorf("line %d is longer than %d bytes", l.line, MaxLine)
		}
	}
	return n, err
}

// skipBOM drops a UTF-8 byte order mark at the start of a file.
func skipBOM(r *bufio.Reader) {
	if b, err := r.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = r.Discard(3)
	}
}

// readLine returns the next line without its newline. A line longer than
// MaxLine is consumed and reported with errLongLine.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.ReadSlice('\n')
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		return nil, errLongLine
	}
	if err != nil && (err != io.EOF || len(line) == 0) {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}

var errLongLine = fmt.Errorf("longer than %d bytes", MaxLine)
