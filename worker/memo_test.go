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

// handWorker is a worker that is not started, with lim as its limiter: the
// test runs jobs on it itself.
func (b *bundle) handWorker(t *testing.T, lim *countingLimiter) *worker.Worker {
	t.Helper()
	cfg := b.config()
	cfg.Limiter = lim
	w, err := worker.New(cfg)
	require.NoError(t, err)
	t.Cleanup(w.Shutdown)
	return w
}

// countingLimiter hands out every slot at once and counts them, and those
// given back unused.
type countingLimiter struct{ reserved, unused atomic.Int64 }

func (l *countingLimiter) Unused(string, time.Time) { l.unused.Add(1) }

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
	lim := &countingLimiter{}
	w := b.handWorker(t, lim)
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

// A job the claim holds (here its campaign is paused) gives its slot back:
// a held recipient costs the sender none of its rate. A job that sends
// keeps its slot.
func TestWorker_HeldJobGivesItsSlotBack(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{ID: "held"})
	const to = "447700900124"
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(c.ID), "enqueued", 1).Err())
	_, err := b.Store.Campaigns.Pause(b.Ctx, c.ID, "test")
	require.NoError(t, err)
	lim := &countingLimiter{}
	w := b.handWorker(t, lim)

	p, err := json.Marshal(task.Send{Campaign: c.ID, To: to})
	require.NoError(t, err)
	job := asynq.NewTask(task.TypeSend, p)
	_ = w.ProcessTask(b.Ctx, job) // parked
	require.EqualValues(t, 1, lim.reserved.Load())
	require.EqualValues(t, 1, lim.unused.Load(), "the held job gave its slot back")
	require.Zero(t, b.Fake.Sends(to))

	_, err = b.Store.Campaigns.Resume(b.Ctx, c.ID)
	require.NoError(t, err)
	require.NoError(t, w.ProcessTask(b.Ctx, job))
	require.Equal(t, 1, b.Fake.Sends(to))
	require.EqualValues(t, 2, lim.reserved.Load())
	require.EqualValues(t, 1, lim.unused.Load(), "a job that sent keeps its slot")
}
