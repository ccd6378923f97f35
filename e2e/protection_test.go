package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// The protections across campaigns (docs/campaigns.md#protection), through
// the api, a worker and the fake API. Cooldown and the messaging limit's
// window are configurable; these tests shorten them to seconds, so that
// they run the same on miniredis and on a real Redis (the clock that
// matters is the processes', not Redis's: no time travel needed).

const waba = "102290129340398" // the fleet's sender's WABA (see workerConfig)

// campaignFor registers a campaign of sender "default" with a template and
// enqueues tos; it returns the enqueue's summary.
func (f *fleet) campaignFor(t *testing.T, id, template string, tos []string, expires *time.Time) *producer.Summary {
	t.Helper()
	c := &campaign.Campaign{ID: id, Sender: "default", ExpiresAt: expires,
		Template: mmapi.Template{Name: template, Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	sum, err := f.p.Enqueue(f.Ctx, c, producer.NewCSVSource(strings.NewReader("to\n"+strings.Join(tos, "\n")+"\n")), producer.Options{})
	require.NoError(t, err)
	_, err = f.p.Seal(f.Ctx, id)
	require.NoError(t, err)
	return sum
}

// hook posts a webhook body to the api, as the provider would.
func (f *fleet) hook(t *testing.T, body string) {
	t.Helper()
	req, err := http.NewRequest("POST", f.api.URL+"/webhooks/whatsapp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Webhook-Secret", hookSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode, string(b))
}

// request does an authenticated request and decodes the JSON answer.
func (f *fleet) request(t *testing.T, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, f.api.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// failedStatus is a failed status webhook of a message.
func failedStatus(wamid, to string, code int) string {
	return statusWebhook(hookStatus{wamid, to, "failed", code})
}

// hookStatus is a status of a message in a webhook; code, when not 0, is
// a failed status's error.
type hookStatus struct {
	wamid, to, status string
	code              int
}

// statusWebhook is a webhook of statuses, as the provider sends them.
func statusWebhook(sts ...hookStatus) string {
	var items []string
	for _, st := range sts {
		errs := ""
		if st.code != 0 {
			errs = fmt.Sprintf(`,"errors":[{"code":%d,"title":"refused"}]`, st.code)
		}
		items = append(items, fmt.Sprintf(`{"id":%q,"status":%q,"timestamp":"%d","recipient_id":%q%s}`, st.wamid, st.status, time.Now().Unix(), st.to, errs))
	}
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"changes":[{"field":"messages","value":{
"messaging_product":"whatsapp","metadata":{"phone_number_id":"106540352242922"},"statuses":[%s]}}]}]}`, waba, strings.Join(items, ","))
}

// resultsOf returns a campaign's results by recipient.
func (f *fleet) resultsOf(t *testing.T, id string, n int) map[string]task.Result {
	t.Helper()
	out := map[string]task.Result{}
	require.Eventually(t, func() bool {
		for _, r := range f.Results(t) {
			if r.CampaignID == id {
				out[r.To] = r
			}
		}
		return len(out) >= n
	}, 30*time.Second, 20*time.Millisecond, "results of %s", id)
	return out
}

func recipients(from, n int) []string {
	tos := make([]string, n)
	for i := range tos {
		tos[i] = fmt.Sprintf("4477009%05d", from+i)
	}
	return tos
}

// A second campaign to recipients that answered 131050 makes no POST to
// them and gives each a suppressed result; taking one off the list lets the
// next campaign reach it.
func TestProtection_SuppressedAfter131050(t *testing.T) {
	t.Parallel()
	tos := recipients(0, 10)
	stopped := tos[:3]
	f := newFleet(t, fakeapi.Config{FailRecipients: map[string]int{stopped[0]: 131050, stopped[1]: 131050, stopped[2]: 131050}})
	f.startWorker(t, f.workerConfig(500))

	f.campaignFor(t, "first", "spring_sale", tos, nil)
	st := f.waitState(t, "first", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 3, st.Counts.Failed)

	sum := f.campaignFor(t, "second", "spring_sale", tos, nil)
	require.EqualValues(t, 10, sum.Accepted)
	require.EqualValues(t, 3, sum.Suppressed, "the summary counts the suppressed recipients")
	st = f.waitState(t, "second", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 7, st.Counts.Sent)
	require.EqualValues(t, 3, st.Counts.Suppressed)
	res := f.resultsOf(t, "second", 10)
	for _, to := range stopped {
		require.Equal(t, 1, f.Fake.Attempts(to), "no POST to %s after its 131050", to)
		require.Equal(t, task.StatusSuppressed, res[to].Status)
		require.NotNil(t, res[to].Error)
		require.Equal(t, 131050, res[to].Error.Code, "the entry's code is the result's error")
	}

	code, page := f.request(t, "GET", "/v1/suppressions?scope="+waba, "")
	require.Equal(t, 200, code)
	require.Len(t, page["entries"], 3)
	code, _ = f.request(t, "DELETE", "/v1/suppressions/nosuchwaba/"+stopped[0], "")
	require.Equal(t, 404, code, "an unknown scope is a 404")
	code, _ = f.request(t, "DELETE", "/v1/suppressions/"+waba+"/"+stopped[0], "")
	require.Equal(t, 200, code)

	cfg := f.Fake.Config()
	delete(cfg.FailRecipients, stopped[0])
	require.NoError(t, f.Fake.SetConfig(cfg))
	sum = f.campaignFor(t, "third", "spring_sale", stopped, nil)
	require.EqualValues(t, 2, sum.Suppressed)
	f.waitState(t, "third", campaign.StateCompleted, 30*time.Second)
	require.Equal(t, 1, f.Fake.Sends(stopped[0]), "taken off the list, the recipient is reached again")
	require.Equal(t, 1, f.Fake.Attempts(stopped[1]))
}

// Operators import entries: bad lines are reported with their line
// numbers, good ones kept; a recipient suppressed after its enqueue is
// caught at send time.
func TestProtection_ImportAndSendTimeCheck(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	cfg := f.workerConfig(2)
	f.startWorker(t, cfg)
	tos := recipients(100, 6)
	f.campaignFor(t, "slow", "spring_sale", tos, nil) // 2/s: the last ones are enqueued long before they are sent
	body := "to,reason\n" + tos[5] + ",asked by phone\nnot-a-number,x\n" + tos[4] + ",\n"
	code, out := f.request(t, "POST", "/v1/suppressions?sender=default", body)
	require.Equal(t, 200, code, out)
	require.EqualValues(t, 2, out["added"])
	require.EqualValues(t, 1, out["rejected"])
	require.EqualValues(t, 3, out["errors"].([]any)[0].(map[string]any)["line"], "the bad line is named")
	code, _ = f.request(t, "POST", "/v1/suppressions?sender=nosuchsender", body)
	require.Equal(t, 404, code)

	st := f.waitState(t, "slow", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 2, st.Counts.Suppressed)
	require.Zero(t, f.Fake.Attempts(tos[5]))
	require.Zero(t, f.Fake.Attempts(tos[4]))
	res := f.resultsOf(t, "slow", 6)
	require.Equal(t, "suppressed: asked by phone", res[tos[5]].Error.Title)
}

// A 131049 failed webhook holds that recipient in the next campaign until
// the cooldown ends, or until the campaign expires.
func TestProtection_CooldownAfter131049Webhook(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	cfg := f.workerConfig(500)
	cfg.Cooldown = 3 * time.Second
	f.startWorker(t, cfg)
	tos := recipients(200, 5)
	capped := tos[0]

	f.campaignFor(t, "first", "spring_sale", tos, nil)
	f.waitState(t, "first", campaign.StateCompleted, 30*time.Second)
	wamid := f.resultsOf(t, "first", 5)[capped].WAMID
	require.NotEmpty(t, wamid)
	f.hook(t, failedStatus(wamid, capped, 131049))
	cooledAt := time.Now()

	f.campaignFor(t, "second", "spring_sale", tos, nil)
	require.Eventually(t, func() bool { return f.Status(t, "second").Counts.Sent == 4 }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, f.Fake.Attempts(capped), "held while in cooldown")
	st := f.waitState(t, "second", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 5, st.Counts.Sent)
	require.Equal(t, 2, f.Fake.Sends(capped))
	res := f.resultsOf(t, "second", 5)
	require.False(t, res[capped].FinishedAt.Before(cooledAt.Add(cfg.Cooldown-time.Second)), "sent only once the cooldown ended")
	require.Equal(t, 1, res[capped].Attempts, "the wait spent no attempt")

	// Again, for a campaign that expires before the cooldown ends.
	f.hook(t, failedStatus(res[capped].WAMID, capped, 131049))
	expires := time.Now().Add(time.Second)
	f.campaignFor(t, "third", "spring_sale", []string{capped}, &expires)
	st = f.waitState(t, "third", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 1, st.Counts.Expired)
	require.Equal(t, 2, f.Fake.Sends(capped), "no POST during the cooldown")
	r := f.resultsOf(t, "third", 1)[capped]
	require.Equal(t, task.StatusExpired, r.Status)
	require.Contains(t, r.Error.Title, "cooldown")
}

// A PAUSED template webhook pauses both campaigns using it and not a third;
// REINSTATED resumes them, but not one an operator paused.
func TestProtection_TemplatePausedByWebhook(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(4))
	f.campaignFor(t, "a", "spring_sale", recipients(300, 20), nil)
	f.campaignFor(t, "b", "spring_sale", recipients(400, 20), nil)
	f.campaignFor(t, "c", "autumn_sale", recipients(500, 20), nil)
	f.campaignFor(t, "d", "spring_sale", recipients(600, 20), nil)
	code, _ := f.call(t, "POST", "/v1/campaigns/d/pause")
	require.Equal(t, 200, code)

	f.hook(t, templateEvent("spring_sale", "pt_BR", "PAUSED"))
	for _, id := range []string{"a", "b"} {
		st := f.Status(t, id)
		require.Equal(t, campaign.StatePaused, st.State, id)
		require.True(t, strings.HasPrefix(st.PausedReason, "template_paused"), st.PausedReason)
	}
	require.Equal(t, campaign.StateRunning, f.Status(t, "c").State, "another template's campaign sends on")
	f.waitNoneInFlight(t, "a")
	f.waitNoneInFlight(t, "b")
	sent := f.Status(t, "a").Counts.Sent + f.Status(t, "b").Counts.Sent
	time.Sleep(time.Second)
	require.Equal(t, sent, f.Status(t, "a").Counts.Sent+f.Status(t, "b").Counts.Sent, "nothing is sent while the template is paused")

	f.hook(t, templateEvent("spring_sale", "pt_BR", "REINSTATED"))
	require.Equal(t, campaign.StateRunning, f.Status(t, "a").State)
	require.Equal(t, campaign.StateRunning, f.Status(t, "b").State)
	st := f.Status(t, "d")
	require.Equal(t, campaign.StatePaused, st.State, "the operator's pause stays")
	require.True(t, strings.HasPrefix(st.PausedReason, campaign.PauseOperator))
}

// A campaign created while its template is paused starts paused: nothing
// is POSTed for it (Meta would refuse every message, 132015); the
// template's REINSTATED resumes it with the others the guard paused. A
// campaign of another template, or of the same name in another language,
// starts running.
func TestProtection_CampaignOnAPausedTemplateStartsPaused(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(50))
	f.hook(t, templateEvent("spring_sale", "pt_BR", "PAUSED"))

	f.campaignFor(t, "late", "spring_sale", recipients(700, 10), nil)
	st := f.Status(t, "late")
	require.Equal(t, campaign.StatePaused, st.State)
	require.True(t, strings.HasPrefix(st.PausedReason, "template_paused"), st.PausedReason)
	f.campaignFor(t, "other", "autumn_sale", recipients(800, 10), nil)
	f.waitState(t, "other", campaign.StateCompleted, 30*time.Second)
	c := &campaign.Campaign{ID: "english", Sender: "default",
		Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "en_US"}}}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, f.Status(t, "english").State, "another language is another template")
	require.Zero(t, f.Status(t, "late").Counts.Sent, "nothing is sent on a paused template")

	f.hook(t, templateEvent("spring_sale", "pt_BR", "REINSTATED"))
	f.waitState(t, "late", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 10, f.Status(t, "late").Counts.Sent)
	f.campaignFor(t, "after", "spring_sale", recipients(900, 5), nil)
	f.waitState(t, "after", campaign.StateCompleted, 30*time.Second)
}

// templateEvent is a message_template_status_update webhook of the fleet's
// WABA.
func templateEvent(name, language, event string) string {
	return fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[{"field":"message_template_status_update",
"value":{"event":%q,"message_template_id":1,"message_template_name":%q,"message_template_language":%q,"reason":"LOW_QUALITY"}}]}]}`,
		waba, time.Now().Unix(), event, name, language)
}

// ACCOUNT_VIOLATION pauses every campaign of the sender, running or new,
// with at most one POST after it; resuming the sender resumes them.
func TestProtection_AccountViolationPausesSender(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(10))
	a, b := recipients(700, 40), recipients(800, 40)
	f.campaignFor(t, "a", "spring_sale", a, nil)
	f.campaignFor(t, "b", "spring_sale", b, nil)
	require.Eventually(t, func() bool { return f.accepted() >= 5 }, 30*time.Second, 10*time.Millisecond)

	f.hook(t, fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":%q,"time":%d,"changes":[{"field":"account_update",
"value":{"event":"ACCOUNT_VIOLATION","waba_info":{"waba_id":%q}}}]}]}`, waba, time.Now().Unix(), waba))
	atHook := f.Fake.Stats().Requests
	for _, id := range []string{"a", "b"} {
		st := f.Status(t, id)
		require.Equal(t, campaign.StatePaused, st.State)
		require.True(t, strings.HasPrefix(st.PausedReason, "sender_paused"), st.PausedReason)
	}
	f.campaignFor(t, "c", "spring_sale", recipients(900, 5), nil)
	require.Eventually(t, func() bool { return f.Status(t, "c").State == campaign.StatePaused }, 30*time.Second, 20*time.Millisecond,
		"a new campaign of the paused sender pauses at its first claim")
	time.Sleep(time.Second)
	require.LessOrEqual(t, f.Fake.Stats().Requests-atHook, int64(1), "at most one POST after the condition is known")

	code, senders := f.request(t, "GET", "/v1/senders", "")
	require.Equal(t, 200, code)
	s0 := senders["senders"].([]any)[0].(map[string]any)
	require.Equal(t, "paused", s0["state"])
	require.Equal(t, "webhook", s0["paused_by"])

	code, _ = f.request(t, "POST", "/v1/senders/nosuch/resume", "")
	require.Equal(t, 404, code)
	code, _ = f.request(t, "POST", "/v1/senders/default/resume", "")
	require.Equal(t, 200, code)
	for _, id := range []string{"a", "b", "c"} {
		f.waitState(t, id, campaign.StateCompleted, 60*time.Second)
	}
	require.EqualValues(t, 85, f.accepted(), "each recipient sent once")
}

// A messaging limit of 250 with 300 new recipients: 250 POSTs, 50 waiting
// (the campaign says why), sent once the window frees places.
func TestProtection_MessagingLimit(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	cfg := f.workerConfig(1000)
	cfg.Concurrency = 50
	cfg.Senders[0].MessagingLimit = 250
	cfg.LimitWindow = 4 * time.Second
	f.startWorker(t, cfg)
	f.campaignFor(t, "big", "spring_sale", recipients(1000, 300), nil)

	require.Eventually(t, func() bool { return f.accepted() >= 250 }, 30*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		w := f.Status(t, "big").Waiting
		return w != nil && w.Reason == campaign.WaitMessagingLimit
	}, 30*time.Second, 20*time.Millisecond, "the campaign says it waits for the messaging limit")
	st := f.waitState(t, "big", campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, 300, st.Counts.Sent)
	times := f.Fake.AcceptedTimes("")
	require.Len(t, times, 300, "one POST per recipient")
	// The k-th recipient beyond the limit went out only once the (k-250)-th
	// left the window (its reach is taken at its claim, just before its
	// POST: a second of slack for a busy machine; without the limit all 300
	// go out within a fraction of a second).
	sortTimes(times)
	for i := 250; i < len(times); i++ {
		require.GreaterOrEqual(t, times[i].Sub(times[i-250]), cfg.LimitWindow-time.Second, "send %d", i)
	}
}

func sortTimes(ts []time.Time) { slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) }) }

// A recipient the API refuses (an error answer: no message exists) does not
// keep its place in the messaging limit's window: the next recipient takes
// it. With a limit of 3 and 10 new recipients, 8 of them refused 131026,
// sent one at a time: all 10 are tried within the window and the other 2
// sent. The refused ones used to hold their places for the whole window,
// and the campaign waited for them.
func TestProtection_RefusedSendsFreeTheirMessagingLimitPlace(t *testing.T) {
	t.Parallel()
	tos := recipients(2000, 10)
	refused := map[string]int{}
	for _, to := range tos[1:9] {
		refused[to] = 131026
	}
	f := newFleet(t, fakeapi.Config{FailRecipients: refused})
	cfg := f.workerConfig(100)
	cfg.Concurrency = 1
	cfg.Senders[0].MessagingLimit = 3
	cfg.LimitWindow = time.Hour
	f.startWorker(t, cfg)
	f.campaignFor(t, "few", "spring_sale", tos, nil)

	st := f.waitState(t, "few", campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, 2, st.Counts.Sent)
	require.EqualValues(t, 8, st.Counts.Failed)
	reached, err := f.R.Client.ZRange(f.Ctx, f.R.Keys.Reach(cfg.Senders[0].LimitScope()), 0, -1).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{tos[0], tos[9]}, reached, "only the recipients sent hold a place")
}

// A place given back wakes a job that waits for the messaging limit: with
// a limit of 1, a second campaign's recipient, claimed while the first
// campaign's is in flight, waits (for an hour); the first is refused, and
// the second is sent at once rather than after the window.
func TestProtection_RefusedSendWakesAJobWaitingForTheLimit(t *testing.T) {
	t.Parallel()
	tos := recipients(2100, 2)
	f := newFleet(t, fakeapi.Config{FailRecipients: map[string]int{tos[0]: 131026},
		Latency: fakeapi.Duration(1500 * time.Millisecond)})
	cfg := f.workerConfig(100)
	cfg.HTTPTimeout = 5 * time.Second
	cfg.ShutdownTimeout = 10 * time.Second
	cfg.Senders[0].MessagingLimit = 1
	cfg.LimitWindow = time.Hour
	f.startWorker(t, cfg)
	f.campaignFor(t, "first", "spring_sale", tos[:1], nil)
	require.Eventually(t, func() bool { return f.Fake.Stats().Requests == 1 }, 30*time.Second, 5*time.Millisecond)
	f.campaignFor(t, "second", "spring_sale", tos[1:], nil)

	st := f.waitState(t, "second", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, 1, st.Counts.Sent)
	require.EqualValues(t, 1, f.waitState(t, "first", campaign.StateCompleted, 30*time.Second).Counts.Failed)
}

// Meta counts a messaging limit in recipients it delivered to: a message
// that fails after it was accepted (a failed status webhook: 131049,
// 131026) reached no one, and gives its place back, waking a job that
// waits for the limit; a message delivered keeps its place even when a
// failed status comes after. With a limit of 2 and an hour's window, the
// second campaign's recipient waits until the first campaign's first
// message fails, then is sent at once.
func TestProtection_AFailedStatusFreesItsMessagingLimitPlace(t *testing.T) {
	t.Parallel()
	tos := recipients(2200, 3)
	f := newFleet(t, fakeapi.Config{})
	cfg := f.workerConfig(100)
	cfg.Senders[0].MessagingLimit = 2
	cfg.LimitWindow = time.Hour
	f.startWorker(t, cfg)
	f.campaignFor(t, "first", "spring_sale", tos[:2], nil)
	require.EqualValues(t, 2, f.waitState(t, "first", campaign.StateCompleted, 30*time.Second).Counts.Sent)
	scope := cfg.Senders[0].LimitScope()
	f.campaignFor(t, "second", "spring_sale", tos[2:], nil)
	require.Eventually(t, func() bool {
		return f.R.Client.ZCard(f.Ctx, f.R.Keys.LimitWaiters(scope)).Val() == 1 && f.R.Client.ZCard(f.Ctx, f.R.Keys.AsynqRetry()).Val() == 1
	}, 30*time.Second, 10*time.Millisecond, "the second campaign's recipient waits for a place, in asynq's retry set")

	first := f.resultsOf(t, "first", 2)
	delivered := first[tos[1]].WAMID // then failed, in the same webhook: the place stays
	f.hook(t, statusWebhook(hookStatus{delivered, tos[1], "delivered", 0}, hookStatus{delivered, tos[1], "failed", 131026}))
	f.hook(t, failedStatus(first[tos[0]].WAMID, tos[0], 131049))

	st := f.waitState(t, "second", campaign.StateCompleted, 30*time.Second) // not after the hour
	require.EqualValues(t, 1, st.Counts.Sent)
	reached, err := f.R.Client.ZRange(f.Ctx, f.R.Keys.Reach(scope), 0, -1).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{tos[1], tos[2]}, reached, "the failed message's recipient holds no place")
}
