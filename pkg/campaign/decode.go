package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Decode reads a campaign's JSON strictly (unknown fields are errors) and
// says where a problem is: "line 3, column 14: ...".
func Decode(b []byte) (*Campaign, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c Campaign
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("campaign: %s", where(b, d, err))
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("campaign: line %s: more than one JSON value", position(b, d.InputOffset()))
	}
	return &c, nil
}

func where(b []byte, d *json.Decoder, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("line %s: invalid JSON: %v", position(b, max(se.Offset-1, 0)), se)
	case errors.As(err, &te):
		return fmt.Sprintf("line %s: %s: want %s, got %s", position(b, te.Offset), te.Field, te.Type, te.Value)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	off := d.InputOffset()
	// The decoder reports an unknown field after reading the whole object:
	// point at the field itself.
	if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if i := bytes.Index(b, []byte(name)); i >= 0 {
			off = int64(i)
		}
	}
	return fmt.Sprintf("line %s: %s", position(b, off), msg)
}

// position turns a byte offset into "line, column N".
func position(b []byte, off int64) string {
	if off > int64(len(b)) {
		off = int64(len(b))
	}
	before := b[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("%d, column %d", line, col)
}
