package httpapi

import (
	"maps"
	"net/http"
	"slices"

	"github.com/mmlite/mmlite/internal/httpserve"
)

// refuseOtherMethods answers a request to a route's path with a method
// none of the path's routes takes: 405, with Allow naming the methods it
// takes, in the api's JSON error. net/http's ServeMux would do so on its
// own, but the catch-all "/" (the JSON 404) matches every method first.
//
// Each path gets a pattern without a method, which the mux tries only once
// no route of the request's method matched it: the routes, the webhook's
// too, are found as before. Its metrics and log line are the route's (its
// pattern, never the raw path). It is answered before the token is checked,
// as an unknown path is: the routes are public (docs/http-api.md), and a
// client without the token already tells a route from no route by its 401,
// so the 405 tells it nothing more; a wrong token is not compared, so it
// guesses nothing and spends nothing of the address's allowance.
func (s *Server) refuseOtherMethods() {
	for _, path := range slices.Sorted(maps.Keys(s.methods)) {
		allow := httpserve.Allow(s.methods[path])
		s.handle(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, "method not allowed: "+r.Method+" "+r.URL.Path+"; "+path+" takes "+allow)
		})
	}
}
