package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// FinishCancel makes a cancelled campaign's jobs in the scheduled and
// retry sets due now, and no other's; it keeps the campaign listed while
// one of its jobs runs (that one may yet come back to the retry set) and
// lets it go once none does.
func TestFinishCancel_MakesDueUntilNoneRuns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 3)
	b.register(t, "other", 1)
	k := b.r.Keys
	later := float64(time.Now().Add(time.Hour).Unix())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, k.AsynqScheduled(), redis.Z{Score: later, Member: "c:1"}, redis.Z{Score: later, Member: "other:1"}).Err())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, k.AsynqRetry(), redis.Z{Score: later, Member: "c:2"}).Err())
	require.NoError(t, b.r.Client.LPush(b.ctx, k.AsynqActive(), "c:3").Err())

	done, err := b.store.Campaigns.FinishCancel(b.ctx, "c")
	require.NoError(t, err)
	require.True(t, done, "not cancelled: nothing to do")
	require.Equal(t, later, b.r.Client.ZScore(b.ctx, k.AsynqScheduled(), "c:1").Val(), "a running campaign's jobs keep their slots")

	_, err = b.store.Campaigns.Cancel(b.ctx, "c")
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, b.r.Client.SMembers(b.ctx, k.Cancelling()).Val(), "listed in the step that cancels it")
	done, err = b.store.Campaigns.FinishCancel(b.ctx, "c")
	require.NoError(t, err)
	require.False(t, done, "a job of it runs")
	now := float64(time.Now().Unix())
	require.LessOrEqual(t, b.r.Client.ZScore(b.ctx, k.AsynqScheduled(), "c:1").Val(), now)
	require.LessOrEqual(t, b.r.Client.ZScore(b.ctx, k.AsynqRetry(), "c:2").Val(), now)
	require.Equal(t, later, b.r.Client.ZScore(b.ctx, k.AsynqScheduled(), "other:1").Val(), "another campaign's job keeps its slot")
	ids, err := b.store.Campaigns.Cancelling(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, ids)

	// The job that ran fails and waits for its retry; nothing runs now.
	require.NoError(t, b.r.Client.LRem(b.ctx, k.AsynqActive(), 0, "c:3").Err())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, k.AsynqRetry(), redis.Z{Score: later, Member: "c:3"}).Err())
	done, err = b.store.Campaigns.FinishCancel(b.ctx, "c")
	require.NoError(t, err)
	require.True(t, done)
	require.LessOrEqual(t, b.r.Client.ZScore(b.ctx, k.AsynqRetry(), "c:3").Val(), float64(time.Now().Unix()))
	ids, err = b.store.Campaigns.Cancelling(b.ctx)
	require.NoError(t, err)
	require.Empty(t, ids)
}

// A resume that reads the parked jobs of a campaign cancelled meanwhile
// (the producer's resume, or the housekeeping that saw it running, racing
// the cancel) makes them due now, as the cancel does, and takes no slot of
// the sender: they are reported cancelled, without a send (found in
// review: they got slots behind the sender's backlog, reported cancelled
// only then, and held the sender's clock after the cancel gave its slots
// back).
func TestUnpark_ACancelledCampaignTakesNoSlot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	to := "441234567890"
	k := b.r.Keys
	require.NoError(t, b.r.Client.ZAdd(b.ctx, k.Parked("c"), redis.Z{Score: float64(time.Now().UnixMilli()), Member: to}).Err())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, k.AsynqRetry(), redis.Z{Score: float64(time.Now().Add(90 * 24 * time.Hour).Unix()), Member: "c:" + to}).Err())
	_, err := b.store.Campaigns.Cancel(b.ctx, "c")
	require.NoError(t, err)
	clock := k.Clock("s")
	behind := fmt.Sprintf("%d.000", time.Now().Add(time.Minute).UnixMilli()) // other campaigns' slots up to then
	require.NoError(t, b.r.Client.Set(b.ctx, clock, behind, time.Hour).Err())

	u, err := b.store.Campaigns.Unpark(b.ctx, "c", store.Pace{Interval: 100 * time.Millisecond, Clock: clock, IdleTTL: time.Hour})
	require.NoError(t, err)
	require.EqualValues(t, 1, u.Moved)
	require.LessOrEqual(t, b.r.Client.ZScore(b.ctx, k.AsynqRetry(), "c:"+to).Val(), float64(time.Now().Unix()), "due now")
	require.Equal(t, behind, b.r.Client.Get(b.ctx, clock).Val(), "the sender's clock is untouched")
	require.Zero(t, b.r.Client.HExists(b.ctx, k.Campaign("c"), "clock_end").Val(), "no slot to give back")
}
