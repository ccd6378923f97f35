package httpserve

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Query reads a query string (a URL's RawQuery) whole, as the api and the
// console read theirs: url.URL.Query drops the pairs it cannot read (a ';'
// for a '&', a bad escape), and a request would be answered without them,
// as if its client had not asked.
func Query(raw string) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		msg := err.Error()
		if strings.Contains(raw, ";") {
			msg += `: separate parameters with "&"`
		}
		return q, fmt.Errorf("the query string cannot be read: %s", msg)
	}
	return q, nil
}

// Once refuses a query parameter of names given more than once: read with
// Get, all but its first value would be dropped without a word.
func Once(q url.Values, names ...string) error {
	for _, n := range names {
		if len(q[n]) > 1 {
			return fmt.Errorf("%s is given %d times: give it once", n, len(q[n]))
		}
	}
	return nil
}

// BadCursor says that a list's cursor is not one a page of it gave
// (mistyped, made up, cut short when copied), and what to do.
func BadCursor(cursor string) string {
	return fmt.Sprintf("cursor %q is not one a previous page gave: start again without it", cursor)
}

// Takes refuses a query parameter whose name is not one of names, the
// ones the route of pattern takes: read with Get, a mistyped or misplaced
// one would be dropped without a word, and the request done otherwise than
// its client meant. The api and the console refuse it in these words.
func Takes(q url.Values, pattern string, names ...string) error {
	for _, name := range slices.Sorted(maps.Keys(q)) {
		if slices.Contains(names, name) {
			continue
		}
		if len(name) > 64 {
			name = name[:64] + "..."
		}
		takes := "none"
		if n := len(names); n > 0 {
			takes = names[n-1]
			if n > 1 {
				takes = strings.Join(names[:n-1], ", ") + " and " + takes
			}
		}
		return fmt.Errorf("unknown query parameter %q: %s takes %s", name, pattern, takes)
	}
	return nil
}
