package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// holdAsDeadWorker takes the queue's pending jobs as asynq's dequeue does
// (active list, lease until leaseEnd) for a worker that then never comes
// back. It returns their ids.
func (b *bundle) holdAsDeadWorker(t *testing.T, n int, leaseEnd time.Time) []string {
	t.Helper()
	return holdAsDeadWorker(t, b.R, n, leaseEnd)
}

func holdAsDeadWorker(t *testing.T, r *redistest.Redis, n int, leaseEnd time.Time) []string {
	t.Helper()
	ctx := context.Background()
	ids := make([]string, 0, n)
	for range n {
		id, err := r.Client.LMove(ctx, r.Keys.AsynqPending(), r.Keys.AsynqActive(), "RIGHT", "LEFT").Result()
		require.NoError(t, err)
		require.NoError(t, r.Client.HSet(ctx, r.Keys.AsynqTask(id), "state", "active").Err())
		require.NoError(t, r.Client.HDel(ctx, r.Keys.AsynqTask(id), "pending_since").Err())
		require.NoError(t, r.Client.ZAdd(ctx, r.Keys.AsynqLease(), redis.Z{Score: float64(leaseEnd.Unix()), Member: id}).Err())
		ids = append(ids, id)
	}
	return ids
}

// A worker died holding jobs: once their lease has ended, a live worker
// takes them over within seconds, not at asynq's recovery a minute later,
// and the claim marker decides what happens to each (here: the dead
// worker had POSTed to half of them, whose outcome is unknown).
func TestWorker_TakesOverJobsSecondsAfterTheirLeaseEnded(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(6)
	b.enqueue(t, sends(c.ID, tos)...)
	b.holdAsDeadWorker(t, len(tos), time.Now().Add(-worker.RecoverAfter-time.Second))
	// The dead worker had claimed (and maybe sent to) the first three.
	claimedAt := time.Now().Add(-time.Minute).UnixMilli()
	for _, to := range tos[:3] {
		require.NoError(t, b.R.Client.HSet(b.Ctx, b.R.Keys.Ledger(c.ID), to, fmt.Sprintf("C|1|%d|0", claimedAt)).Err())
	}
	start := time.Now()
	b.start(t, b.config())

	results := b.WaitResults(t, len(tos), 15*time.Second)
	t.Logf("taken over and finished in %s", time.Since(start).Round(10*time.Millisecond))
	for i, r := range results {
		if i < 3 {
			require.Equal(t, task.StatusUnknown, r.Status, "%s: the dead worker may have sent", r.To)
			require.Zero(t, b.Fake.Attempts(r.To), "no second POST for %s", r.To)
		} else {
			require.Equal(t, task.StatusSent, r.Status, "%s: never claimed, so sent now", r.To)
			require.Equal(t, 1, b.Fake.Attempts(r.To))
		}
	}
}

// A job whose lease has not ended (its worker may be alive) is left alone.
func TestRecover_LeavesLiveLeasesAlone(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, testkit.Recipients(3))...)
	now := time.Now()
	live := b.holdAsDeadWorker(t, 1, now.Add(20*time.Second))           // a live worker's lease
	recent := b.holdAsDeadWorker(t, 1, now.Add(-worker.RecoverAfter/2)) // ended, but within the clock skew allowed
	gone := b.holdAsDeadWorker(t, 1, now.Add(-worker.RecoverAfter-time.Second))

	n, err := worker.RecoverOnce(b.Ctx, b.R.Client, b.R.Queue, now)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	active, err := b.R.Client.LRange(b.Ctx, b.R.Keys.AsynqActive(), 0, -1).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{live[0], recent[0]}, active)
	pending, err := b.R.Client.LRange(b.Ctx, b.R.Keys.AsynqPending(), 0, -1).Result()
	require.NoError(t, err)
	require.Equal(t, gone, pending)
}

// A taken-over job goes back to pending as it was: its retries are not
// spent and asynq runs it again as any other job.
func TestRecover_KeepsTheJobAsItWas(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, testkit.Recipients(1))...)
	id := b.holdAsDeadWorker(t, 1, time.Now().Add(-time.Minute))[0]
	before, err := b.R.Client.HGet(b.Ctx, b.R.Keys.AsynqTask(id), "msg").Result()
	require.NoError(t, err)

	n, err := worker.RecoverOnce(b.Ctx, b.R.Client, b.R.Queue, time.Now())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	after, err := b.R.Client.HGet(b.Ctx, b.R.Keys.AsynqTask(id), "msg").Result()
	require.NoError(t, err)
	require.Equal(t, before, after, "the message (retry count, last error) is untouched")
	info, err := b.Inspector.GetTaskInfo(b.R.Queue, id)
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStatePending, info.State)
	require.Zero(t, info.Retried)
	lease, err := b.R.Client.ZCard(b.Ctx, b.R.Keys.AsynqLease()).Result()
	require.NoError(t, err)
	require.Zero(t, lease)
}

// Recoverers of several workers (and asynq's own) may race for the same
// jobs: each job goes back to pending exactly once.
func TestRecover_ConcurrentRecoverersMoveEachJobOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	const n = 250 // more than one batch
	b.enqueue(t, sends(c.ID, testkit.Recipients(n))...)
	ids := b.holdAsDeadWorker(t, n, time.Now().Add(-time.Minute))
	// Another recoverer already took one: it is in pending, not active,
	// while its lease entry is still there (as between asynq's list and move).
	require.NoError(t, b.R.Client.LRem(b.Ctx, b.R.Keys.AsynqActive(), 0, ids[0]).Err())
	require.NoError(t, b.R.Client.RPush(b.Ctx, b.R.Keys.AsynqPending(), ids[0]).Err())

	var wg sync.WaitGroup
	var mu sync.Mutex
	moved := 0
	for range 4 {
		wg.Go(func() {
			k, err := worker.RecoverOnce(context.Background(), b.R.Client, b.R.Queue, time.Now())
			require.NoError(t, err)
			mu.Lock()
			moved += k
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, n-1, moved)
	pending, err := b.R.Client.LRange(b.Ctx, b.R.Keys.AsynqPending(), 0, -1).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, ids, pending, "each job once")
	for _, k := range []string{b.R.Keys.AsynqActive(), b.R.Keys.AsynqLease()} {
		require.Zero(t, b.R.Client.Exists(b.Ctx, k).Val(), "%s is empty", k)
	}
}

// In Redis Cluster the recoverer's script touches only keys of the send
// queue's hash slot.
func TestRecover_RedisCluster(t *testing.T) {
	t.Parallel()
	r := redistest.NewURL(t, redistest.StartCluster(t, 3))
	ctx := context.Background()
	client := asynq.NewClientFromRedisClient(r.Client)
	for i := range 3 {
		_, err := client.Enqueue(asynq.NewTask(task.TypeSend, []byte("{}")), asynq.Queue(r.Queue), asynq.TaskID(fmt.Sprintf("c:%d", i)))
		require.NoError(t, err)
	}
	ids := holdAsDeadWorker(t, r, 3, time.Now().Add(-time.Minute))
	n, err := worker.RecoverOnce(ctx, r.Client, r.Queue, time.Now())
	require.NoError(t, err)
	require.Equal(t, 3, n)
	pending, err := r.Client.LRange(ctx, r.Keys.AsynqPending(), 0, -1).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, ids, pending)
}
