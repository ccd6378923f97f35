package producer

import (
	"encoding/json"
	"fmt"
	"io"
)

// ValueTooLargeError is a JSON value, read by a decoder of
// NewBoundedDecoder, larger than the decoder's limit.
type ValueTooLargeError struct{ Limit int64 }

func (e *ValueTooLargeError) Error() string { return fmt.Sprintf("larger than %d bytes", e.Limit) }

// NewBoundedDecoder returns a decoder of the JSON in r that holds at most
// limit bytes of one value, whatever the input. encoding/json's Decoder
// buffers a whole value before decoding it, so that a 60 MB string would
// cost it a 60 MB buffer and more: this one refuses to read further once
// the value being read (with the white space before it) passes limit, and
// Decode, Token and More then fail with a *ValueTooLargeError. A value of
// up to limit bytes always passes, so does one of limit+1 bytes that needs
// no look-ahead (an object or an array); nothing else changes: values,
// errors and offsets are those of a json.Decoder.
func NewBoundedDecoder(r io.Reader, limit int64) *json.Decoder {
	l := &valueLimit{r: r, limit: limit}
	l.d = json.NewDecoder(l)
	return l.d
}

// valueLimit is what a bounded decoder reads from: it counts the bytes
// the decoder holds but has not consumed (the value it is reading and the
// white space before it), and lets it read only up to limit+1 of them (the
// one more is the look-ahead that ends a number).
type valueLimit struct {
	r     io.Reader
	d     *json.Decoder
	limit int64
	n     int64 // bytes read from r
}

func (l *valueLimit) Read(p []byte) (int, error) {
	// The decoder calls Read only between values or in the middle of one,
	// never while it moves its offset, so InputOffset is where the value
	// being read (or the white space before it) begins.
	room := l.limit + 1 - (l.n - l.d.InputOffset())
	if room <= 0 {
		return 0, &ValueTooLargeError{Limit: l.limit}
	}
	if int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
