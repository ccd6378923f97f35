package worker_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

// A campaign-fatal answer that comes while Redis is down pauses the
// campaign once Redis answers again: the refused recipient waits with the
// others for the operator, and is sent after the resume. It was left
// claimed when the pause could not be written, and reported unknown (never
// sent) once its claim went stale, though the API had refused it.
func TestWorker_CampaignFatalDuringARedisOutagePausesOnceRedisIsBack(t *testing.T) {
	t.Parallel()
	r := redistest.NewURL(t, "")
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) > 1 {
			_, _ = w.Write([]byte(`{"messaging_product":"whatsapp","messages":[{"id":"wamid.ok"}]}`))
			return
		}
		// Redis goes down while the API answers, for longer than go-redis
		// retries a command.
		r.Mini.Close()
		go func() {
			time.Sleep(4 * time.Second)
			_ = r.Mini.Restart()
		}()
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"(#132001) Template name does not exist in the translation","code":132001}}`))
	}))
	defer api.Close()
	b := setupOn(t, r, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	to := testkit.To(1)
	b.enqueue(t, task.Send{Campaign: c.ID, To: to})
	cfg := b.config()
	cfg.Senders[0].BaseURL = api.URL
	b.start(t, cfg)

	var st *campaign.Status
	require.Eventually(t, func() bool {
		var err error
		st, err = b.Store.Campaigns.Status(b.Ctx, c.ID)
		return err == nil && st.State != campaign.StateRunning
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, campaign.StatePaused, st.State, "counts: %+v", st.Counts)
	require.Contains(t, st.PausedReason, "code 132001")
	require.Empty(t, b.Results(t), "the refused recipient waits with the campaign")

	_, err := b.Store.Campaigns.Resume(b.Ctx, c.ID)
	require.NoError(t, err)
	_, err = b.Inspector.RunAllRetryTasks(b.R.Queue)
	require.NoError(t, err)
	res := b.WaitResults(t, 1, 20*time.Second)
	require.Equal(t, task.StatusSent, res[0].Status)
	require.EqualValues(t, 2, calls.Load())
}

// A test send taken over while its first run is still in flight (its
// worker died or lost its lease: the recoverer hands its job back) is not
// sent again: the second run answers unknown. It was sent twice, being
// outside the ledger.
func TestWorker_TestSendTakenOverIsNotSentTwice(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			<-release // the first run's call hangs
		}
		_, _ = w.Write([]byte(`{"messaging_product":"whatsapp","messages":[{"id":"wamid.ok"}]}`))
	}))
	defer api.Close()
	defer close(release)
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	cfg := b.config()
	cfg.Senders[0].BaseURL = api.URL
	cfg.HTTPTimeout, cfg.ShutdownTimeout = time.Minute, 2*time.Minute
	b.start(t, cfg)
	p, err := json.Marshal(task.TestSend{Campaign: c.ID, Sender: "default", To: testkit.To(1)})
	require.NoError(t, err)
	tid := "test:" + c.ID + ":" + testkit.To(1) + ":1"
	_, err = b.client.Enqueue(asynq.NewTask(task.TypeTest, p), asynq.Queue(b.R.Queue), asynq.TaskID(tid),
		asynq.MaxRetry(0), asynq.Retention(time.Hour))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 10*time.Second, 10*time.Millisecond)

	// Its lease is taken for ended: the recoverer hands the job back.
	n, err := worker.RecoverOnce(b.Ctx, b.R.Client, b.R.Queue, time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	var ti *asynq.TaskInfo
	require.Eventually(t, func() bool {
		ti, err = b.Inspector.GetTaskInfo(b.R.Queue, tid)
		return err == nil && ti.State == asynq.TaskStateCompleted
	}, 10*time.Second, 10*time.Millisecond, "the second run answers while the first still waits")
	var res task.TestResult
	require.NoError(t, json.Unmarshal(ti.Result, &res))
	require.EqualValues(t, 1, calls.Load(), "one POST")
	require.Equal(t, task.StatusUnknown, res.Status)
}
