package httpapi

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/mmlite/mmlite/internal/httpserve"
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
		q, err := httpserve.Query(r.URL.RawQuery)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
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
