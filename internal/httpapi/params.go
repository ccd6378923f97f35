package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// takesParams refuses a query string it cannot read whole, and a query
// parameter the route does not take, before the request is read: read
// with Get, a mistyped or misplaced one (?statuses=, ?open=true on
// POST /v1/campaigns, where "open" belongs in the body) would be dropped
// without a word, and the request done otherwise than its client meant.
func takesParams(pattern string, h http.HandlerFunc, names []string) http.HandlerFunc {
	takes := "none"
	if n := len(names); n > 0 {
		takes = names[n-1]
		if n > 1 {
			takes = strings.Join(names[:n-1], ", ") + " and " + takes
		}
	}
	return func(w http.ResponseWriter, r *http.Request) {
		// r.URL.Query drops the pairs it cannot read (a ';' for a '&', a
		// bad escape), and the request would be done without them.
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			msg := err.Error()
			if strings.Contains(r.URL.RawQuery, ";") {
				msg += `: separate parameters with "&"`
			}
			writeError(w, http.StatusBadRequest, "the query string cannot be read: "+msg)
			return
		}
		for _, name := range slices.Sorted(maps.Keys(q)) {
			if !slices.Contains(names, name) {
				if len(name) > 64 {
					name = name[:64] + "..."
				}
				writeError(w, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q: %s takes %s", name, pattern, takes))
				return
			}
		}
		h(w, r)
	}
}
