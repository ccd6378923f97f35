package httpapi_test

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A cursor whose time is NaN or infinite is a 400 like any garbled cursor
// (on a real Redis it was a 500: Redis refuses such a score bound).
func TestListCampaigns_CursorWithoutAFiniteTimeIs400(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, score := range []string{"", "NaN", "+Inf", "-Inf"} {
		cur := base64.RawURLEncoding.EncodeToString([]byte(score + "\nx"))
		a := b.do(t, "GET", "/v1/campaigns?cursor="+cur, "", "")
		require.Equal(t, 400, a.code, "%q: %s", score, a.raw)
		require.Equal(t, fmt.Sprintf("cursor %q is not one a previous page gave: start again without it", cur), a.body["error"], score)
	}
}

// A query parameter given twice is a 400 that names it: ?state=paused&
// state=running was read as state=paused, and the running campaign was not
// listed.
func TestListCampaigns_RepeatedParameterIs400(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 1)+`]}`).code)
	for query, name := range map[string]string{
		"state=paused&state=running": "state",
		"limit=5&limit=10":           "limit",
		"cursor=a&cursor=b":          "cursor",
		"state=running&state=":       "state",
	} {
		a := b.do(t, "GET", "/v1/campaigns?"+query, "", "")
		require.Equal(t, 400, a.code, "%s: %s", query, a.raw)
		require.Equal(t, name+" is given 2 times: give it once", a.body["error"], query)
	}
	a := b.do(t, "GET", "/v1/campaigns?state=running&limit=5", "", "")
	require.Equal(t, 200, a.code, a.raw)
	require.Len(t, a.body["campaigns"], 1, a.raw)
}

// So in GET and POST /v1/suppressions.
func TestSuppressions_RepeatedParameterIs400(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", "to\n447700900001\n").code)
	for query, name := range map[string]string{
		"scope=" + fixtureWABA + "&limit=5&limit=10":           "limit",
		"scope=" + fixtureWABA + "&cursor=0&cursor=1":          "cursor",
		"scope=" + fixtureWABA + "&scope=" + fixtureWABA + "1": "scope",
	} {
		a := b.do(t, "GET", "/v1/suppressions?"+query, "", "")
		require.Equal(t, 400, a.code, "%s: %s", query, a.raw)
		require.Equal(t, name+" is given 2 times: give it once", a.body["error"], query)
	}
	a := b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA+"&scope=x", "text/csv", "to\n447700900002\n")
	require.Equal(t, 400, a.code, "an import names one list: %s", a.raw)
	require.Equal(t, "scope is given 2 times: give it once", a.body["error"])
}

// ?scope= and ?sender= name one list: both given is a 400, nothing added.
// The sender won without a word, so ?scope=<WABA>&sender=<another WABA's
// sender> added the entries to the other WABA's list.
func TestSuppressions_ScopeAndSenderIs400(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	want := "name the suppression list by its scope or by its sender, not both (scope 999, sender default)"
	a := b.do(t, "POST", "/v1/suppressions?scope=999&sender=default", "text/csv", "to\n447700900001\n")
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, want, a.body["error"])
	a = b.do(t, "GET", "/v1/suppressions?scope=999&sender=default", "", "")
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, want, a.body["error"])
	a = b.do(t, "GET", "/v1/suppressions?sender=default", "", "")
	require.Equal(t, 404, a.code, "nothing was added, no list made: %s", a.raw)
}

// Without scope or sender, GET /v1/suppressions lists the scopes, which
// are not paged: a limit or cursor there is a 400 that says so (both were
// dropped without a word, and the scopes answered in place of a page).
func TestSuppressions_PagingWithoutAListIs400(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	require.Equal(t, 200, b.do(t, "POST", "/v1/suppressions?scope="+fixtureWABA, "text/csv", "to\n447700900001\n").code)
	for _, query := range []string{"limit=5", "cursor=0"} {
		a := b.do(t, "GET", "/v1/suppressions?"+query, "", "")
		require.Equal(t, 400, a.code, "%s: %s", query, a.raw)
		require.Equal(t, "limit and cursor page one list: name it with scope or sender (without them, the answer is the scopes that have a list)", a.body["error"], query)
	}
	a := b.do(t, "GET", "/v1/suppressions", "", "")
	require.Equal(t, 200, a.code, a.raw)
	require.Equal(t, []any{fixtureWABA}, a.body["scopes"])
}
