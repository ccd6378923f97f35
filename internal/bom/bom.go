// Package bom reads the start of a text file a person gave mmlite (a
// recipients list, a suppression import): a UTF-8 byte order mark, which
// spreadsheets write, is dropped; a UTF-16 one is refused, so that such a
// file is named for what it is rather than read as garbled columns.
package bom

import (
	"bufio"
	"bytes"
	"errors"
)

// ErrUTF16 refuses a file that starts with a UTF-16 byte order mark (a
// spreadsheet's "Unicode text").
var ErrUTF16 = errors.New("the file is UTF-16: save it as UTF-8 (in a spreadsheet, as \"CSV UTF-8\")")

// Skip drops a UTF-8 byte order mark at r's start. At a UTF-16 one it
// reads nothing and returns ErrUTF16.
func Skip(r *bufio.Reader) error {
	b, _ := r.Peek(3)
	switch {
	case bytes.HasPrefix(b, []byte("\xEF\xBB\xBF")):
		_, _ = r.Discard(3)
	case bytes.HasPrefix(b, []byte("\xFF\xFE")), bytes.HasPrefix(b, []byte("\xFE\xFF")):
		return ErrUTF16
	}
	return nil
}
