package e2e_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// failAfter is a go-redis hook that lets commands through until after the
// first script call (a state transition), then fails every later command:
// a control that Redis lets down between two of its steps.
type failAfter struct {
	scripts atomic.Int32
	limit   int32  // scripts that pass; the next commands fail
	once    bool   // fail only the first command past the limit
	only    string // fail only commands of this name (lower case)
	failed  atomic.Bool
}

var errInjected = errors.New("injected redis failure")

func (h *failAfter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *failAfter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *failAfter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := strings.ToLower(cmd.Name())
		if h.scripts.Load() >= h.limit && (!h.once || !h.failed.Load()) && (h.only == "" || h.only == name) {
			h.failed.Store(true)
			cmd.SetErr(errInjected)
			return errInjected
		}
		err := next(ctx, cmd)
		if name == "evalsha" || name == "eval" {
			h.scripts.Add(1)
		}
		return err
	}
}

// faultyProducer is a producer of the fleet whose Redis client goes through h.
func (f *fleet) faultyProducer(t *testing.T, h redis.Hook) *producer.Producer {
	t.Helper()
	c := redisconn.Client(f.R.Opt)
	c.AddHook(h)
	t.Cleanup(func() { _ = c.Close() })
	p, err := producer.New(producer.Config{Client: c, Queue: f.R.Queue, ResultsQueue: f.R.Results, CancelWait: 10 * time.Second})
	require.NoError(t, err)
	return p
}

// parkedJobs counts a campaign's jobs asleep in asynq's retry set far ahead.
func (f *fleet) parkedJobs(t *testing.T, id string) int {
	t.Helper()
	members, err := f.R.Client.ZRangeByScore(f.Ctx, f.R.Keys.AsynqRetry(), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10), Max: "+inf"}).Result()
	require.NoError(t, err)
	n := 0
	for _, m := range members {
		if strings.HasPrefix(m, id+":") {
			n++
		}
	}
	return n
}

// A resume that Redis lets down after the state changed, then a second
// resume: the second one must bring back every parked job.
func TestResume_FailedPartWayThenRepeatedConverges(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(50))
	tos := f.submit(t, "c1", 150)
	f.pauseQuietly(t, "c1", 10, 100*time.Millisecond)
	require.Eventually(t, func() bool { return f.parkedJobs(t, "c1") >= 5 }, 30*time.Second, 20*time.Millisecond,
		"paused jobs are put aside as they come due")

	faulty := f.faultyProducer(t, &failAfter{limit: 1})
	_, err := faulty.Resume(f.Ctx, "c1")
	require.Error(t, err, "the resume failed part-way")
	require.Equal(t, campaign.StateRunning, f.Status(t, "c1").State, "the state changed before the failure")

	_, err = f.p.Resume(f.Ctx, "c1")
	require.NoError(t, err)
	st := f.waitState(t, "c1", campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, len(tos), st.Counts.Sent)
	require.Zero(t, f.Fake.Stats().Duplicates)
}

// A per-recipient delay (131049: do not resend for 24 h) survives a pause
// and a resume: the resume brings back only the parked jobs.
func TestResume_KeepsPerRecipientDelays(t *testing.T) {
	t.Parallel()
	capped := testkit.To(0)
	f := newFleet(t, fakeapi.Config{FailRecipients: map[string]int{capped: 131049}})
	f.startWorker(t, f.workerConfig(50))
	tos := f.submit(t, "c1", 100)
	require.Eventually(t, func() bool { return f.Fake.Attempts(capped) == 1 }, 30*time.Second, 10*time.Millisecond)
	f.pauseQuietly(t, "c1", 5, 100*time.Millisecond)
	_, err := f.p.Resume(f.Ctx, "c1")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return f.Status(t, "c1").Counts.Sent == int64(len(tos)-1) }, 60*time.Second, 20*time.Millisecond)
	time.Sleep(time.Second) // a job pulled forward would run now: the forward interval is 100 ms
	require.Equal(t, 1, f.Fake.Attempts(capped), "the capped recipient waits its 24 h")
	require.Zero(t, f.Status(t, "c1").Counts.Failed)
	info, err := f.Inspector.GetTaskInfo(f.R.Queue, task.SendID("c1", capped))
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStateRetry, info.State)
	require.Greater(t, time.Until(info.NextProcessAt), 23*time.Hour)
}

// A job that runs again after the consumer drained the results queue does
// not emit a second result.
func TestResult_OncePerRecipientAfterTheConsumerDrained(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(200))
	tos := f.submit(t, "c1", 5)
	require.Eventually(t, func() bool { return len(f.Results(t)) == len(tos) }, 30*time.Second, 20*time.Millisecond)
	f.rerunAfterDrain(t, "c1", tos[0])
}

// rerunAfterDrain empties the results queue, as its consumer would, then
// runs the job of one recipient of a completed campaign again (as a
// recovered lease would): it must send nothing and emit no second result.
func (f *fleet) rerunAfterDrain(t *testing.T, id, to string) {
	t.Helper()
	gone := func() bool {
		_, err := f.Inspector.GetTaskInfo(f.R.Queue, task.SendID(id, to))
		return errors.Is(err, asynq.ErrTaskNotFound)
	}
	// asynq deletes a finished job just after its handler returned, which
	// may be after its result was emitted.
	require.Eventually(t, gone, 30*time.Second, 20*time.Millisecond, "the first run finished")
	_, err := f.Inspector.DeleteAllPendingTasks(f.R.Results)
	require.NoError(t, err)
	c := asynq.NewClientFromRedisClient(f.R.Client)
	defer c.Close()
	_, err = c.Enqueue(asynq.NewTask(task.TypeSend, []byte(`{"c":"`+id+`","to":"`+to+`"}`)), asynq.Queue(f.R.Queue),
		asynq.TaskID(task.SendID(id, to)))
	require.NoError(t, err)
	require.Eventually(t, gone, 30*time.Second, 20*time.Millisecond, "the job ran")
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, f.Results(t), "no second result")
	require.Equal(t, 1, f.Fake.Attempts(to))
}

// The onboarding webhook is redelivered after a resume failed: the
// redelivery resumes the waiting campaign.
func TestOnboarding_RedeliveryResumesAfterAFailedResume(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	strict := &sender.Sender{ID: "strict", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: "102290129340398", RequireOnboarding: true}
	f.publish(t, strict)
	c := &campaign.Campaign{ID: "waits", Sender: "strict", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, f.Status(t, "waits").State)

	api, err := httpapi.New(httpapi.Config{Producer: f.faultyProducer(t, &failAfter{only: "evalsha", once: true}), Token: apiToken,
		WebhookSecret: hookSecret, ResultsQueue: f.R.Results, Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	body, err := os.ReadFile("../testdata/fixtures/webhook_account_update_mm_lite_terms_signed.json")
	require.NoError(t, err)
	post := func() int {
		req, err := http.NewRequest("POST", srv.URL+"/webhooks/whatsapp", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("X-Webhook-Secret", hookSecret)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, 500, post(), "the resume failed: the provider will deliver again")
	require.Equal(t, 200, post())
	require.Equal(t, campaign.StateRunning, f.Status(t, "waits").State, "the redelivery resumed the campaign")
}

// The onboarding webhook arrives while a campaign of the sender is being
// registered: the campaign does not stay paused for good.
func TestOnboarding_DuringRegisterIsNotMissed(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	strict := &sender.Sender{ID: "strict", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: "102290129340398", RequireOnboarding: true}
	f.publish(t, strict)
	// Between the registration's onboarding check and what it does next,
	// the webhook is handled by another process.
	p := f.faultyProducer(t, &redistest.AfterFirst{Name: "hget", Fn: func() {
		_, err := f.p.Onboarded(f.Ctx, strict.WABAID, time.Now())
		require.NoError(t, err)
	}})
	c := &campaign.Campaign{ID: "racing", Sender: "strict", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := p.Register(f.Ctx, c)
	require.NoError(t, err)
	_, err = f.p.Onboarded(f.Ctx, strict.WABAID, time.Now()) // delivered again, later
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, f.Status(t, "racing").State)
}

// A campaign waiting for its WABA's onboarding while its template is paused
// (before its registration or after) does not start when the onboarding
// comes: it waits for the template, whose REINSTATED resumes it.
func TestOnboarding_WaitsForAPausedTemplate(t *testing.T) {
	t.Parallel()
	f, registerStrict := strictFleet(t)
	register := func(id string) {
		registerStrict(id)
		require.Equal(t, campaign.StatePaused, f.Status(t, id).State)
	}
	register("registered-first")
	f.hook(t, templateEvent("spring_sale", "pt_BR", "PAUSED"))
	register("registered-after")

	resumed, err := f.p.Onboarded(f.Ctx, waba, time.Now())
	require.NoError(t, err)
	require.Empty(t, resumed)
	for _, id := range []string{"registered-first", "registered-after"} {
		st := f.Status(t, id)
		require.Equal(t, campaign.StatePaused, st.State, id)
		require.True(t, strings.HasPrefix(st.PausedReason, campaign.PauseTemplate+":"), "%s: %s", id, st.PausedReason)
	}
	f.hook(t, templateEvent("spring_sale", "pt_BR", "REINSTATED"))
	for _, id := range []string{"registered-first", "registered-after"} {
		require.Equal(t, campaign.StateRunning, f.Status(t, id).State, id)
	}
}

// post does an authenticated API request with a body.
func (f *fleet) post(t *testing.T, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", f.api.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// campaignEvents reads the mmlite:campaign tasks of the results queue.
func (f *fleet) campaignEvents(t *testing.T) []task.CampaignEvent {
	t.Helper()
	return testkit.Pending[task.CampaignEvent](t, f.Inspector, f.R.Results, task.TypeCampaign)
}

// Three chunked uploads, with pauses between them and a pause and resume in
// the middle: exactly one completed, after the seal, and one result per
// recipient.
func TestSealedCompletion_ChunkedUploads(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(200))
	code, body := f.post(t, "/v1/campaigns", "application/json",
		`{"campaign": {"id": "chunks", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}}`)
	require.Equal(t, 202, code, body)
	chunk := func(first, n int) {
		var csv strings.Builder
		csv.WriteString("to\n")
		for i := range n {
			csv.WriteString(testkit.To(first+i) + "\n")
		}
		code, body := f.post(t, "/v1/campaigns/chunks/recipients", "text/csv", csv.String())
		require.Equal(t, 202, code, body)
	}
	allFinal := func(n int64) {
		require.Eventually(t, func() bool { return f.Status(t, "chunks").Counts.Final() == n }, 30*time.Second, 20*time.Millisecond)
	}

	chunk(0, 100)
	allFinal(100) // every recipient so far is final, but more may come
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, campaign.StateRunning, f.Status(t, "chunks").State, "not completed before the seal")
	require.Empty(t, f.campaignEvents(t))

	chunk(100, 200)
	f.pauseQuietly(t, "chunks", 110, 200*time.Millisecond)
	_, err := f.p.Resume(f.Ctx, "chunks")
	require.NoError(t, err)
	allFinal(300)
	chunk(300, 50)
	allFinal(350)
	require.Equal(t, campaign.StateRunning, f.Status(t, "chunks").State)

	sealedAt := time.Now()
	code, body = f.post(t, "/v1/campaigns/chunks/seal", "", "")
	require.Equal(t, 200, code, body)
	st := f.waitState(t, "chunks", campaign.StateCompleted, 30*time.Second)
	require.False(t, st.FinishedAt.Before(sealedAt.Add(-time.Second)), "completed after the seal")
	require.Eventually(t, func() bool { return len(f.campaignEvents(t)) == 1 }, 30*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	evs := f.campaignEvents(t)
	require.Len(t, evs, 1, "exactly one campaign event")
	require.Equal(t, string(campaign.StateCompleted), evs[0].State)
	require.EqualValues(t, 350, evs[0].Counts.Sent)

	byTo := map[string]int{}
	for _, r := range f.Results(t) {
		byTo[r.To]++
	}
	require.Len(t, byTo, 350)
	for to, n := range byTo {
		require.Equal(t, 1, n, "one result for %s", to)
	}
	require.Zero(t, f.Fake.Stats().Duplicates)

	// After the seal: a new recipient is refused, a duplicate is harmless.
	code, body = f.post(t, "/v1/campaigns/chunks/recipients", "text/csv", "to\n"+testkit.To(999)+"\n")
	require.Equal(t, 409, code, body)
	require.Contains(t, body, "campaign is sealed")
	code, body = f.post(t, "/v1/campaigns/chunks/recipients", "text/csv", "to\n"+testkit.To(0)+"\n")
	require.Equal(t, 202, code, body)
	require.Contains(t, body, `"duplicates":1`)
}

// strictFleet is a fleet whose sender "strict" requires onboarding (of
// WABA waba), and a function that registers a campaign of it, of template
// spring_sale pt_BR.
func strictFleet(t *testing.T) (*fleet, func(id string)) {
	t.Helper()
	f := newFleet(t, fakeapi.Config{})
	f.publish(t, &sender.Sender{ID: "strict", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: waba, RequireOnboarding: true})
	return f, func(id string) {
		t.Helper()
		c := &campaign.Campaign{ID: id, Sender: "strict", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
		_, err := f.p.Register(f.Ctx, c)
		require.NoError(t, err)
	}
}

// A campaign cancelled while it waits (for its WABA's onboarding, for a
// paused template, for a paused sender) leaves the lists of waiting
// campaigns, which nothing else would empty until the wait ends, if ever.
func TestCancel_LeavesTheWaitingLists(t *testing.T) {
	t.Parallel()
	f, register := strictFleet(t)
	register("onboarding")
	f.hook(t, templateEvent("spring_sale", "pt_BR", "PAUSED"))
	register("template")
	g := guard.New(f.R.Client, store.New(f.R.Client, f.R.Keys, store.Options{}), guard.Config{})
	_, err := g.PauseSender(f.Ctx, "strict", "test", 0, guard.SourceAPI)
	require.NoError(t, err)

	require.NotEmpty(t, f.waitingLists(t), "the campaigns wait")
	for _, id := range []string{"onboarding", "template"} {
		_, err := f.p.Cancel(f.Ctx, id)
		require.NoError(t, err)
	}
	require.Empty(t, f.waitingLists(t))
}

// waitingLists reads the lists of waiting campaigns (for a WABA's
// onboarding, a paused template or sender) that hold any.
func (f *fleet) waitingLists(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	keys, err := f.R.Client.Keys(f.Ctx, f.R.Keys.Onboarding("*")).Result()
	require.NoError(t, err)
	more, err := f.R.Client.Keys(f.Ctx, f.R.Keys.GuardPaused("*", "*")).Result()
	require.NoError(t, err)
	for _, k := range append(keys, more...) {
		ids, err := f.R.Client.SMembers(f.Ctx, k).Result()
		require.NoError(t, err)
		if len(ids) > 0 {
			out[k] = ids
		}
	}
	return out
}

// A campaign cancelled after its sender moved to another WABA leaves the
// lists it waits on, which the sender's settings no longer name, and
// lifting their conditions afterwards finds nothing of it.
func TestCancel_LeavesTheWaitingListsOfASenderSinceMoved(t *testing.T) {
	t.Parallel()
	f, register := strictFleet(t)
	register("onboarding")
	f.hook(t, templateEvent("spring_sale", "pt_BR", "PAUSED"))
	register("template")
	require.NotEmpty(t, f.waitingLists(t), "the campaigns wait")

	strict := &sender.Sender{ID: "strict", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: "another-waba", RequireOnboarding: true}
	f.publish(t, strict)
	// A new producer, as `mmlite campaign cancel` starts, reads the senders
	// as the workers publish them now.
	cli, err := producer.New(producer.Config{Client: f.R.Client, Queue: f.R.Queue, ResultsQueue: f.R.Results, CancelWait: 10 * time.Second})
	require.NoError(t, err)
	for _, id := range []string{"onboarding", "template"} {
		_, err := cli.Cancel(f.Ctx, id)
		require.NoError(t, err)
	}
	require.Empty(t, f.waitingLists(t))

	strict.WABAID = waba
	f.publish(t, strict)
	resumed, err := f.p.Onboarded(f.Ctx, waba, time.Now())
	require.NoError(t, err)
	require.Empty(t, resumed)
	f.hook(t, templateEvent("spring_sale", "pt_BR", "REINSTATED"))
	for _, id := range []string{"onboarding", "template"} {
		require.Equal(t, campaign.StateCancelled, f.Status(t, id).State, id)
	}
}
