package strictjson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Error is a key or a string that encoding/json would have read silently
// in a way the sender did not mean.
type Error struct {
	Offset int64  // where the key or the string starts, in bytes
	Path   string // of the object holding the key, or of the string; "" for the document
	Key    string // the key at fault; "" for a string that is not UTF-8
	Reason string // "appears twice", "unknown field", "not valid UTF-8"
}

func (e *Error) Error() string {
	at := ""
	if e.Path != "" {
		at = e.Path + ": "
	}
	switch {
	case e.Reason == reasonUnknown:
		return fmt.Sprintf("%sunknown field %q", at, e.Key)
	case e.Reason == reasonTwice:
		return fmt.Sprintf("%s%q %s", at, e.Key, e.Reason)
	}
	return at + e.Reason
}

const (
	reasonTwice   = "appears twice"
	reasonUnknown = "unknown field"
	reasonUTF8    = "not valid UTF-8 (save the file as UTF-8)"
)

// CheckKeys reports the first key of b repeated in its object, or that is
// not one of the fields of its struct (a key that matches one only when
// case is ignored), as an *Error. b is a JSON document that encoding/json
// decoded; anything else is read as far as it goes, without a panic.
func (s *Shape) CheckKeys(b []byte) error {
	keys := keysPool.Get().(*[][]byte)
	w := walker{b: b, at: -1, keys: (*keys)[:0]}
	err := w.value(s)
	clear(w.keys[:cap(w.keys)]) // they point into b
	*keys = w.keys[:0]
	keysPool.Put(keys)
	if err != nil {
		return err.done()
	}
	return nil
}

// keysPool holds the walkers' key stacks: a recipient row is checked
// without allocating.
var keysPool = sync.Pool{New: func() any { return new([][]byte) }}

// CheckUTF8 reports, when b is not UTF-8, the string that holds the first
// byte that is not, as an *Error naming its path ("not valid UTF-8").
func CheckUTF8(b []byte) error {
	if utf8.Valid(b) {
		return nil
	}
	at := 0
	for at < len(b) {
		r, n := utf8.DecodeRune(b[at:])
		if r == utf8.RuneError && n <= 1 {
			break
		}
		at += n
	}
	w := walker{b: b, at: at}
	if err := w.value(nil); err != nil {
		return err.done()
	}
	return &Error{Offset: int64(at), Reason: fmt.Sprintf("%s at byte %d", reasonUTF8, at)}
}

// walker reads a JSON document, assumed valid, without allocating for
// what is fine: the keys of the objects being read are slices of b (or
// unescaped copies).
type walker struct {
	b     []byte
	i     int
	at    int      // the offset of a byte that is not UTF-8, -1 if none
	keys  [][]byte // the keys of the objects being read, innermost last
	depth int
}

// maxDepth is encoding/json's limit on nesting: a deeper document is not
// one it decodes.
const maxDepth = 10000

// walkError is an Error whose path is built as the walk returns.
type walkError struct {
	Error
	segs []string // ".key" or "[index]", innermost first
}

func (e *walkError) in(seg string) *walkError { e.segs = append(e.segs, seg); return e }

func (e *walkError) done() *Error {
	var b strings.Builder
	for i := len(e.segs) - 1; i >= 0; i-- {
		b.WriteString(e.segs[i])
	}
	e.Path = strings.TrimPrefix(b.String(), ".")
	return &e.Error
}

func (w *walker) space() {
	for w.i < len(w.b) && (w.b[w.i] == ' ' || w.b[w.i] == '\t' || w.b[w.i] == '\n' || w.b[w.i] == '\r') {
		w.i++
	}
}

// stop ends the walk: what follows is not JSON, and the decoder says so.
func (w *walker) stop() { w.i = len(w.b) }

func (w *walker) value(s *Shape) *walkError {
	w.space()
	if w.i >= len(w.b) {
		return nil
	}
	switch w.b[w.i] {
	case '{', '[':
		if w.depth++; w.depth > maxDepth {
			w.stop()
			return nil
		}
		var err *walkError
		if w.b[w.i] == '{' {
			err = w.object(s)
		} else {
			err = w.array(s)
		}
		w.depth--
		return err
	case '"':
		start := w.i
		w.str()
		if start <= w.at && w.at < w.i {
			return &walkError{Error: Error{Offset: int64(start), Reason: reasonUTF8}}
		}
		return nil
	}
	for w.i < len(w.b) && !strings.ContainsRune(",:]} \t\r\n", rune(w.b[w.i])) {
		w.i++
	}
	return nil
}

// str reads a string from its opening quote and returns what is between
// the quotes and whether it holds an escape.
func (w *walker) str() ([]byte, bool) {
	start, esc := w.i+1, false
	for w.i++; w.i < len(w.b); w.i++ {
		switch w.b[w.i] {
		case '\\':
			esc = true
			w.i++
		case '"':
			w.i++
			return w.b[start : w.i-1], esc
		}
	}
	w.i = len(w.b) // a backslash may have stepped past the end
	return w.b[min(start, len(w.b)):], esc
}

// repeatedScan is the number of keys of an object compared one by one;
// past it a set is kept.
const repeatedScan = 16

func (w *walker) object(s *Shape) *walkError {
	base := len(w.keys)
	err := w.members(s, base)
	w.keys = w.keys[:base]
	return err
}

// members reads an object from its '{'; its keys go to w.keys from base.
func (w *walker) members(s *Shape, base int) *walkError {
	w.i++ // '{'
	var set map[string]bool
	for {
		w.space()
		if w.i >= len(w.b) {
			return nil
		}
		switch w.b[w.i] {
		case '}':
			w.i++
			return nil
		case ',':
			w.i++
			continue
		case '"':
		default:
			w.stop()
			return nil
		}
		start := w.i
		key, esc := w.str()
		if start <= w.at && w.at < w.i {
			return &walkError{Error: Error{Offset: int64(start), Reason: "a key: " + reasonUTF8}}
		}
		if esc {
			var k string
			if json.Unmarshal(w.b[start:w.i], &k) == nil {
				key = []byte(k)
			}
		}
		if w.at < 0 {
			if err := w.checkKey(s, key, start, base, &set); err != nil {
				return err
			}
		}
		w.keys = append(w.keys, key)
		child := s
		switch {
		case s == nil:
		case s.fields != nil:
			child = s.fields[string(key)]
		default:
			child = s.elem
		}
		w.space()
		if w.i >= len(w.b) || w.b[w.i] != ':' {
			w.stop()
			return nil
		}
		w.i++
		if err := w.value(child); err != nil {
			return err.in("." + string(key))
		}
	}
}

func (w *walker) checkKey(s *Shape, key []byte, start, base int, set *map[string]bool) *walkError {
	keys := w.keys[base:]
	twice := false
	switch {
	case *set != nil:
		twice = (*set)[string(key)]
	case len(keys) < repeatedScan:
		for _, k := range keys {
			if string(k) == string(key) {
				twice = true
				break
			}
		}
	default:
		*set = make(map[string]bool, 2*len(keys))
		for _, k := range keys {
			(*set)[string(k)] = true
		}
		twice = (*set)[string(key)]
	}
	if *set != nil {
		(*set)[string(key)] = true
	}
	if twice {
		return &walkError{Error: Error{Offset: int64(start), Key: string(key), Reason: reasonTwice}}
	}
	unknown := false
	switch {
	case s == nil:
	case s.fields != nil:
		_, ok := s.fields[string(key)]
		unknown = !ok
	default:
		for _, f := range s.open {
			if bytes.EqualFold(f, key) && !bytes.Equal(f, key) {
				unknown = true
			}
		}
	}
	if unknown {
		return &walkError{Error: Error{Offset: int64(start), Key: string(key), Reason: reasonUnknown}}
	}
	return nil
}

func (w *walker) array(s *Shape) *walkError {
	w.i++ // '['
	var elem *Shape
	if s != nil {
		elem = s.elem
	}
	for n := 0; ; n++ {
		w.space()
		if w.i >= len(w.b) {
			return nil
		}
		if w.b[w.i] == ']' {
			w.i++
			return nil
		}
		if err := w.value(elem); err != nil {
			return err.in("[" + strconv.Itoa(n) + "]")
		}
		w.space()
		switch {
		case w.i >= len(w.b):
			return nil
		case w.b[w.i] == ',':
			w.i++
		case w.b[w.i] != ']':
			w.stop()
			return nil
		}
	}
}
