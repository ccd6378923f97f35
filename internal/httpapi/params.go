package httpapi

import (
	"net/http"

	"github.com/mmlite/mmlite/internal/httpserve"
)

// takesParams refuses a query string it cannot read whole, and a query
// parameter the route does not take, before the request is read: read
// with Get, a mistyped or misplaced one (?statuses=, ?open=true on
// POST /v1/campaigns, where "open" belongs in the body) would be dropped
// without a word, and the request done otherwise than its client meant.
func takesParams(pattern string, h http.HandlerFunc, names []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := httpserve.Query(r.URL.RawQuery)
		if err == nil {
			err = httpserve.Takes(q, pattern, names...)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		h(w, r)
	}
}
