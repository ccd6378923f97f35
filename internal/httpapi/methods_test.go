package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A wrong method on a known path was answered 404 "no such endpoint", so a
// client that typed GET for POST was told the route did not exist. It is a
// 405 with Allow naming the path's methods (HEAD with GET, as net/http's
// ServeMux says), in the api's JSON error; an unknown path stays a 404.
func TestWrongMethod_Is405WithAllow(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, c := range []struct{ method, path, allow, route string }{
		{"GET", "/v1/campaigns/x/pause", "POST", "/v1/campaigns/{id}/pause"},
		{"PUT", "/v1/campaigns", "GET, HEAD, POST", "/v1/campaigns"},
		{"DELETE", "/v1/campaigns/x", "GET, HEAD", "/v1/campaigns/{id}"},
		{"GET", "/v1/campaigns/x/recipients", "POST", "/v1/campaigns/{id}/recipients"},
		{"POST", "/v1/campaigns/x/recipients/441234567890", "GET, HEAD", "/v1/campaigns/{id}/recipients/{to}"},
		{"GET", "/v1/suppressions/default/441234567890", "DELETE", "/v1/suppressions/{scope}/{to}"},
		{"PATCH", "/v1/senders/default", "GET, HEAD", "/v1/senders/{id}"},
		{"DELETE", "/webhooks/whatsapp", "GET, HEAD, POST", "/webhooks/whatsapp"},
		{"POST", "/metrics", "GET, HEAD", "/metrics"},
	} {
		a := b.do(t, c.method, c.path, "", "")
		require.Equal(t, http.StatusMethodNotAllowed, a.code, "%s %s: %s", c.method, c.path, a.raw)
		require.Equal(t, c.allow, a.hdr.Get("Allow"), "%s %s", c.method, c.path)
		require.Equal(t, "application/json", a.hdr.Get("Content-Type"))
		require.Equal(t, "method not allowed: "+c.method+" "+c.path+"; "+c.route+" takes "+c.allow, a.body["error"])
	}
	requireMetric(t, b, `mmlite_http_requests_total{code="405",route="/v1/campaigns/{id}/pause"} 1`,
		`mmlite_http_requests_total{code="405",route="/webhooks/whatsapp"} 1`)
	require.NotContains(t, b.do(t, "GET", "/metrics", "", "").raw, "/v1/campaigns/x/", "a route's pattern, never the path")

	for _, p := range []string{"/nowhere", "/v1/nope", "/v1/campaigns/x/pause/more", "/v1/campaigns/x/nope"} {
		a := b.do(t, "PUT", p, "", "")
		require.Equal(t, http.StatusNotFound, a.code, "%s: %s", p, a.raw)
		require.Empty(t, a.hdr.Get("Allow"))
		require.Equal(t, "no such endpoint: PUT "+p, a.body["error"])
	}
	require.Equal(t, http.StatusForbidden, b.do(t, "GET", "/webhooks/whatsapp", "", "").code, "GET is Meta's handshake")
	require.Equal(t, http.StatusOK, b.do(t, "GET", "/ui/login", "", "").code, "the console is still mounted")
}

// A wrong method is answered before the token is checked, as an unknown
// path is: without a token (or with a wrong one, which spends nothing of
// the address's allowance) the answer is the same 405.
func TestWrongMethod_BeforeAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, h := range []string{"", "Bearer wrong"} {
		for range 20 {
			a := b.do(t, "GET", "/v1/campaigns/x/pause", "", "", "Authorization", h)
			require.Equal(t, http.StatusMethodNotAllowed, a.code, "%q: %s", h, a.raw)
			require.Equal(t, "POST", a.hdr.Get("Allow"))
			require.False(t, strings.Contains(a.raw, "token"), a.raw)
		}
	}
	a := b.do(t, "POST", "/v1/campaigns/x/pause", "", "", "Authorization", "Bearer wrong")
	require.Equal(t, http.StatusUnauthorized, a.code, "no wrong token was counted: %s", a.raw)
}
