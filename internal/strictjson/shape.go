package strictjson

import (
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
)

// Shape is what the objects of a document may hold: a struct's objects have
// exactly its fields' JSON names as keys; a map's, or those a type decodes
// itself (a json.Unmarshaler), any keys, except that a type with JSON
// fields (see Fielded) may not have a key that is one of them only when
// case is ignored. A nil *Shape is a value whose objects, at any depth,
// may have any keys.
type Shape struct {
	fields map[string]*Shape // a struct's fields by JSON name; nil for any key
	elem   *Shape            // an array's elements, a map's values
	open   [][]byte          // a Fielded type's fields: any other key but these in other capitals
}

// Fielded is a type that decodes itself, keeping keys it does not know,
// and reads some by name (as encoding/json does: whatever their case):
// JSONFields names them, so that a key written in other capitals is
// refused rather than read as one of them.
type Fielded interface{ JSONFields() []string }

var (
	unmarshaler     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	fielded         = reflect.TypeFor[Fielded]()
)

// ShapeOf returns the shape of what encoding/json decodes into a T. T must
// not be recursive.
func ShapeOf[T any]() *Shape { return shapeOf(reflect.TypeFor[T]()) }

func shapeOf(t reflect.Type) *Shape {
	if t.Implements(fielded) {
		s := &Shape{}
		for _, f := range reflect.Zero(t).Interface().(Fielded).JSONFields() {
			s.open = append(s.open, []byte(f))
		}
		return s
	}
	if t.Implements(unmarshaler) || reflect.PointerTo(t).Implements(unmarshaler) ||
		t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return shapeOf(t.Elem())
	case reflect.Slice, reflect.Array, reflect.Map:
		if e := shapeOf(t.Elem()); e != nil {
			return &Shape{elem: e}
		}
	case reflect.Struct:
		s := &Shape{fields: map[string]*Shape{}}
		for f := range t.Fields() {
			tag := f.Tag.Get("json")
			if !f.IsExported() || tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if name == "" {
				name = f.Name
			}
			s.fields[name] = shapeOf(f.Type)
		}
		return s
	}
	return nil
}
