// Package readlimit bounds the memory of parsers that read ahead
// (encoding/json's Decoder, encoding/csv's Reader): whatever the input, they
// hold at most a limit of bytes they have not yet consumed, so that one huge
// JSON value or CSV record cannot cost its size in memory; and files read
// whole (a campaign's JSON, a senders file), to at most a limit.
package readlimit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// TooLargeError is a unit of input (a JSON value, a CSV record) larger than
// its reader's limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string { return fmt.Sprintf("larger than %d bytes", e.Limit) }

// Reader is what a parser reads from: it counts the bytes the parser holds
// past Mark (the offset in the input where the unit being read begins),
// and lets it read only up to Room of them; past that, Read fails with a
// *TooLargeError{Limit}.
type Reader struct {
	R     io.Reader
	Limit int64 // for the error
	Room  int64
	Mark  func() int64
	n     int64 // bytes read from R
}

func (l *Reader) Read(p []byte) (int, error) {
	room := l.Room - (l.n - l.Mark())
	if room <= 0 {
		return 0, &TooLargeError{Limit: l.Limit}
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.R.Read(p)
	l.n += int64(n)
	return n, err
}

// NewDecoder returns a decoder of the JSON in r that holds at most limit
// bytes of one value, whatever the input. encoding/json's Decoder buffers a
// whole value before decoding it, so that a 60 MB string would cost it a
// 60 MB buffer and more: this one refuses to read further once the value
// being read (with the white space before it) passes limit, and Decode,
// Token and More then fail with a *TooLargeError. A value of up to limit
// bytes always passes, so does one of limit+1 bytes that needs no
// look-ahead (an object or an array); nothing else changes: values, errors
// and offsets are those of a json.Decoder.
func NewDecoder(r io.Reader, limit int64) *json.Decoder {
	// The decoder calls Read only between values or in the middle of one,
	// never while it moves its offset, so InputOffset is where the value
	// being read (or the white space before it) begins. The one more byte
	// is the look-ahead that ends a number.
	l := &Reader{R: r, Limit: limit, Room: limit + 1}
	d := json.NewDecoder(l)
	l.Mark = d.InputOffset
	return d
}

// ReadFile reads the file at path, of at most limit bytes: a larger one (or
// one without an end, /dev/zero) fails with "PATH: larger than LIMIT
// bytes" (a *TooLargeError) once limit+1 bytes are read, instead of costing
// its size in memory.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w", path, &TooLargeError{Limit: limit})
	}
	return b, nil
}
