package e2e_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestPauseResume_NoDuplicatesNoSkips(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{Latency: fakeapi.Duration(5 * time.Millisecond)})
	f.startWorker(t, f.workerConfig(100))
	// At 100/s the pause below comes after about 60 of 600: the list would be
	// done before it only if it came 5 s late.
	tos := f.submit(t, "c1", 600)
	// A worker that ignored the pause would send about 150 in its 1.5 s.
	st, atPause := f.pauseQuietly(t, "c1", 60, 1500*time.Millisecond)
	require.Equal(t, "operator: paused by the operator", st.PausedReason)
	require.Less(t, atPause, int64(len(tos)))

	resumed, _ := f.resumeToCompletion(t, "c1", tos)
	require.Equal(t, campaign.StateRunning, resumed.State)
	require.Len(t, f.Results(t), len(tos))

	code, _ := f.call(t, "POST", "/v1/campaigns/c1/pause")
	require.Equal(t, 409, code, "a completed campaign cannot be paused")
}

func TestCancel_NothingSentAfterItReturns(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{Latency: fakeapi.Duration(20 * time.Millisecond)})
	w := f.startWorker(t, f.workerConfig(50))
	// At 50/s the cancel below stops the list after about 30: more than 100
	// are cancelled unless the cancel came 5 s late.
	tos := f.submit(t, "c1", 400)
	require.Eventually(t, func() bool { return f.accepted() >= 30 }, 30*time.Second, 10*time.Millisecond)

	code, st := f.call(t, "POST", "/v1/campaigns/c1/cancel")
	require.Equal(t, 200, code)
	require.Equal(t, campaign.StateCancelled, st.State)
	atCancel := f.Fake.Stats().Requests

	st = f.waitState(t, "c1", campaign.StateCancelled, time.Minute)
	require.Equal(t, atCancel, f.Fake.Stats().Requests, "not one POST after cancel returned")
	require.EqualValues(t, len(tos), st.Counts.Sent+st.Counts.Cancelled)
	require.Equal(t, f.accepted(), st.Counts.Sent)
	require.Greater(t, st.Counts.Cancelled, int64(100), "the rest did not wait for their slots")
	// The cancelled jobs did not take rate-limit slots first (the worker's
	// wait histogram counts a slot taken): about one per send, not 400.
	// Jobs that came due before the worker saw the cancel (its memo is
	// read again after half a second; longer on a loaded CI machine, where
	// Sent + 100 was once exceeded) may have taken one: most did not.
	slots := histogramCount(t, w.Gatherer(), "mmlite_ratelimit_wait_seconds")
	require.Less(t, slots, uint64(st.Counts.Sent+st.Counts.Cancelled/2), "cancelled jobs took rate-limit slots before seeing the cancel")

	byTo := map[string]string{}
	for _, r := range f.Results(t) {
		require.Empty(t, byTo[r.To], "one result per recipient")
		byTo[r.To] = r.Status
	}
	require.Len(t, byTo, len(tos))
	// The event is enqueued after the settle that finished the campaign, so
	// it may come a moment after the state.
	var info *asynq.TaskInfo
	require.Eventually(t, func() bool {
		var err error
		info, err = f.Inspector.GetTaskInfo(f.R.Results, "campaign:c1:cancelled")
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the campaign's end is announced")
	require.Equal(t, task.TypeCampaign, info.Type)
}

func TestPausedThenCancelled(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(200))
	tos := f.submit(t, "c1", 100)
	code, _ := f.call(t, "POST", "/v1/campaigns/c1/pause")
	require.Equal(t, 200, code)
	time.Sleep(time.Second) // the jobs come due and are put aside
	code, _ = f.call(t, "POST", "/v1/campaigns/c1/cancel")
	require.Equal(t, 200, code)
	st := f.waitState(t, "c1", campaign.StateCancelled, 30*time.Second)
	require.EqualValues(t, len(tos), st.Counts.Sent+st.Counts.Cancelled)
	code, _ = f.call(t, "POST", "/v1/campaigns/c1/resume")
	require.Equal(t, 409, code)
}

func TestAutoPause_TemplateMissing(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{Templates: []string{"not_ours"}}) // every send: 132001
	cfg := f.workerConfig(100)
	cfg.Concurrency = 1
	f.startWorker(t, cfg)
	tos := f.submit(t, "c1", 50)
	st := f.waitState(t, "c1", campaign.StatePaused, 20*time.Second)
	require.Contains(t, st.PausedReason, "campaign_fatal: code 132001")
	time.Sleep(500 * time.Millisecond)
	require.EqualValues(t, 1, f.Fake.Stats().Requests, "the rest did not burn through the API")

	require.NoError(t, f.Fake.SetConfig(fakeapi.Config{Keys: []string{apiKey}})) // the template is fixed
	code, _ := f.call(t, "POST", "/v1/campaigns/c1/resume")
	require.Equal(t, 200, code)
	st = f.waitState(t, "c1", campaign.StateCompleted, 30*time.Second)
	require.EqualValues(t, len(tos), st.Counts.Sent)
	require.Zero(t, f.Fake.Stats().Duplicates)
}

func TestAutoPause_FailureRatio(t *testing.T) {
	t.Parallel()
	tosPreview := make(map[string]int)
	for i := range 200 {
		if i%10 < 7 { // 70 % of the list cannot be reached
			tosPreview[testkit.To(i)] = 131026
		}
	}
	f := newFleet(t, fakeapi.Config{FailRecipients: tosPreview})
	cfg := f.workerConfig(200)
	cfg.PauseMinSends = 20
	f.startWorker(t, cfg)
	f.submit(t, "c1", 200)
	st := f.waitState(t, "c1", campaign.StatePaused, 20*time.Second)
	require.Contains(t, st.PausedReason, "failure_ratio:")
	require.Equal(t, 131026, st.Error.Code)
	require.Less(t, st.Counts.Final(), int64(100), "paused early, not after the whole list")
}

// A cancel cut short after its state change (the client gave up while it
// waited for a send in flight) is finished by the workers' housekeeping,
// with nobody calling again: the jobs waiting at their slots (send_at an
// hour away) are made due and reported cancelled in seconds, and the
// campaign ends (found in review: they waited for their slots).
func TestCancel_CutShortIsFinishedByHousekeeping(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	sendAt := time.Now().Add(time.Hour)
	c := &campaign.Campaign{ID: "later", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}, SendAt: &sendAt}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	sum, err := f.p.Enqueue(f.Ctx, c, producer.NewCSVSource(strings.NewReader("to\n447700900001\n447700900002\n447700900003\n")), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 3, sum.Accepted)
	_, err = f.p.Seal(f.Ctx, "later")
	require.NoError(t, err)

	// A send of the campaign in flight, with a live lease: the cancel waits
	// for it, and its client gives up.
	k := f.R.Keys
	inFlight := "later:447700900009"
	require.NoError(t, f.R.Client.LPush(f.Ctx, k.AsynqActive(), inFlight).Err())
	require.NoError(t, f.R.Client.ZAdd(f.Ctx, k.AsynqLease(), redis.Z{Score: float64(time.Now().Add(time.Minute).Unix()), Member: inFlight}).Err())
	ctx, cancel := context.WithTimeout(f.Ctx, 200*time.Millisecond)
	defer cancel()
	_, err = f.p.Cancel(ctx, "later")
	require.Error(t, err)
	require.Equal(t, campaign.StateCancelled, f.Status(t, "later").State)
	require.NoError(t, f.R.Client.LRem(f.Ctx, k.AsynqActive(), 0, inFlight).Err())
	require.NoError(t, f.R.Client.ZRem(f.Ctx, k.AsynqLease(), inFlight).Err())

	cfg := f.workerConfig(100)
	cfg.HousekeepingInterval = 50 * time.Millisecond
	f.startWorker(t, cfg)
	st := f.waitState(t, "later", campaign.StateCancelled, 15*time.Second)
	require.EqualValues(t, 3, st.Counts.Cancelled, "every job made due and reported cancelled")
	require.Zero(t, f.Fake.Stats().Requests)
	left, err := f.R.Client.SCard(f.Ctx, k.Cancelling()).Result()
	require.NoError(t, err)
	require.Zero(t, left, "the cancel is done: housekeeping lets it go")
}
