package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// A query parameter an endpoint does not take is a 400 that names it,
// before the body is read: POST /v1/campaigns?open=true sealed the campaign
// it was meant to keep open, ?seal=true on an upload left it open, and
// ?statuses=failed exported every recipient, all without a word.
func TestV1_UnknownQueryParameterIs400(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "mine", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}}`).code)
	for _, tc := range []struct{ method, path, contentType, body, want string }{
		{"POST", "/v1/campaigns?open=true", "application/json",
			`{"campaign": {"id": "other", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}, "recipients": [` + rows(0, 1) + `]}`,
			`unknown query parameter "open": POST /v1/campaigns takes none`},
		{"POST", "/v1/campaigns/mine/recipients?seal=true", "text/csv", "to\n447700900001\n",
			`unknown query parameter "seal": POST /v1/campaigns/{id}/recipients takes none`},
		{"GET", "/v1/campaigns/spring-sale-2026/results?statuses=failed", "", "",
			`unknown query parameter "statuses": GET /v1/campaigns/{id}/results takes status and code`},
		{"GET", "/v1/campaigns?stat=running&limit=5", "", "",
			`unknown query parameter "stat": GET /v1/campaigns takes state, limit and cursor`},
		{"GET", "/v1/suppressions?scpe=" + fixtureWABA, "", "",
			`unknown query parameter "scpe": GET /v1/suppressions takes scope, sender, limit and cursor`},
		{"POST", "/v1/campaigns/spring-sale-2026/pause?now=1", "", "",
			`unknown query parameter "now": POST /v1/campaigns/{id}/pause takes none`},
	} {
		a := b.do(t, tc.method, tc.path, tc.contentType, tc.body)
		require.Equal(t, 400, a.code, "%s %s: %s", tc.method, tc.path, a.raw)
		require.Equal(t, tc.want, a.body["error"], tc.path)
	}
	require.Zero(t, b.enqueued(t, "other"), "the refused body was not read")
	require.Equal(t, 404, b.do(t, "GET", "/v1/campaigns/other", "", "").code)
	require.Zero(t, b.enqueued(t, "mine"), "the refused upload was not read")
	st := b.do(t, "GET", "/v1/campaigns/mine", "", "")
	require.Equal(t, false, st.body["sealed"], st.raw)

	// The parameters each endpoint takes still work.
	require.Equal(t, 200, b.do(t, "GET", "/v1/campaigns?state=running&limit=5", "", "").code)
	require.Equal(t, 200, b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results?status=failed&status=expired&code=131026", "", "").code)
}

// A query string that cannot be read whole is a 400: net/http drops the
// pairs it cannot read, so ?status=failed;code=131026 (a semicolon for an
// ampersand) or ?status=fail%zz exported every recipient.
func TestV1_UnreadableQueryIs400(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	for query, want := range map[string]string{
		"status=failed;code=131026": `the query string cannot be read: invalid semicolon separator in query: separate parameters with "&"`,
		"status=fail%zz":            `the query string cannot be read: invalid URL escape "%zz"`,
	} {
		a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results?"+query, "", "")
		require.Equal(t, 400, a.code, "%s: %s", query, a.raw)
		require.Equal(t, want, a.body["error"], query)
	}
	require.Equal(t, 200, b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results?status=failed&code=131026", "", "").code)
}
