// Package yamllist reads the YAML files that declare a list under one
// top-level key (the senders file, the relay destinations file), with the
// same words for a file that is empty, not YAML, or lists nothing.
package yamllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Items decodes b into a new T, refusing fields T does not have and a
// second YAML document, and returns the list that items takes from it.
// key is the list's top-level key, as the errors name it. T is the
// caller's document struct; an unnamed one keeps yaml's "field ... not
// found in type struct { ... }" free of package names.
func Items[T any](b []byte, key string, items func(*T) []yaml.Node) ([]yaml.Node, error) {
	var doc T
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF): // no document: empty, or only comments
		return nil, fmt.Errorf("the file is empty: want a top-level %q list", key+":")
	case err != nil:
		var te *yaml.TypeError
		if errors.As(err, &te) { // an unknown field, a value of the wrong type
			var root yaml.Node
			_ = yaml.Unmarshal(b, &root) // it parsed: only its types are wrong
			return nil, worded(err, &root, key)
		}
		return nil, syntaxError(b, err)
	}
	// A second document ("---") would be dropped without a word, and
	// what it declares with it; an empty one (a "---" at the end) is none.
	for {
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(b, err)
		}
		if c := next.Content; len(c) > 0 && c[0].Tag != "!!null" {
			return nil, fmt.Errorf("line %d: a second YAML document (\"---\"): the file is one document, one %q list", c[0].Line, key+":")
		}
	}
	list := items(&doc)
	if len(list) == 0 {
		return nil, fmt.Errorf("no %s: want a top-level %q list", key, key+":")
	}
	return list, nil
}

// syntaxError words yaml's error err in reading b. yaml.v3 names the line
// where the list or map around a syntax error began (a misindented
// seventh line of a list that starts on the first is "line 1"): the error
// names instead the first line that b, read up to it, fails with the same
// error, when there is one (a flow list over several lines fails at every
// line before it closes, otherwise: yaml's line then stands).
func syntaxError(b []byte, err error) error {
	what, ok := syntaxWhat(err)
	if !ok {
		return fmt.Errorf("invalid YAML: %v", err) // %v: no io.EOF in the chain
	}
	var ends []int // where each line ends, its newline included
	for i, c := range b {
		if c == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		ends = append(ends, len(b))
	}
	// The first lo lines parse, the first hi lines do not.
	lo, hi := 0, len(ends)
	for hi-lo > 1 {
		if mid := (lo + hi) / 2; parse(b[:ends[mid-1]]) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	if hi > 0 {
		if w, ok := syntaxWhat(parse(b[:ends[hi-1]])); ok && w == what {
			return fmt.Errorf("invalid YAML: line %d: %s", hi, what)
		}
	}
	return fmt.Errorf("invalid YAML: %v", err)
}

// syntaxWhat is what a syntax error of yaml's says, without its line.
func syntaxWhat(err error) (string, bool) {
	if err == nil {
		return "", false
	}
	rest, ok := strings.CutPrefix(err.Error(), "yaml: line ")
	n, what, found := strings.Cut(rest, ": ")
	if _, aerr := strconv.Atoi(n); !ok || !found || aerr != nil {
		return "", false
	}
	return what, true
}

// parse reads every YAML document in b, for its syntax only.
func parse(b []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
