package webhook

import (
	"encoding/json"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// object is a JSON object read into V. Any other value (a string, a
// number, a list, null) leaves V empty: what it holds is unknown, and, as
// with text, one value of another type must not cost the whole webhook.
type object[T any] struct{ V T }

// UnmarshalJSONFrom reads the object in the stream decode reads, without
// reading its bytes twice.
func (o *object[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	var zero T
	o.V = zero
	if dec.PeekKind() != '{' {
		return dec.SkipValue()
	}
	return jsonv2.UnmarshalDecode(dec, &o.V)
}

// UnmarshalJSON is UnmarshalJSONFrom for encoding/json.
func (o *object[T]) UnmarshalJSON(b []byte) error {
	var zero T
	o.V = zero
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// list is a JSON array; any other value leaves it nil, as object does.
type list[T any] []T

// UnmarshalJSONFrom reads the array in the stream decode reads.
func (l *list[T]) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*l = nil
	if dec.PeekKind() != '[' {
		return dec.SkipValue()
	}
	var v []T
	if err := jsonv2.UnmarshalDecode(dec, &v); err != nil {
		return err
	}
	*l = v
	return nil
}

// UnmarshalJSON is UnmarshalJSONFrom for encoding/json.
func (l *list[T]) UnmarshalJSON(b []byte) error {
	*l = nil
	if len(b) == 0 || b[0] != '[' {
		return nil
	}
	var v []T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = v
	return nil
}
