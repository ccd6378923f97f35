package mmapi

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// suspect reports whether raw, a component's JSON, may hold a parameter
// that checkParameters refuses, which it then decodes to find: nearly every
// component holds none, and reading its bytes once, as a tokenizer would,
// costs a fraction of decoding it. It keeps, for each open object, its
// "type" and what each of valueNames holds, and is suspect of an object
// whose type is one of valueNames without the value checkParameter wants
// under that name (a string, for a media an object that opens with its
// "link" or "id", for a currency or a date_time an object whose
// "fallback_value" is a string), of a string value that may be blank (see
// blankStart), of a "link" that is not plainly http(s), of a
// "parameter_name" that is no string or not plainly a name (see
// ParamName), of a "link" or an "id" that is no string (a media's second
// one, which its decode keeps), of "parameters" that are no list, of an
// element of such a list that is no object or has no "type" string, and of
// a key, a type, a link or a name written with an escape.
func suspect(raw []byte) bool {
	type object struct {
		key   int     // the member being read: by valueName, keyType, keyLink, ...
		typ   int     // its type, by valueName
		kinds [8]byte // what each of valueNames holds: 's' a string, 'm' a media's object, 'f' an object with a fallback
		fb    byte    // what its "fallback_value" holds: 's' a string
		param bool    // an element of a "parameters" list
		typed bool    // its "type" is a string
	}
	const keyType, keyLink, keyID, keyName, keyFallback, keyParams = -2, -3, -4, -5, -6, -7
	var objs []object
	var open []byte // the open containers, '{', '[', or 'P' for a "parameters" list
	inObject := func() bool { return len(open) > 0 && open[len(open)-1] == '{' }
	inParams := func() bool { return len(open) > 0 && open[len(open)-1] == 'P' }
	expectKey, odd := false, false
	value := func(kind byte) { // the member being read holds a value of kind
		if !inObject() {
			return
		}
		switch o := &objs[len(objs)-1]; {
		case o.key >= 0:
			o.kinds[o.key] = kind
		case o.key == keyType: // a "type" that is no string
			o.typ, o.typed = -1, false
		case o.key == keyName, o.key == keyLink, o.key == keyID, o.key == keyParams: // a "parameter_name", "link" or "id" that is no string, "parameters" that are no list
			odd = true
		case o.key == keyFallback:
			o.fb = kind
		}
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case ' ', '\t', '\n', '\r':
		case '{':
			if inObject() && !expectKey {
				kind := byte('x')
				if bytes.HasPrefix(raw[i:], []byte(`{"link":"`)) || bytes.HasPrefix(raw[i:], []byte(`{"id":"`)) {
					kind = 'm'
				}
				value(kind)
			}
			objs = append(objs, object{key: -1, typ: -1, param: inParams()})
			open = append(open, '{')
			expectKey = true
		case '[':
			kind := byte('[')
			switch {
			case inParams(): // a parameter that is no object
				return true
			case inObject() && !expectKey && objs[len(objs)-1].key == keyParams:
				kind = 'P'
			case inObject() && !expectKey:
				value('x')
			}
			open = append(open, kind)
			expectKey = false
		case '}':
			if len(objs) == 0 || !inObject() {
				return true // not JSON: the decode says so
			}
			o := objs[len(objs)-1]
			objs, open = objs[:len(objs)-1], open[:len(open)-1]
			if o.typ >= 0 && o.kinds[o.typ] != "sssmmmff"[o.typ] || o.param && !o.typed {
				return true
			}
			if o.fb == 's' { // the member it is the value of holds an object with a fallback
				value('f')
			}
		case ']':
			if len(open) == 0 {
				return true
			}
			open = open[:len(open)-1]
		case ',':
			expectKey = inObject()
		case ':':
			expectKey = false
		case '"':
			end, esc := i+1, false
			for ; end < len(raw) && raw[end] != '"'; end++ {
				if raw[end] == '\\' {
					esc = true
					end++
				}
			}
			tok := raw[i+1 : min(end, len(raw))]
			switch {
			case inParams(): // a parameter that is no object
				return true
			case !inObject():
			case expectKey:
				if esc {
					return true
				}
				o := &objs[len(objs)-1]
				switch o.key = valueName(tok); string(tok) {
				case "type":
					o.key = keyType
				case "link":
					o.key = keyLink
				case "id":
					o.key = keyID
				case "parameter_name":
					o.key = keyName
				case "fallback_value":
					o.key = keyFallback
				case "parameters":
					o.key = keyParams
				}
			case blankStart(tok):
				return true
			case objs[len(objs)-1].key == keyType:
				if esc {
					return true
				}
				objs[len(objs)-1].typ, objs[len(objs)-1].typed = valueName(tok), true
			case objs[len(objs)-1].key == keyLink:
				if esc || !httpLink(string(tok)) {
					return true
				}
			case objs[len(objs)-1].key == keyName:
				if esc || !ParamName(tok) {
					return true
				}
			default:
				value('s')
			}
			i = end
		default: // a number, true, false or null
			if inParams() { // a parameter that is no object
				return true
			}
			value('x')
			for i+1 < len(raw) && !bytes.ContainsRune([]byte(",}] \t\n\r"), rune(raw[i+1])) {
				i++
			}
		}
	}
	return odd
}

// blankStart reports whether a string's JSON text s (between its quotes)
// may be blank: until its end, or its first escape, every rune is white
// space (U+00A0 and U+3000 too).
func blankStart(s []byte) bool {
	for len(s) > 0 && s[0] != '\\' {
		r, n := utf8.DecodeRune(s)
		if !unicode.IsSpace(r) {
			return false
		}
		s = s[n:]
	}
	return true
}

// valueNames are valueShapes' types, in the order suspect keeps them.
var valueNames = [...]string{"text", "payload", "coupon_code", "image", "video", "document", "currency", "date_time"}

// valueName is name's place in valueNames, -1 when it is none of them.
func valueName(name []byte) int {
	for i, n := range valueNames {
		if string(name) == n {
			return i
		}
	}
	return -1
}
