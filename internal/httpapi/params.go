package httpapi

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/ident"
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

// takesNoBody refuses a body on a route that reads none (a control: pause,
// resume, cancel, seal), before anything is done: every body the api reads
// is read strictly, and one dropped without a word (a pause's "reason")
// would leave its client thinking it was heard. An empty body, an empty
// JSON object, or null (what a client that marshals whatever body it has
// sends for none: Go's json.Marshal(nil)), is no body.
func takesNoBody(pattern string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, err := io.ReadAll(io.LimitReader(r.Body, maxIgnoredBody+1))
		if err != nil {
			writeError(w, http.StatusBadRequest, "could not read the body: "+err.Error())
			return
		}
		// More than maxIgnoredBody is a body, whatever its first KiB is
		// (blank, or {}): the rest was not read.
		long := len(got) > maxIgnoredBody
		if s := strings.Join(strings.Fields(string(got)), ""); long || s != "" && s != "{}" && s != "null" {
			q := ident.Quote(string(got))
			if long { // the length read is not the body's
				q = strings.TrimSuffix(q, fmt.Sprintf(" (%d bytes)", len(got))) + fmt.Sprintf(" (more than %d bytes)", maxIgnoredBody)
			}
			writeError(w, http.StatusBadRequest, fmt.Sprintf("%s takes no body, got %s: send the request without one", pattern, q))
			return
		}
		h(w, r)
	}
}

// maxIgnoredBody is how much of a body a route that takes none reads to
// tell an empty one from another (its error quotes the first 64 bytes, see
// ident.Quote).
const maxIgnoredBody = 1024
