package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// answer is an api answer: its status, headers and body.
type answer struct {
	code int
	hdr  http.Header
	raw  string
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal([]byte(a.raw), v), a.raw)
}

// do sends an authenticated request to the api; hdr are header name, value pairs.
func (f *fleet) do(t testing.TB, method, path, body string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, f.api.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answer{code: resp.StatusCode, hdr: resp.Header, raw: string(b)}
}

// live is GET /v1/campaigns/{id}.
func (f *fleet) live(t testing.TB, id string) *campaign.Status {
	t.Helper()
	a := f.do(t, "GET", "/v1/campaigns/"+id, "")
	require.Equal(t, 200, a.code, a.raw)
	var st campaign.Status
	a.json(t, &st)
	return &st
}

// register registers a campaign of sender "default" and enqueues recipients
// given as CSV (header and rows); seal seals it.
func (f *fleet) register(t testing.TB, c *campaign.Campaign, csv string, seal bool) {
	t.Helper()
	if c.Sender == "" {
		c.Sender = "default"
	}
	if c.Template.Name == "" {
		c.Template = mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}
	}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	if csv != "" {
		_, err = f.p.Enqueue(f.Ctx, c, producer.NewCSVSource(strings.NewReader(csv)), producer.Options{})
		require.NoError(t, err)
	}
	if seal {
		_, err = f.p.Seal(f.Ctx, c.ID)
		require.NoError(t, err)
	}
}

func rows(tos ...string) string { return "to\n" + strings.Join(tos, "\n") + "\n" }

// Issue 14: GET /v1/campaigns was a 404. Campaigns come newest first, a
// page at a time, filtered by state; a bad state, limit or cursor is a 400
// that names it.
func TestListCampaigns_NewestFirstPagedFiltered(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	var ids []string
	for i := range 7 {
		id := fmt.Sprintf("list-%d", i)
		f.register(t, &campaign.Campaign{ID: id}, "", false)
		ids = append([]string{id}, ids...) // newest first
		if i%3 == 0 {
			_, err := f.p.Pause(f.Ctx, id)
			require.NoError(t, err)
		}
	}
	var got []string
	cursor, pages := "", 0
	for {
		a := f.do(t, "GET", "/v1/campaigns?limit=3&cursor="+url.QueryEscape(cursor), "")
		require.Equal(t, 200, a.code, a.raw)
		var page store.Page
		a.json(t, &page)
		require.LessOrEqual(t, len(page.Campaigns), 3)
		for _, st := range page.Campaigns {
			got = append(got, st.ID)
			require.Equal(t, "spring_sale", st.Template)
		}
		pages++
		if cursor = page.NextCursor; cursor == "" {
			break
		}
		require.Less(t, pages, 10, "the cursor moves on")
	}
	require.Equal(t, ids, got, "every campaign once, newest first")
	require.Equal(t, 3, pages)

	a := f.do(t, "GET", "/v1/campaigns?state=paused", "")
	require.Equal(t, 200, a.code, a.raw)
	var paused store.Page
	a.json(t, &paused)
	require.Len(t, paused.Campaigns, 3)
	for _, st := range paused.Campaigns {
		require.Equal(t, campaign.StatePaused, st.State)
		require.Equal(t, campaign.WaitPaused, st.Waiting.Reason)
	}
	require.Empty(t, paused.NextCursor)

	for q, want := range map[string]string{
		"state=sending": `state \"sending\" is not one of scheduled, running, paused, cancelled, completed`,
		"cursor=bm9wZQ": `cursor \"bm9wZQ\" is not one a previous page gave`,
		"cursor=%25%25": `cursor \"%%\" is not one a previous page gave`,
		"limit=0":       `limit \"0\" must be a number from 1 to 500`,
		"limit=501":     `limit \"501\" must be a number from 1 to 500`,
	} {
		a := f.do(t, "GET", "/v1/campaigns?"+q, "")
		require.Equal(t, 400, a.code, q)
		require.Contains(t, a.raw, want, q)
	}
}

// The status says why a campaign sends nothing, for every reason.
func TestStatus_WaitingReasons(t *testing.T) {
	t.Parallel()
	waiting := func(t *testing.T, f *fleet, id, reason string) *campaign.Status {
		t.Helper()
		var st *campaign.Status
		require.Eventually(t, func() bool {
			st = f.live(t, id)
			return st.Waiting != nil && st.Waiting.Reason == reason
		}, 30*time.Second, 50*time.Millisecond, "campaign %s never waited for %s", id, reason)
		return st
	}
	t.Run("send_at", func(t *testing.T) {
		t.Parallel()
		f := newFleet(t, fakeapi.Config{})
		f.startWorker(t, f.workerConfig(100))
		at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		f.register(t, &campaign.Campaign{ID: "later", SendAt: &at}, rows("447700900001", "447700900002"), true)
		st := waiting(t, f, "later", campaign.WaitSendAt)
		require.Equal(t, campaign.StateScheduled, st.State)
		require.WithinDuration(t, at, *st.Waiting.Until, 0)
		require.WithinDuration(t, at, *st.NextSendAt, time.Second)
		require.False(t, st.ETA.Before(at), "it ends after it starts")
	})
	t.Run("paused_and_onboarding", func(t *testing.T) {
		t.Parallel()
		f := newFleet(t, fakeapi.Config{})
		f.register(t, &campaign.Campaign{ID: "p1"}, rows("447700900001"), true)
		_, err := f.p.Pause(f.Ctx, "p1")
		require.NoError(t, err)
		st := waiting(t, f, "p1", campaign.WaitPaused)
		require.Equal(t, "operator: paused by the operator", st.Waiting.Detail)
		require.Nil(t, st.NextSendAt)

		s := f.Sender("onb", 10)
		s.WABAID, s.RequireOnboarding = "900000000000001", true
		f.publish(t, s)
		f.register(t, &campaign.Campaign{ID: "o1", Sender: "onb"}, rows("447700900001"), true)
		st = waiting(t, f, "o1", campaign.WaitOnboarding)
		require.Contains(t, st.Waiting.Detail, "waiting for MM_LITE_TERMS_SIGNED of WABA 900000000000001")
	})
	t.Run("no_workers_then_open", func(t *testing.T) {
		t.Parallel()
		f := newFleet(t, fakeapi.Config{})
		f.register(t, &campaign.Campaign{ID: "n1"}, rows("447700900001", "447700900002"), false)
		st := waiting(t, f, "n1", campaign.WaitNoWorkers)
		require.Contains(t, st.Waiting.Detail, "start mmlite worker")
		f.startWorker(t, f.workerConfig(100))
		// Every recipient sent, but the campaign is open: it waits for more.
		st = waiting(t, f, "n1", campaign.WaitOpen)
		require.EqualValues(t, 2, st.Counts.Sent)
		require.Equal(t, campaign.StateRunning, st.State)
		_, err := f.p.Seal(f.Ctx, "n1")
		require.NoError(t, err)
		st = f.live(t, "n1")
		require.Equal(t, campaign.StateCompleted, st.State)
		require.Nil(t, st.Waiting)
	})
	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		f := newFleet(t, fakeapi.Config{Errors: []fakeapi.ErrorRule{{Share: 1, HTTPStatus: 429}}})
		f.startWorker(t, f.workerConfig(100))
		f.register(t, &campaign.Campaign{ID: "t1"}, rows("447700900001", "447700900002", "447700900003"), true)
		st := waiting(t, f, "t1", campaign.WaitThrottled)
		require.True(t, st.Waiting.Until.After(time.Now().Add(-time.Second)), "held until after its Retry-After")
		require.Contains(t, st.Waiting.Detail, "throttled the sender default")
	})
	t.Run("sender_backlog_rate_eta", func(t *testing.T) {
		t.Parallel()
		f := newFleet(t, fakeapi.Config{})
		cfg := f.workerConfig(10)
		f.publish(t, cfg.Senders...)
		f.startWorker(t, cfg)
		var big []string
		for i := range 60 { // 6 s of slots at 10/s
			big = append(big, fmt.Sprintf("4477009%05d", i))
		}
		f.register(t, &campaign.Campaign{ID: "first"}, rows(big...), true)
		f.register(t, &campaign.Campaign{ID: "second"}, rows("447700800001", "447700800002"), true)
		st := waiting(t, f, "second", campaign.WaitSenderBacklog)
		require.True(t, st.Waiting.Until.After(time.Now().Add(3*time.Second)), "its first slot comes after the first campaign's: %s", st.Waiting.Until)
		require.Equal(t, st.Waiting.Until, st.NextSendAt)
		// The first campaign sends meanwhile: at its rate, with an ETA.
		require.Eventually(t, func() bool {
			st = f.live(t, "first")
			return st.Rate > 2 && st.ETA != nil
		}, 10*time.Second, 100*time.Millisecond)
		require.Nil(t, st.Waiting)
		require.Less(t, st.Rate, 30.0, "about the sender's 10/s")
		require.True(t, st.ETA.After(time.Now()))
		f.waitState(t, "second", campaign.StateCompleted, 30*time.Second)
	})
	t.Run("retry_backoff", func(t *testing.T) {
		t.Parallel()
		// 131049: the recipient may get no marketing message for 24 h; it is tried again then.
		f := newFleet(t, fakeapi.Config{FailRecipients: map[string]int{"447700900002": 131049}})
		f.startWorker(t, f.workerConfig(100))
		f.register(t, &campaign.Campaign{ID: "r1"}, rows("447700900001", "447700900002"), true)
		require.Eventually(t, func() bool { return f.Status(t, "r1").Counts.Sent == 1 }, 30*time.Second, 20*time.Millisecond)
		st := waiting(t, f, "r1", campaign.WaitRetryBackoff)
		require.WithinDuration(t, time.Now().Add(24*time.Hour), *st.Waiting.Until, time.Minute)
		require.Equal(t, st.Waiting.Until, st.NextSendAt)

		a := f.do(t, "GET", "/v1/campaigns/r1/recipients/+44%207700%20900002", "")
		require.Equal(t, 200, a.code, a.raw)
		var w store.Whereabouts
		a.json(t, &w)
		require.Equal(t, store.AtRetrying, w.State)
		require.Equal(t, 131049, w.LastError.Code)
		require.Equal(t, 1, w.Attempts)
		require.WithinDuration(t, *st.Waiting.Until, *w.DueAt, time.Second)
	})
}

// Where one recipient is, and its result; 404 for an unknown campaign or
// recipient, 400 for a number that is none.
func TestRecipientLookup(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{FailRecipients: map[string]int{"447700900002": 131026}})
	f.startWorker(t, f.workerConfig(100))
	f.register(t, &campaign.Campaign{ID: "c1"}, "to,body.1,meta.crm_id\n447700900001,Ana,41\n447700900002,Bruno,42\n", true)
	at := time.Now().Add(time.Hour)
	f.register(t, &campaign.Campaign{ID: "later", SendAt: &at}, rows("447700900003"), true)
	f.waitState(t, "c1", campaign.StateCompleted, 30*time.Second)

	get := func(path string) store.Whereabouts {
		t.Helper()
		a := f.do(t, "GET", path, "")
		require.Equal(t, 200, a.code, a.raw)
		var w store.Whereabouts
		a.json(t, &w)
		return w
	}
	w := get("/v1/campaigns/c1/recipients/447700900001")
	require.Equal(t, store.AtFinal, w.State)
	require.Equal(t, "sent", w.Result.Status)
	require.NotEmpty(t, w.Result.WAMID)
	require.Equal(t, map[string]string{"crm_id": "41"}, w.Result.Metadata, "the ledger keeps the metadata")

	w = get("/v1/campaigns/c1/recipients/447700900002")
	require.Equal(t, "failed", w.Result.Status)
	require.Equal(t, 131026, w.Result.Error.Code)

	w = get("/v1/campaigns/later/recipients/447700900003")
	require.Equal(t, store.AtScheduled, w.State)
	require.WithinDuration(t, at, *w.DueAt, 2*time.Second)

	for path, code := range map[string]int{
		"/v1/campaigns/nope/recipients/447700900001": 404,
		"/v1/campaigns/c1/recipients/447700900009":   404,
		"/v1/campaigns/c1/recipients/12":             400,
	} {
		a := f.do(t, "GET", path, "")
		require.Equal(t, code, a.code, "%s: %s", path, a.raw)
	}
}
