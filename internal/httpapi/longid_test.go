package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// An id that is not one (too long, or of other characters) is echoed in
// the error that refuses it clipped, quoted, with its length: a client
// that sends a 100 KB id by mistake reads which field and why, not its
// own 100 KB back (found in review: it was echoed whole).
func TestErrors_LongIDsAreClipped(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	long := strings.Repeat("x", 5000)
	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"POST", "/v1/campaigns", `{"campaign": {"id": "` + long[:3000] + `", "template": {"name": "t", "language": {"code": "en"}}}}`,
			http.StatusBadRequest, `id must be 1-64 of A-Za-z0-9._-, not only dots, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (3000 bytes)`},
		{"POST", "/v1/campaigns", `{"campaign": {"id": "c3", "sender": "` + long[:3000] + `", "template": {"name": "t", "language": {"code": "en"}}}}`,
			http.StatusBadRequest, `sender must be 1-64 of A-Za-z0-9._-, not only dots, got "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (3000 bytes)`},
		{"GET", "/v1/campaigns/" + long[:5000], "", http.StatusNotFound,
			`campaign "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (5000 bytes) not found`},
		{"POST", "/v1/campaigns/" + long[:5000] + "/pause", "", http.StatusNotFound,
			`campaign "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." (5000 bytes) not found`},
		{"GET", "/v1/campaigns/a%20b", "", http.StatusNotFound, `campaign "a b" not found`},
	} {
		a := b.do(t, tc.method, tc.path, "", tc.body)
		require.Equal(t, tc.code, a.code, "%s %s: %.300s", tc.method, tc.path, a.raw)
		require.Contains(t, a.body["error"], tc.want, "%s %s", tc.method, tc.path)
		require.Less(t, len(a.raw), 1000, "%s %s: %.300s", tc.method, tc.path, a.raw)
	}
}
