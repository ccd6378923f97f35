package worker_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorker_CampaignFatalPausesTheCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Templates: []string{"other_template"}}) // spring_sale does not exist: 132001
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(30)
	b.enqueue(t, sends(c.ID, tos)...)
	cfg := b.config()
	cfg.Concurrency = 1 // one send at a time, so that the first failure stops the rest
	var logs redistest.SyncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	b.start(t, cfg)

	require.Eventually(t, func() bool {
		retry, err := b.Inspector.ListRetryTasks(b.R.Queue, asynq.PageSize(100))
		return err == nil && len(retry) == len(tos)
	}, 20*time.Second, 20*time.Millisecond, "every job is parked")
	require.EqualValues(t, 1, b.Fake.Stats().Requests, "only the first recipient is sent to")
	st := b.Status(t, c.ID)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Contains(t, st.PausedReason, "campaign_fatal: code 132001 (HTTP 404)")
	require.Equal(t, 132001, st.Error.Code)
	require.Zero(t, st.Counts.Final(), "nobody failed: the campaign waits for the operator")
	require.Empty(t, b.Results(t))
	info, err := b.Inspector.GetTaskInfo(b.R.Results, "campaign:"+c.ID+":paused:"+strconv.FormatInt(st.PausedAt.UnixMilli(), 10))
	require.NoError(t, err, "upstream is told")
	require.Contains(t, string(info.Payload), `"reason":"campaign_fatal: code 132001`)
	require.Equal(t, 1, strings.Count(logs.String(), "campaign paused: every further send"), "one clear line per campaign")
	require.NotContains(t, logs.String(), tos[0], "phone numbers are masked in logs")
	require.NotContains(t, logs.String(), testKey)

	// The operator fixes the template and resumes: everyone is sent once.
	require.NoError(t, b.Fake.SetConfig(fakeapi.Config{Keys: []string{testKey}}))
	_, err = b.Store.Campaigns.Resume(b.Ctx, c.ID)
	require.NoError(t, err)
	_, err = b.Inspector.RunAllRetryTasks(b.R.Queue)
	require.NoError(t, err)
	for _, r := range b.WaitResults(t, len(tos), 20*time.Second) {
		require.Equal(t, task.StatusSent, r.Status)
		require.Equal(t, 1, b.Fake.Sends(r.To))
	}
	require.Equal(t, 2, b.Fake.Attempts(tos[0]), "the first recipient was tried again after the fix")
}

func TestWorker_BadJobsAreArchivedAndReported(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	enqueueRaw := func(typ, id string, payload []byte) {
		_, err := b.client.Enqueue(asynq.NewTask(typ, payload), asynq.Queue(b.R.Queue), asynq.TaskID(id))
		require.NoError(t, err)
		if strings.HasPrefix(id, c.ID+":") {
			require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(c.ID), "enqueued", 1).Err())
		}
	}
	enqueueRaw(task.TypeSend, c.ID+":441111111111", []byte(`{not json`))
	enqueueRaw(task.TypeSend, c.ID+":442222222222", []byte(`{"c":"`+c.ID+`","s":"nobody","to":"442222222222"}`))
	enqueueRaw(task.TypeSend, "no-such-campaign:443333333333", []byte(`{"c":"no-such-campaign","to":"443333333333"}`))
	enqueueRaw("mmlite:unknown", "other-1", []byte(`{}`))
	b.enqueue(t, sends(c.ID, []string{"444444444444"})...)
	b.start(t, b.config())

	results := b.WaitResults(t, 4, 20*time.Second)
	byTo := map[string]task.Result{}
	for _, r := range results {
		byTo[r.To] = r
	}
	require.Equal(t, task.StatusSent, byTo["444444444444"].Status, "the worker keeps working")
	for _, to := range []string{"441111111111", "442222222222", "443333333333"} {
		r := byTo[to]
		require.Equal(t, task.StatusFailed, r.Status, to)
		require.Equal(t, "bad_job", r.Error.Class, to)
	}
	require.Contains(t, byTo["442222222222"].Error.Title, `sender "nobody" is not configured`)
	require.Eventually(t, func() bool {
		archived, err := b.Inspector.ListArchivedTasks(b.R.Queue)
		return err == nil && len(archived) == 4
	}, 30*time.Second, 20*time.Millisecond) // generous, for a loaded machine
	require.Equal(t, 1, b.Fake.Stats().Recipients)
	require.Eventually(t, func() bool { return b.Status(t, c.ID).State == campaign.StateCompleted }, 30*time.Second, 20*time.Millisecond,
		"bad jobs count as failed, so the campaign can complete")
}

func TestWorker_ThrottlingSpendsNoRetries(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Seed: 3, Errors: []fakeapi.ErrorRule{{Share: 0.7, Code: 130429}}})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(10)
	for _, j := range sends(c.ID, tos) {
		p, _ := json.Marshal(j)
		_, err := b.client.Enqueue(asynq.NewTask(task.TypeSend, p), asynq.Queue(b.R.Queue), asynq.TaskID(task.SendID(c.ID, j.To)), asynq.MaxRetry(1))
		require.NoError(t, err)
	}
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(c.ID), "enqueued", int64(len(tos))).Err())
	b.start(t, b.config())
	for _, r := range b.WaitResults(t, len(tos), 60*time.Second) {
		require.Equal(t, task.StatusSent, r.Status, "throttled %d times with no retry to spend", r.Attempts-1)
	}
}

func TestWorker_MetaProvider(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{Sender: "meta"})
	s := &sender.Sender{ID: "meta", Provider: mmapi.ProviderMeta, BaseURL: b.FakeSrv.URL + "/v23.0", Rate: 100, Burst: 10, PhoneNumberID: "106540352242922"}
	s.SetKey(testKey)
	cfg := b.config()
	cfg.Senders = append(cfg.Senders, s)
	b.enqueue(t, task.Send{Campaign: c.ID, Sender: "meta", To: "441234567890"})
	b.start(t, cfg)
	r := b.WaitResults(t, 1, 20*time.Second)[0]
	require.Equal(t, task.StatusSent, r.Status)
	require.Equal(t, "meta", r.Sender)
}

func TestWorker_MetricsAndHealth(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, testkit.Recipients(3))...)
	w := b.start(t, b.config())
	b.WaitResults(t, 3, 20*time.Second)

	srv, err := httpserve.Listen("127.0.0.1:0", metrics.Mux(w.Gatherer(), w.Ready), httpserve.Timeouts{})
	require.NoError(t, err)
	go func() { _ = srv.Serve(b.Ctx, time.Second) }()
	// A result is written before it is counted, and the campaign event comes
	// after the last one: scrape until the worker got there (a wrong count
	// never matches).
	var body string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get("http://" + srv.Addr() + "/metrics")
		if !assert.NoError(c, err) {
			return
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		assert.NoError(c, err)
		body = string(raw)
		for _, want := range []string{
			`mmlite_messages_total{sender="default",status="sent"} 3`,
			`mmlite_api_requests_total{class="ok",sender="default"} 3`,
			`mmlite_api_request_duration_seconds_count{sender="default"} 3`,
			`mmlite_ratelimit_wait_seconds_bucket`,
			`asynq_queue_tasks{queue="` + b.R.Results + `",state="pending"} 4`, // 3 results and the campaign event
			`go_goroutines`,
		} {
			assert.True(c, strings.Contains(body, want), "/metrics has no %s", want)
		}
	}, 30*time.Second, 20*time.Millisecond)
	require.NotContains(t, body, "441234", "no phone number in any label")
	require.NotContains(t, body, c.ID, "no campaign id in any label")
	require.Equal(t, "ok\n", get(t, "http://"+srv.Addr()+"/healthz"))
	require.Equal(t, "ok\n", get(t, "http://"+srv.Addr()+"/readyz"))
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool check metrics: %s", out)
	} else {
		t.Log("promtool not installed: skipping promtool check metrics")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}

// 131056 (pair rate) delays only that recipient, by 4^n seconds, and
// spends none of its retries; the others go out at once.
func TestWorker_PairRateDelaysOnlyThatRecipient(t *testing.T) {
	t.Parallel()
	tos := testkit.Recipients(5)
	b := setup(t, fakeapi.Config{FailRecipients: map[string]int{tos[2]: 131056}})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, tos)...)
	b.start(t, b.config())

	results := b.WaitResults(t, 4, 20*time.Second)
	for _, r := range results {
		require.Equal(t, task.StatusSent, r.Status)
		require.NotEqual(t, tos[2], r.To)
	}
	var info *asynq.TaskInfo
	require.Eventually(t, func() bool {
		var err error
		info, err = b.Inspector.GetTaskInfo(b.R.Queue, task.SendID(c.ID, tos[2]))
		return err == nil && info.State == asynq.TaskStateRetry
	}, 30*time.Second, 20*time.Millisecond) // generous, for a loaded machine
	parked := time.Now()
	require.Zero(t, info.Retried, "no retry spent")
	require.Equal(t, 1, b.Fake.Attempts(tos[2]))
	// The job is due 4 s after its attempt failed, which was after the POST
	// arrived and before the job was seen parked, however long that took;
	// asynq keeps whole seconds, so it may be due up to 1 s earlier.
	// A 1 s or a 16 s delay falls outside.
	var posted time.Time
	for _, r := range b.Fake.Requests() {
		if r.To == tos[2] {
			posted = r.At
		}
	}
	require.True(t, info.NextProcessAt.After(posted.Add(3*time.Second)) && !info.NextProcessAt.After(parked.Add(4*time.Second)),
		"first delay 4^1 s: POST at %s, parked by %s, due at %s", posted.Format(time.StampMilli), parked.Format(time.StampMilli), info.NextProcessAt.Format(time.StampMilli))
	marker := b.R.Client.HGet(b.Ctx, b.R.Keys.Ledger(c.ID), tos[2]).Val()
	parts := strings.SplitN(marker, "|", 5)
	require.True(t, len(parts) == 5 && parts[0] == "R" && parts[1] == "1" && parts[3] == "1", "released, one delay so far: %s", marker)
	require.Contains(t, parts[4], `"code":131056`, "the marker keeps the last error")
}

// A recipient answered 131049 again after its cooldown fails: it does not
// wait a cooldown after every attempt for as long as its campaign lives
// (found in review: a campaign without expires_at never completed).
func TestWorker_UserCapTwiceFails(t *testing.T) {
	t.Parallel()
	tos := testkit.Recipients(3)
	b := setup(t, fakeapi.Config{FailRecipients: map[string]int{tos[1]: 131049}})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, tos)...)
	cfg := b.config()
	cfg.Cooldown = 2 * time.Second
	b.start(t, cfg)

	results := b.WaitResults(t, 3, 60*time.Second)
	for _, r := range results {
		if r.To != tos[1] {
			require.Equal(t, task.StatusSent, r.Status)
			continue
		}
		require.Equal(t, task.StatusFailed, r.Status)
		require.Equal(t, 131049, r.Error.Code)
	}
	require.Equal(t, 2, b.Fake.Attempts(tos[1]), "one attempt, one after the cooldown, no more")
}
