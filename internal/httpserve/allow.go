package httpserve

import (
	"net/http"
	"slices"
	"strings"
)

// Allow is the Allow header of a 405 for a path whose routes take methods,
// as net/http's ServeMux writes it: sorted, with HEAD where GET is (a GET
// route serves HEAD).
func Allow(methods []string) string {
	all := slices.Clone(methods)
	if slices.Contains(all, http.MethodGet) {
		all = append(all, http.MethodHead)
	}
	slices.Sort(all)
	return strings.Join(slices.Compact(all), ", ")
}
