// Package yamllist reads the YAML files that declare a list under one
// top-level key (the senders file, the relay destinations file), with the
// same words for a file that is empty, not YAML, or lists nothing.
package yamllist

import (
	"bytes"
	"errors"
	"fmt"
	"io"

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
		return nil, fmt.Errorf("invalid YAML: %v", err) // %v: no io.EOF in the chain
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
			return nil, fmt.Errorf("invalid YAML: %v", err)
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
