package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"time"
)

// WantTime is what a time field wants, for an error: time.Time's own
// ("parsing time ... as \"2006-01-02T15:04:05Z07:00\"") names neither the
// field nor the form in words. It shows the form, not a date: a date
// written out passes, and the example copied from the error would then be
// refused as past (expires_at) or send at once (send_at).
const WantTime = "want an RFC 3339 time with a time zone: YYYY-MM-DDThh:mm:ssZ (UTC) or YYYY-MM-DDThh:mm:ss+02:00"

// BadTime finds the first member of the JSON object b, among fields
// (matched as encoding/json matches a struct's fields: in any case), whose
// value encoding/json does not read into a time.Time (null is none): its
// key as written, its value, and where the value starts. ok is false when
// there is none, or b is not an object.
func BadTime(b []byte, fields ...string) (key string, value []byte, off int64, ok bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return "", nil, 0, false
	}
	for d.More() {
		tok, err := d.Token()
		var v json.RawMessage
		if err != nil || d.Decode(&v) != nil {
			return "", nil, 0, false
		}
		k, _ := tok.(string)
		if slices.ContainsFunc(fields, func(f string) bool { return strings.EqualFold(f, k) }) && json.Unmarshal(v, new(*time.Time)) != nil {
			return k, v, d.InputOffset() - int64(len(v)), true
		}
	}
	return "", nil, 0, false
}

// TrailingError is data after the one JSON value Unmarshal reads.
type TrailingError struct {
	End int64 // where the value ends, in bytes: a caller may say what follows
}

func (e *TrailingError) Error() string { return "data after the JSON value" }

// Unmarshal decodes the one JSON value of b into v, whose shape is s,
// strictly. It returns encoding/json's errors (an unknown field among
// them), an *Error for text that is not UTF-8 or a key that is repeated or
// matches a field only when case is ignored, and a *TrailingError for
// data after the value; v holds the value decoded then.
func Unmarshal(b []byte, s *Shape, v any) error {
	if err := CheckUTF8(b); err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	end := d.InputOffset()
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return &TrailingError{End: end}
	}
	return s.CheckKeys(b)
}

// Describe says what is wrong in a document encoding/json did not decode,
// but not where: a value of the wrong type as "metadata: want a JSON
// object, got array" ("want string, got number" for the value decoded
// itself), anything else as its text without "json: " (`unknown field
// "x"`).
func Describe(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return fmt.Sprintf("want %s, got %s", wantOf(te.Type), te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("%s: want %s, got %s", te.Field, wantOf(te.Type), te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// DescribeIn is Describe, with a value of the wrong type in an array of
// the document b's top-level object named by its index too: "codes[1]:
// want int, got string" rather than "codes: ...".
func DescribeIn(b []byte, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" && !strings.Contains(te.Field, ".") {
		if i, ok := element(b, te.Field, te.Offset); ok {
			return fmt.Sprintf("%s[%d]: want %s, got %s", te.Field, i, wantOf(te.Type), te.Value)
		}
	}
	return Describe(err)
}

// element finds which element of the array under the key field of b's
// top-level object holds the byte offset off (encoding/json's offset of a
// value of the wrong type: just past a scalar, or an object's or array's
// opening delimiter).
func element(b []byte, field string, off int64) (int, bool) {
	d := json.NewDecoder(bytes.NewReader(b))
	if tok, err := d.Token(); err != nil || tok != json.Delim('{') {
		return 0, false
	}
	for d.More() {
		tok, err := d.Token()
		if err != nil {
			return 0, false
		}
		if k, _ := tok.(string); k != field {
			if d.Decode(new(json.RawMessage)) != nil {
				return 0, false
			}
			continue
		}
		if tok, err := d.Token(); err != nil || tok != json.Delim('[') {
			return 0, false
		}
		for i := 0; d.More(); i++ {
			start := d.InputOffset()
			if d.Decode(new(json.RawMessage)) != nil {
				return 0, false
			}
			if off > start && off <= d.InputOffset() {
				return i, true
			}
		}
		return 0, false
	}
	return 0, false
}

// wantOf is what a JSON value of Go type t is, for an error: "a JSON
// object", "an array", or the type's name.
func wantOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "a JSON object"
	case reflect.Slice:
		return "an array"
	}
	return t.String()
}
