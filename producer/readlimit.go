package producer

import (
	"encoding/json"
	"io"

	"github.com/mmlite/mmlite/internal/readlimit"
)

// ValueTooLargeError is a JSON value larger than its decoder's limit.
//
// Deprecated: it moved to an internal package; this name stays for the
// programs that imported it here.
type ValueTooLargeError = readlimit.TooLargeError

// NewBoundedDecoder returns a decoder of the JSON in r that holds at most
// limit bytes of one value (see NewArraySource).
//
// Deprecated: it moved to an internal package; this name stays for the
// programs that imported it here.
func NewBoundedDecoder(r io.Reader, limit int64) *json.Decoder { return readlimit.NewDecoder(r, limit) }
