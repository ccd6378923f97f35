package console_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/require"
)

// The Senders page shows each sender's guard pause and its reason, its
// throttling, onboarding and messaging limit use; Pause asks first and
// pauses the sender's campaigns, Resume resumes them.
func TestSendersPage(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	g := e.guards(t)
	ctx := context.Background()
	require.NoError(t, registry.New(e.r.Client, e.r.Keys).Publish(ctx, []*sender.Sender{{ID: "held", Rate: 5, Burst: 1,
		WABAID: "waba-9", RequireOnboarding: true, PortfolioID: "bp-1", MessagingLimit: 250}}))
	now := time.Now()
	require.NoError(t, e.r.Client.HSet(ctx, e.r.Keys.Backoff("default"), "r0", 2, "at", now.UnixMilli(),
		"hold", now.Add(time.Hour).UnixMilli()).Err())
	good := e.csrf(t, e.sess)

	r := e.do(t, "GET", "/ui/senders", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, `aria-current="page">Senders<`)
	require.Contains(t, r.body, "paused by the operator · by api")
	require.Contains(t, r.body, `id="resume-held"`)
	require.Contains(t, r.body, `href="/ui/senders/default/pause" id="pause-default"`)
	require.Contains(t, r.body, "held until "+now.Add(time.Hour).UTC().Format("2006-01-02 15:04"), "the throttle's hold")
	require.Regexp(t, `now [23]\.\d/s`, r.body, "the effective rate after the throttle")
	require.Contains(t, r.body, "<strong>not onboarded</strong>")
	require.Contains(t, r.body, `0 of 250 <span class="hint">(bp-1)</span>`)
	require.Contains(t, r.body, `href="/ui/suppressions?scope=waba-9"`)

	r = e.do(t, "GET", "/ui/senders/default/pause", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Pause the sender default?")
	require.Contains(t, r.body, `<input type="hidden" name="confirm" value="yes">`)
	require.Contains(t, r.body, `href="/ui/senders">No, go back`)
	r = e.do(t, "POST", "/ui/senders/default/pause", url.Values{"csrf": {good}}, e.sess)
	require.Equal(t, http.StatusOK, r.code, "without confirm=yes, the confirmation")
	require.Contains(t, r.body, "Pause the sender default?")
	require.Equal(t, campaign.StateRunning, e.state(t))

	r = e.do(t, "POST", "/ui/senders/default/pause", url.Values{"csrf": {good}, "confirm": {"yes"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, "/ui/senders", r.h.Get("Location"))
	require.Equal(t, campaign.StatePaused, e.state(t), "the sender's campaign is paused")
	st, err := g.Sender(ctx, "default")
	require.NoError(t, err)
	require.Equal(t, guard.ReasonOperator, st.Reason)
	r = e.follow(t, r)
	require.Contains(t, r.body, "Sender default paused")
	require.Contains(t, r.body, `id="resume-default"`)

	r = e.do(t, "POST", "/ui/senders/default/resume", url.Values{"csrf": {good}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, campaign.StateRunning, e.state(t), "the campaign the pause stopped resumes")

	r = e.do(t, "POST", "/ui/senders/nosuch/resume", url.Values{"csrf": {good}}, e.sess)
	require.Equal(t, http.StatusNotFound, r.code)
	require.Contains(t, r.body, "sender nosuch is not published")
	r = e.do(t, "GET", "/ui/senders/nosuch/pause", nil, e.sess)
	require.Equal(t, http.StatusNotFound, r.code)
}

// The Suppressions page lists a scope's entries masked unless asked,
// finds, adds, removes (after a confirmation) and imports a CSV, keeping
// its good lines and naming the bad ones by line; an entry's reason shows
// as text.
func TestSuppressionsPage(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	g := e.guards(t)
	ctx := context.Background()
	good := e.csrf(t, e.sess)

	r := e.do(t, "GET", "/ui/suppressions", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, `<option value="default" selected>default (senders default)</option>`)
	require.Contains(t, r.body, `<option value="waba-9">waba-9 (senders held)</option>`)
	require.Contains(t, r.body, "4412*****801")
	require.NotContains(t, r.body, ">441234567801<", "numbers are masked unless asked for")
	r = e.do(t, "GET", "/ui/suppressions?scope=default&numbers=shown", nil, e.sess)
	require.Contains(t, r.body, ">441234567801<")

	evil := `<script>alert("x")</script>`
	r = e.do(t, "POST", "/ui/suppressions/add", url.Values{"csrf": {good}, "scope": {"default"}, "to": {"+44 1234 567803"},
		"reason": {evil}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, "/ui/suppressions?scope=default", r.h.Get("Location"))
	r = e.follow(t, r)
	require.Contains(t, r.body, "Added 4412*****803 to the suppression list of default.")
	r = e.do(t, "GET", "/ui/suppressions?scope=default&to=441234567803", nil, e.sess)
	require.Contains(t, r.body, `<dd class="mono">4412*****803</dd><dt>Reason</dt><dd>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</dd>`)
	require.NotContains(t, r.body, "<script>alert")

	r = e.do(t, "GET", "/ui/suppressions?scope=default&to=441234567899", nil, e.sess)
	require.Contains(t, r.body, "Not on the suppression list of default.")
	r = e.do(t, "GET", "/ui/suppressions?scope=default&to=call-me", nil, e.sess)
	require.Contains(t, r.body, `<p class="error">number: `)

	r = e.do(t, "POST", "/ui/suppressions/add", url.Values{"csrf": {good}, "scope": {"default"}, "to": {"12"}}, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.body, "number: ")
	require.NotContains(t, r.body, "number: to: ", "the field is named once")
	r = e.do(t, "POST", "/ui/suppressions/add", url.Values{"csrf": {good}, "scope": {"nope"}, "to": {"441234567806"}}, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.body, "scope nope is no published sender")

	rm := url.Values{"csrf": {good}, "scope": {"default"}, "to": {"441234567801"}}
	r = e.do(t, "POST", "/ui/suppressions/remove", rm, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Take 4412*****801 off the suppression list of default?")
	require.Contains(t, r.body, `href="/ui/suppressions?scope=default">No, go back`)
	en, err := g.Lookup(ctx, "default", "441234567801")
	require.NoError(t, err)
	require.NotNil(t, en, "not removed before the confirmation")
	rm.Set("confirm", "yes")
	r = e.do(t, "POST", "/ui/suppressions/remove", rm, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	en, err = g.Lookup(ctx, "default", "441234567801")
	require.NoError(t, err)
	require.Nil(t, en)
	r = e.do(t, "POST", "/ui/suppressions/remove", rm, e.sess)
	require.Equal(t, http.StatusNotFound, r.code)

	r = e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}},
		"to,reason\n441234567804,asked\nnot-a-number,x\n441234567805,\n", good, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, "Added 2, rejected 1.")
	require.Regexp(t, `<tr><td class="num">3</td><td>[^<]+</td></tr>`, r.body, "the bad line, by its number")
	for _, to := range []string{"441234567804", "441234567805"} {
		en, err := g.Lookup(ctx, "default", to)
		require.NoError(t, err)
		require.NotNil(t, en, "%s imported", to)
	}
	r = e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}}, "to\n441234567806\n\"441234567809\n441234567810\n", good, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code, r.body)
	require.Contains(t, r.body, "line 3: a quote opened here", "the import stops where the file breaks")
	require.Contains(t, r.body, "Added 1, rejected 0 before it stopped.")
	r = e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}}, "number\n441234567807\n", good, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.body, "file: line 1: the header has no column")
	r = e.do(t, "POST", "/ui/suppressions/add", url.Values{"csrf": {good}, "scope": {"default"}, "to": {"441234567808"},
		"reason": {strings.Repeat("x", 70<<10)}}, e.sess)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.code, "a form above 64 KiB")
	require.Contains(t, r.body, "the form is larger than 65536 bytes")
	r = e.do(t, "POST", "/ui/suppressions/import", url.Values{"csrf": {good}, "scope": {"default"}}, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.body, "file: pick a CSV file")
}

// The list pages: following the next page's links shows every entry once
// (600 entries, more than Redis keeps in a listpack, so that it scans them
// in pages; miniredis answers in one).
func TestSuppressionsPage_Pages(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	g := e.guards(t)
	var es []guard.Entry
	for i := range 600 {
		es = append(es, guard.Entry{To: fmt.Sprintf("4477009%05d", i), Reason: "r", Source: guard.SourceAPI})
	}
	require.NoError(t, g.Suppress(context.Background(), "waba-9", es...))
	num := regexp.MustCompile(`<td class="mono">(4477009\d{5})</td>`)
	next := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	seen := map[string]int{}
	path := "/ui/suppressions?scope=waba-9&numbers=shown"
	pages := 0
	for ; path != ""; pages++ {
		require.Less(t, pages, 600, "the pages end")
		r := e.do(t, "GET", path, nil, e.sess)
		require.Equal(t, http.StatusOK, r.code, r.body)
		for _, m := range num.FindAllStringSubmatch(r.body, -1) {
			seen[m[1]]++
		}
		path = ""
		if m := next.FindStringSubmatch(r.body); m != nil {
			path = html.UnescapeString(m[1])
			require.Contains(t, r.body, ">Next page<")
		}
	}
	require.Len(t, seen, 600, "the pages cover the list")
	t.Logf("600 entries in %d pages", pages)
	r := e.do(t, "GET", "/ui/suppressions?scope=waba-9&cursor=bogus", nil, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
}

// An import is bounded as the API's uploads (MMLITE_MAX_UPLOAD): a larger
// file is refused whole, and says why.
func TestSuppressionsImport_Bounded(t *testing.T) {
	t.Parallel()
	e := setupWith(t, token, func(c *httpapi.Config) { c.MaxUpload = 4 << 10 })
	g := e.guards(t)
	good := e.csrf(t, e.sess)
	var b strings.Builder
	b.WriteString("to,reason\n")
	for i := range 400 {
		fmt.Fprintf(&b, "4477009%05d,asked\n", i)
	}
	r := e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}}, b.String(), good, e.sess)
	require.Equal(t, http.StatusRequestEntityTooLarge, r.code, r.body)
	require.Contains(t, r.body, "the form is larger than 4096 bytes")
	en, err := g.Lookup(context.Background(), "default", "447700900000")
	require.NoError(t, err)
	require.Nil(t, en, "nothing of it is added")
	r = e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}}, "to\n447700900000\n", good, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Contains(t, r.body, "Added 1, rejected 0.")
}

// A sender paused and numbers suppressed from the console say so:
// paused_by and each entry's source are console, and the Senders page
// shows who paused (found in review: they said api, so an operator
// auditing a pause or an entry could not tell who made it).
func TestPauseAndSuppress_SayTheConsole(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	g := e.guards(t)
	ctx := context.Background()
	good := e.csrf(t, e.sess)

	r := e.do(t, "POST", "/ui/senders/default/pause", url.Values{"csrf": {good}, "confirm": {"yes"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	st, err := g.Sender(ctx, "default")
	require.NoError(t, err)
	require.Equal(t, "console", st.PausedBy)
	r = e.do(t, "GET", "/ui/senders", nil, e.sess)
	require.Contains(t, r.body, "paused by the operator · by console")

	r = e.do(t, "POST", "/ui/suppressions/add", url.Values{"csrf": {good}, "scope": {"default"}, "to": {"441234567803"},
		"reason": {"asked"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	r = e.post(t, "/ui/suppressions/import", url.Values{"scope": {"default"}}, "to\n441234567804\n", good, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	for _, to := range []string{"441234567803", "441234567804"} {
		en, err := g.Lookup(ctx, "default", to)
		require.NoError(t, err)
		require.NotNil(t, en, to)
		require.Equal(t, "console", en.Source, to)
	}
}
