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
			return nil, fmt.Errorf("campaign: %s", componentProblem(b, ce))
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

// componentProblem names the component that failed by its index: its own
// error knows neither the index nor where the component is.
func componentProblem(b []byte, ce *mmapi.ComponentError) string {
	var raw struct {
		Template struct {
			Components []json.RawMessage `json:"components"`
		} `json:"template"`
	}
	_ = json.Unmarshal(b, &raw)
	return ce.In(raw.Template.Components, "template.components")
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
		return fmt.Sprintf("line %s: %s: want %s, got %s", position(b, te.Offset), te.Field, strictjson.WantOf(te.Type), te.Value)
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
