package worker_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

// countingLimiter hands out every slot at once and counts them.
type countingLimiter struct{ reserved atomic.Int64 }

func (l *countingLimiter) Reserve(context.Context, string, time.Duration) (time.Duration, bool, error) {
	l.reserved.Add(1)
	return 0, true, nil
}
func (l *countingLimiter) Throttled(context.Context, string, time.Duration)    {}
func (l *countingLimiter) Rate(string) float64                                 { return 1000 }
func (l *countingLimiter) Held(context.Context, string) (time.Duration, error) { return 0, nil }

// A job that skipped its slot because the memo said its campaign was
// cancelled, while Redis says it is not (the cancel was lost in a failover),
// takes nothing and goes back; run again, it takes a slot and sends once.
func TestWorker_WrongCancelMemoNeverSendsWithoutASlot(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{ID: "lost-cancel"})
	const to = "447700900123"
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(c.ID), "enqueued", 1).Err())
	_, err := b.Store.Campaigns.Seal(b.Ctx, c.ID)
	require.NoError(t, err)
	cfg := b.config()
	lim := &countingLimiter{}
	cfg.Limiter = lim
	w, err := worker.New(cfg) // not started: the test runs the job itself
	require.NoError(t, err)
	t.Cleanup(w.Shutdown)
	w.RememberCancelled(c.ID)

	p, err := json.Marshal(task.Send{Campaign: c.ID, To: to})
	require.NoError(t, err)
	job := asynq.NewTask(task.TypeSend, p)

	err = w.ProcessTask(b.Ctx, job)
	require.Equal(t, worker.ReasonRateLimit, worker.RescheduleReason(err), "back to the queue, without spending a retry: %v", err)
	require.Zero(t, lim.reserved.Load(), "no slot taken")
	require.Zero(t, b.Fake.Sends(to), "nothing sent")
	marker, err := b.R.Client.HExists(b.Ctx, b.R.Keys.Ledger(c.ID), to).Result()
	require.NoError(t, err)
	require.False(t, marker, "no claim marker left behind")

	require.NoError(t, w.ProcessTask(b.Ctx, job), "the memo was forgotten: the job takes its slot and sends")
	require.EqualValues(t, 1, lim.reserved.Load())
	require.Equal(t, 1, b.Fake.Sends(to))
	st := b.Status(t, c.ID)
	require.EqualValues(t, 1, st.Counts.Sent)
	require.Equal(t, campaign.StateCompleted, st.State)
}
