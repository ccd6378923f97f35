package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"runtime"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

var nextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

// register registers a campaign of the sender default, created in a later
// millisecond than spring ("newest first" orders by creation, to the
// millisecond).
func (e *env) register(t *testing.T, id string) {
	t.Helper()
	ctx := context.Background()
	spring, err := e.p.Store().Campaigns.Status(ctx, "spring")
	require.NoError(t, err)
	for !time.Now().After(spring.CreatedAt.Add(time.Millisecond)) {
		runtime.Gosched()
	}
	_, err = e.p.Register(ctx, &campaign.Campaign{ID: id, Sender: "default", Template: mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}})
	require.NoError(t, err)
}

// A campaign list query the console cannot read is a 400 on the list's
// page, with the filter and the API's words for what is wrong (found in
// review: ?limit=abc, a repeated state and a query that cannot be parsed
// showed the first page as if nothing were wrong).
func TestCampaigns_UnreadableQueryIs400WithTheAPIsWords(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	for _, c := range []struct{ query, want string }{
		{"limit=abc", `limit "abc" must be a number from 1 to 500`},
		{"limit=0", `limit "0" must be a number from 1 to 500`},
		{"state=bogus", `state "bogus" is not one of scheduled, running, paused, cancelled, completed`},
		{"state=paused&state=running", "state is given 2 times: give it once"},
		{"cursor=a&cursor=b", "cursor is given 2 times: give it once"},
		{"cursor=nonsense", `cursor "nonsense" is not one a previous page gave: start again without it`},
		{"cursor=%zz", `the query string cannot be read: invalid URL escape "%zz"`},
		{"state=running;limit=2", `the query string cannot be read: invalid semicolon separator in query: separate parameters with "&"`},
	} {
		api := e.do(t, "GET", "/v1/campaigns?"+c.query, nil, "", "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusBadRequest, api.code, "%s: the api: %s", c.query, api.body)
		var body struct{ Error string }
		require.NoError(t, json.Unmarshal([]byte(api.body), &body))
		require.Equal(t, c.want, body.Error, "%s: the api's words", c.query)

		r := e.do(t, "GET", "/ui/?"+c.query, nil, e.sess)
		require.Equal(t, http.StatusBadRequest, r.code, "%s: %s", c.query, r.body)
		require.Contains(t, r.body, html.EscapeString(c.want), "%s: the console says what the api says", c.query)
		require.Contains(t, r.body, `<form method="get" action="/ui/" class="filters">`, "%s: on the list's page", c.query)
		require.NotContains(t, r.body, `href="/ui/campaigns/spring"`, "%s: no page shown as if the query were read", c.query)
		require.NotContains(t, r.body, "data-live=", "%s: nothing to refresh", c.query)

		r = e.do(t, "GET", "/ui/?part=rows&"+c.query, nil, e.sess)
		require.Equal(t, http.StatusBadRequest, r.code, "%s: the rows alone", c.query)
		require.Contains(t, r.body, html.EscapeString(c.want), c.query)
	}
}

// The list takes a limit, as the API's, and its next page keeps it.
func TestCampaigns_Limit(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	e.register(t, "a-1")
	r := e.do(t, "GET", "/ui/?limit=1", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, `href="/ui/campaigns/a-1"`)
	require.NotContains(t, r.body, `href="/ui/campaigns/spring"`, "one a page")
	require.Contains(t, r.body, `<input type="hidden" name="limit" value="1">`, "the filter keeps the limit")
	m := nextRE.FindStringSubmatch(r.body)
	require.NotNil(t, m, "a next page")
	r = e.do(t, "GET", html.UnescapeString(m[1]), nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, `href="/ui/campaigns/spring"`)
	require.NotContains(t, r.body, `href="/ui/campaigns/a-1"`)
	require.NotContains(t, r.body, `rel="next"`, "the last page, one a page")
	require.Contains(t, r.body, `<a href="/ui/?limit=1">First page</a>`)
}

// A list query refused for its cursor keeps the filter it was read with:
// the First page link and the filter's limit are the query's (found in
// review: /ui/?state=paused&limit=5&cursor=nonsense linked /ui/ as its
// first page, dropping the state and the limit).
func TestCampaigns_BadCursorKeepsTheFilter(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/?state=paused&limit=5&cursor=nonsense", nil, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, `<a href="/ui/?limit=5&amp;state=paused">First page</a>`)
	require.Contains(t, r.body, `<input type="hidden" name="limit" value="5">`)
	require.Contains(t, r.body, `<option value="paused" selected>paused</option>`)
}

// A list query with a name the list does not take is a 400, as GET
// /v1/campaigns answers it, in the same words (found in review: ?limt=5
// and ?State=paused listed every campaign, 25 a page).
func TestCampaigns_UnknownQueryNameIs400(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	for _, name := range []string{"limt", "State", "done"} {
		api := e.do(t, "GET", "/v1/campaigns?"+name+"=5", nil, "", "Authorization", "Bearer "+token)
		require.Equal(t, http.StatusBadRequest, api.code, api.body)
		require.Contains(t, api.body, `unknown query parameter \"`+name+`\": GET /v1/campaigns takes state, limit and cursor`)

		want := html.EscapeString(`unknown query parameter "` + name + `": GET /ui/ takes state, limit, cursor and part`)
		r := e.do(t, "GET", "/ui/?"+name+"=5", nil, e.sess)
		require.Equal(t, http.StatusBadRequest, r.code, "%s: %s", name, r.body)
		require.Contains(t, r.body, want, name)
		require.NotContains(t, r.body, `href="/ui/campaigns/spring"`, name)
		r = e.do(t, "GET", "/ui/?part=rows&"+name+"=5", nil, e.sess)
		require.Equal(t, http.StatusBadRequest, r.code, "%s: the rows alone", name)
		require.Contains(t, r.body, want, name)
	}
	r := e.do(t, "GET", "/ui/?state=running&limit=5&part=rows", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, "the list's own names: %s", r.body)
}
