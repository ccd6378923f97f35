package console_test

import (
	"context"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// The list filters by state and pages, newest first.
func TestCampaigns_FilterAndPages(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	// "Newest first" orders by creation, to the millisecond: the others are
	// created in a later one than spring.
	spring, err := e.p.Store().Campaigns.Status(ctx, "spring")
	require.NoError(t, err)
	for !time.Now().After(spring.CreatedAt.Add(time.Millisecond)) {
		runtime.Gosched()
	}
	for _, id := range []string{"a-1", "a-2"} {
		_, err := e.p.Register(ctx, &campaign.Campaign{ID: id, Sender: "default", Template: mmapi.Template{Name: "t", Language: mmapi.Language{Code: "en"}}})
		require.NoError(t, err)
	}
	_, err = e.p.Pause(ctx, "a-1")
	require.NoError(t, err)
	r := e.do(t, "GET", "/ui/?state=paused", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, `href="/ui/campaigns/a-1"`)
	require.NotContains(t, r.body, `href="/ui/campaigns/spring"`)
	require.Contains(t, r.body, `<option value="paused" selected>`)

	r = e.do(t, "GET", "/ui/", nil, e.sess)
	all := []string{"a-2", "a-1", "spring"}
	last := -1
	for _, id := range all {
		at := strings.Index(r.body, `href="/ui/campaigns/`+id+`"`)
		require.Greater(t, at, last, "%s comes after the newer ones", id)
		last = at
	}
	r = e.do(t, "GET", "/ui/?state=lost", nil, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	r = e.do(t, "GET", "/ui/?cursor=nonsense", nil, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	r = e.do(t, "GET", "/ui/?part=rows", nil, e.sess)
	require.NotContains(t, r.body, "<html", "the rows alone, for the live update")
	require.Contains(t, r.body, `href="/ui/campaigns/a-2"`)
}

// A cancel whose wait for the sends in flight runs out took effect: the
// console goes back to the campaign and says what becomes of them (it
// showed an error page).
func TestCancel_SendsStillInFlight(t *testing.T) {
	t.Parallel()
	e := setupProducer(t, token, nil, func(c *producer.Config) { c.CancelWait = 100 * time.Millisecond })
	ctx := context.Background()
	id := "spring:441234567890"
	require.NoError(t, e.r.Client.LPush(ctx, e.r.Keys.AsynqActive(), id).Err())
	require.NoError(t, e.r.Client.ZAdd(ctx, e.r.Keys.AsynqLease(), redis.Z{Score: float64(time.Now().Add(time.Minute).Unix()), Member: id}).Err())
	csrf := e.csrf(t, e.sess)
	r := e.do(t, "POST", "/ui/campaigns/spring/cancel", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, campaign.StateCancelled, e.state(t))
	r = e.follow(t, r)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Campaign spring is cancelled; 1 send of it was still in flight after 100ms: it ends with its own outcome, "+
		"and nothing of the campaign is sent after it", "how many, as the API's detail says (found in review: the notice did not say)")
}

// Cancel and follow-up ask first, in a page of their own (no script
// needed): a POST without confirm=yes only asks.
func TestIrreversibleActionsAsk(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	csrf := e.csrf(t, e.sess)
	r := e.do(t, "GET", "/ui/campaigns/spring/cancel", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "cannot be undone")
	require.Contains(t, r.body, `name="confirm" value="yes"`)
	r = e.do(t, "POST", "/ui/campaigns/spring/cancel", url.Values{"csrf": {csrf}}, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Cancel the campaign spring?")
	require.Equal(t, campaign.StateRunning, e.state(t))
	r = e.do(t, "POST", "/ui/campaigns/spring/cancel", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.Equal(t, campaign.StateCancelled, e.state(t))

	form := url.Values{"csrf": {csrf}, "new_id": {"spring-again"}, "status": {"cancelled"}, "codes": {"131026, x"}}
	r = e.do(t, "POST", "/ui/campaigns/spring/follow-up", form, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.body, `error codes: &#34;x&#34; is not an error code`)
	form.Set("codes", "")
	form.Del("status")
	r = e.do(t, "POST", "/ui/campaigns/spring/follow-up", form, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
	require.Contains(t, r.body, "outcomes: pick at least one", "in the form's words")
	form.Set("status", "cancelled")
	r = e.do(t, "POST", "/ui/campaigns/spring/follow-up", form, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "Send the follow-up campaign spring-again?")
	require.Contains(t, r.body, `name="status" value="cancelled"`)
	_, err := e.p.Store().Campaigns.Get(context.Background(), "spring-again")
	require.ErrorIs(t, err, campaign.ErrNotFound, "nothing registered before the confirmation")
}

// Sealing cannot be undone either: it asks first (found in review: one
// click sealed a campaign whose upload was still going on).
func TestSealAsks(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	csrf := e.csrf(t, e.sess)
	sealed := func() bool {
		st, err := e.p.Store().Campaigns.Status(context.Background(), "spring")
		require.NoError(t, err)
		return st.Sealed
	}
	require.False(t, sealed(), "spring is open")
	r := e.do(t, "GET", "/ui/campaigns/spring/seal", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, "cannot be undone")
	r = e.do(t, "POST", "/ui/campaigns/spring/seal", url.Values{"csrf": {csrf}}, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, `name="confirm" value="yes"`)
	require.False(t, sealed(), "nothing sealed before the confirmation")
	r = e.do(t, "POST", "/ui/campaigns/spring/seal", url.Values{"csrf": {csrf}, "confirm": {"yes"}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	require.True(t, sealed())
}

// Errors of the store come with their status, in words.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/campaigns/nope", nil, e.sess)
	require.Equal(t, http.StatusNotFound, r.code)
	csrf := e.csrf(t, e.sess)
	_, err := e.p.Cancel(context.Background(), "spring")
	require.NoError(t, err)
	r = e.do(t, "POST", "/ui/campaigns/spring/pause", url.Values{"csrf": {csrf}}, e.sess)
	require.Equal(t, http.StatusConflict, r.code)
	require.Contains(t, r.body, "campaign spring is cancelled")
	r = e.do(t, "GET", "/ui/campaigns/spring/export?status=lost", nil, e.sess)
	require.Equal(t, http.StatusBadRequest, r.code)
}

// The live part comes alone, and says when it will not change any more; a
// poll without a session is refused rather than sent to the login form.
func TestCampaignLive(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/campaigns/spring/live", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.NotContains(t, r.body, "<html")
	require.Contains(t, r.body, `id="progress">0/3 final (0 %)`)
	require.Empty(t, r.h.Get("X-Console-Final"))
	ctx := context.Background()
	for _, to := range []string{"441234567890", "441234567891", "441234567892"} {
		_, err := e.p.Store().Ledger.Settle(ctx, "spring", to, store.Outcome{Status: task.StatusSent, WAMID: "w" + to}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	_, err := e.p.Seal(ctx, "spring")
	require.NoError(t, err)
	r = e.do(t, "GET", "/ui/campaigns/spring/live", nil, e.sess)
	require.Contains(t, r.body, `id="state">completed`)
	require.Equal(t, "1", r.h.Get("X-Console-Final"))
	r = e.do(t, "GET", "/ui/campaigns/spring/live", nil, "", "X-Console-Poll", "1")
	require.Equal(t, http.StatusUnauthorized, r.code)
}

// The export is the results' CSV with the outcomes asked for.
func TestExport(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	for to, o := range map[string]store.Outcome{
		"441234567890": {Status: task.StatusFailed, Error: &task.Error{Code: 131026}, Metadata: map[string]string{"crm": "7"}},
		"441234567891": {Status: task.StatusSent, WAMID: "wamid.1"},
	} {
		_, err := e.p.Store().Ledger.Settle(ctx, "spring", to, o, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	r := e.do(t, "GET", "/ui/campaigns/spring/export?status=failed&status=undelivered", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code, r.body)
	require.Equal(t, `attachment; filename="spring-results.csv"`, r.h.Get("Content-Disposition"))
	require.Equal(t, "to,meta.crm,status,error_code,wamid\n441234567890,7,failed,131026,\n", r.body)
}

// Without the script, a page of a campaign still running refreshes
// itself; a finished one does not.
func TestNoScriptRefresh(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	r := e.do(t, "GET", "/ui/campaigns/spring", nil, e.sess)
	require.Contains(t, r.body, `<noscript><meta http-equiv="refresh" content="10"></noscript>`)
	require.Contains(t, r.body, `data-live="/ui/campaigns/spring/live"`)
	r = e.do(t, "GET", "/ui/", nil, e.sess)
	require.Contains(t, r.body, `<noscript><meta http-equiv="refresh" content="10"></noscript>`)
	require.Contains(t, r.body, `data-live="/ui/?part=rows"`)
}

// A campaign waiting for its send_at (scheduled, a running campaign that
// has not started) can be paused from its page, as through the API (found
// in review: its page offered neither Pause nor Resume, only Cancel).
func TestScheduledCampaign_CanBePaused(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	ctx := context.Background()
	at := time.Now().Add(time.Hour)
	camp := &campaign.Campaign{ID: "later", Sender: "default", SendAt: &at,
		Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "en"}}}
	_, err := e.p.Register(ctx, camp)
	require.NoError(t, err)
	_, err = e.p.Enqueue(ctx, camp, producer.NewCSVSource(strings.NewReader("to\n441234567890\n")), producer.Options{})
	require.NoError(t, err)
	r := e.do(t, "GET", "/ui/campaigns/later", nil, e.sess)
	require.Equal(t, http.StatusOK, r.code)
	require.Contains(t, r.body, `id="state">scheduled`)
	require.Contains(t, r.body, `<form method="post" action="/ui/campaigns/later/pause">`)
	r = e.do(t, "POST", "/ui/campaigns/later/pause", url.Values{"csrf": {e.csrf(t, e.sess)}}, e.sess)
	require.Equal(t, http.StatusSeeOther, r.code, r.body)
	st, err := e.p.Store().Campaigns.Status(ctx, "later")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	r = e.do(t, "GET", "/ui/campaigns/later", nil, e.sess)
	require.Contains(t, r.body, `<form method="post" action="/ui/campaigns/later/resume">`)
}

// A page or an action asked for with a method it does not take was "no
// such page" (404): the address of the page an import, a test send or a
// confirmation leaves in the address bar, opened again, said the page did
// not exist. It is a 405 with Allow (HEAD with GET), saying what the
// address takes; an unknown path stays a 404 (found in review).
func TestWrongMethod_Is405WithAllow(t *testing.T) {
	t.Parallel()
	e := setup(t, token)
	for _, c := range []struct{ method, path, allow, says string }{
		{"GET", "/ui/suppressions/import", "POST", "it takes POST: a form of the console posts here; open the page the form is on"},
		{"GET", "/ui/campaigns/spring/test", "POST", "it takes POST"},
		{"GET", "/ui/logout", "POST", "it takes POST"},
		{"POST", "/ui/campaigns/spring", "GET, HEAD", "it takes GET, HEAD"},
		{"PUT", "/ui/campaigns/spring/cancel", "GET, HEAD, POST", "it takes GET, HEAD, POST"},
		{"DELETE", "/ui/", "GET, HEAD", "it takes GET, HEAD"},
	} {
		r := e.do(t, c.method, c.path, nil, e.sess)
		require.Equal(t, http.StatusMethodNotAllowed, r.code, "%s %s: %s", c.method, c.path, r.body)
		require.Equal(t, c.allow, r.h.Get("Allow"), "%s %s", c.method, c.path)
		require.Contains(t, r.body, "method not allowed: "+c.method+" "+c.path+"; "+c.says, "%s %s", c.method, c.path)
	}
	for _, p := range []string{"/ui/nowhere", "/ui/campaigns/spring/nope", "/ui/campaigns/"} {
		r := e.do(t, "GET", p, nil, e.sess)
		require.Equal(t, http.StatusNotFound, r.code, p)
		require.Contains(t, r.body, "no such page: GET "+p)
	}
	r := e.do(t, "GET", "/ui/campaigns/spring/test", nil, "")
	require.Equal(t, http.StatusMethodNotAllowed, r.code, "as the API: the routes are no secret, and it acts on nothing")
}
