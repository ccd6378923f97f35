package campaign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mmlite/mmlite/internal/strictjson"
	"github.com/mmlite/mmlite/pkg/mmapi"
)

// shape is the campaign's keys, for what encoding/json lets pass.
var shape = strictjson.ShapeOf[Campaign]()

// Decode reads a campaign's JSON strictly and says where a problem is:
// "line 3, column 14: ...". An unknown field is an error, and so are a key
// that matches a field only when case is ignored ("ID"), a key repeated in
// one object and bytes that are not UTF-8 (encoding/json would keep the
// last value, read "ID" as "id", and turn such bytes into U+FFFD). A UTF-8
// BOM at the start is skipped.
func Decode(b []byte) (*Campaign, error) {
	b = bytes.TrimPrefix(b, []byte("\xEF\xBB\xBF"))
	if err := strictjson.CheckUTF8(b); err != nil {
		return nil, fmt.Errorf("campaign: %s", placed(b, err))
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var c Campaign
	if err := d.Decode(&c); err != nil {
		var ce *mmapi.ComponentError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("campaign: %s", ce.At(b, "template.components"))
		}
		// time.Time's error names neither its field nor where it is.
		if key, v, off, ok := strictjson.BadTime(b, "send_at", "expires_at"); ok {
			return nil, fmt.Errorf("campaign: line %s: %s: %s, got %s", position(b, off), key, strictjson.WantTime, v)
		}
		// encoding/json names an unknown key, not where it is: the walk
		// that checks the keys does.
		if strings.HasPrefix(err.Error(), "json: unknown field ") {
			if kerr := shape.CheckKeys(b); kerr != nil {
				return nil, fmt.Errorf("campaign: %s", placed(b, kerr))
			}
		}
		return nil, fmt.Errorf("campaign: %s", where(b, d, err))
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("campaign: line %s: more than one JSON value", position(b, d.InputOffset()))
	}
	if err := shape.CheckKeys(b); err != nil {
		return nil, fmt.Errorf("campaign: %s", placed(b, err))
	}
	return &c, nil
}

// placed puts a *strictjson.Error at its line and column.
func placed(b []byte, err error) string {
	var se *strictjson.Error
	if errors.As(err, &se) {
		return fmt.Sprintf("line %s: %v", position(b, se.Offset), se)
	}
	return err.Error()
}

func where(b []byte, d *json.Decoder, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("line %s: invalid JSON: %v", position(b, max(se.Offset-1, 0)), se)
	case errors.As(err, &te) && te.Field == "": // the document itself
		return fmt.Sprintf("line %s: want a JSON object {\"id\": ...}, got %s", position(b, te.Offset), te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("line %s: %s", position(b, te.Offset), strictjson.Describe(err))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON ends too early"
	}
	return fmt.Sprintf("line %s: %s", position(b, d.InputOffset()), strictjson.Describe(err))
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
