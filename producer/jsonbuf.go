package producer

import (
	"encoding/json"
	"unicode/utf8"
)

// jsonBuf builds small JSON documents without reflection, for speed.
type jsonBuf struct{ b []byte }

func (j *jsonBuf) raw(s string) *jsonBuf { j.b = append(j.b, s...); return j }

// str appends s as a JSON string.
func (j *jsonBuf) str(s string) *jsonBuf {
	if simple(s) {
		j.b = append(append(append(j.b, '"'), s...), '"')
		return j
	}
	// Escapes quotes, controls and HTML characters. Invalid UTF-8 would
	// become U+FFFD: the sources refuse a row holding it before.
	q, _ := json.Marshal(s)
	j.b = append(j.b, q...)
	return j
}

func (j *jsonBuf) bytes() []byte { return j.b }

// simple reports whether s needs no escaping in JSON.
func simple(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
