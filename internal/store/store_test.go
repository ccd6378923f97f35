package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

type bundle struct {
	r     *redistest.Redis
	store *store.Store
	ctx   context.Context
}

func setup(t *testing.T) *bundle {
	t.Helper()
	r := redistest.New(t)
	return &bundle{r: r, store: store.New(r.Client, r.Keys, store.Options{}), ctx: context.Background()}
}

func (b *bundle) register(t *testing.T, id string, enqueued int) {
	t.Helper()
	c := valid()
	c.ID = id
	c.Normalize()
	r, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	require.True(t, r.Created)
	require.NoError(t, b.r.Client.HIncrBy(b.ctx, b.r.Keys.Campaign(id), "enqueued", int64(enqueued)).Err())
	_, err = b.store.Campaigns.Seal(b.ctx, id) // every recipient is in
	require.NoError(t, err)
}

func TestStore_Register(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := valid()
	c.Normalize()
	r, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	require.True(t, r.Created)
	require.False(t, r.Paused)
	r, err = b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	require.False(t, r.Created, "the same definition again is a no-op")

	other := c
	other.Template.Name = "other"
	_, err = b.store.Campaigns.Register(b.ctx, &other)
	require.ErrorIs(t, err, campaign.ErrConflict)

	got, err := b.store.Campaigns.Get(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, c.Template.Name, got.Template.Name)
	_, err = b.store.Campaigns.Get(b.ctx, "nope")
	require.ErrorIs(t, err, campaign.ErrNotFound)
	_, err = b.store.Campaigns.Status(b.ctx, "nope")
	require.ErrorIs(t, err, campaign.ErrNotFound)

	ttl, err := b.r.Client.TTL(b.ctx, b.r.Keys.Ledger(c.ID)).Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 50*24*time.Hour, "state expires after lifetime plus retention")

	st, err := b.store.Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, st.State)
	require.Equal(t, "default", st.Sender)
	require.NotNil(t, st.CreatedAt)
}

func TestStore_ScheduledState(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := valid()
	later := time.Now().Add(time.Hour)
	c.SendAt = &later
	c.Normalize()
	_, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	st, err := b.store.Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.StateScheduled, st.State)
}

// A campaign without expires_at lives DefaultLifetime from its send_at,
// not from its creation: one scheduled further ahead than that kept its
// keys until before its jobs came due, and every recipient was then a bad
// job for want of its campaign (found in review).
func TestStore_AFarSendAtKeepsTheCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := valid()
	at := time.Now().Add(90 * 24 * time.Hour).Truncate(time.Second)
	c.SendAt = &at
	c.Normalize()
	_, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	for _, k := range []string{b.r.Keys.Campaign(c.ID), b.r.Keys.Ledger(c.ID)} {
		ttl := b.r.Client.TTL(b.ctx, k).Val()
		require.Greater(t, ttl, time.Until(at)+campaign.DefaultLifetime, "%s: kept for the campaign's lifetime from its send_at", k)
	}
	if b.r.Mini != nil { // 61 days on, 29 days before its send_at
		b.r.Mini.FastForward(61 * 24 * time.Hour)
		_, err := b.store.Campaigns.Get(b.ctx, c.ID)
		require.NoError(t, err)
	}
}

func TestLedger_SendOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 2)
	opts := store.ClaimOptions{StaleAfter: time.Minute}

	cl, err := b.store.Ledger.Claim(b.ctx, "c1", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 1, cl.Attempts)

	// A second attempt while the first is in flight must not send.
	cl2, err := b.store.Ledger.Claim(b.ctx, "c1", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.Busy, cl2.Verdict)
	require.Greater(t, cl2.RetryIn, 50*time.Second)

	res, err := b.store.Ledger.Settle(b.ctx, "c1", "441234567890", store.Outcome{Status: task.StatusSent, Attempts: 1, WAMID: "wamid.A", MessageStatus: "accepted"}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Recorded, res)

	cl3, err := b.store.Ledger.Claim(b.ctx, "c1", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.Final, cl3.Verdict)
	require.Equal(t, "wamid.A", cl3.Prior.WAMID)
	require.Equal(t, task.StatusSent, cl3.Prior.Status)

	res, err = b.store.Ledger.Settle(b.ctx, "c1", "441234567890", store.Outcome{Status: task.StatusFailed}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Duplicate, res, "an outcome is recorded once")

	v, err := b.r.Client.HGet(b.ctx, b.r.Keys.WAMID("wamid.A"), "c").Result()
	require.NoError(t, err)
	require.Equal(t, "c1\n441234567890", v)

	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Sent)
	require.EqualValues(t, 0, st.Counts.Failed)
	require.Equal(t, campaign.StateRunning, st.State)
}

func TestLedger_ReleaseAndStale(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 3)
	to := "441234567890"
	cl, err := b.store.Ledger.Claim(b.ctx, "c1", to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.NoError(t, b.store.Ledger.Release(b.ctx, "c1", to, cl.Attempts, 2, nil))
	cl, err = b.store.Ledger.Claim(b.ctx, "c1", to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 2, cl.Attempts, "attempts carry over a release")
	require.Equal(t, 2, cl.Delays)

	// With StaleAfter 0 the in-flight claim counts as abandoned.
	cl, err = b.store.Ledger.Claim(b.ctx, "c1", to, store.ClaimOptions{})
	require.NoError(t, err)
	require.Equal(t, store.Stale, cl.Verdict)
	require.Equal(t, 2, cl.Attempts)

	// At-least-once takes the stale claim over.
	cl, err = b.store.Ledger.Claim(b.ctx, "c1", to, store.ClaimOptions{AtLeastOnce: true})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 3, cl.Attempts)
	_, err = b.store.Ledger.Settle(b.ctx, "c1", to, store.Outcome{Status: task.StatusUnknown}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
}

func TestLedger_StateChecks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 1)
	key := b.r.Keys.Campaign("c1")
	opts := store.ClaimOptions{StaleAfter: time.Minute}

	require.NoError(t, b.r.Client.HSet(b.ctx, key, "state", "paused", "paused_reason", "operator").Err())
	cl, err := b.store.Ledger.Claim(b.ctx, "c1", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.Paused, cl.Verdict)
	require.Equal(t, "operator", cl.Reason)

	require.NoError(t, b.r.Client.HSet(b.ctx, key, "state", "cancelled").Err())
	cl, err = b.store.Ledger.Claim(b.ctx, "c1", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, cl.Verdict)

	cl, err = b.store.Ledger.Claim(b.ctx, "gone", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.NoCampaign, cl.Verdict)
	res, err := b.store.Ledger.Settle(b.ctx, "gone", "441234567890", store.Outcome{Status: task.StatusSent}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Gone, res)
	require.Zero(t, b.r.Client.Exists(b.ctx, b.r.Keys.Campaign("gone")).Val(), "settling a gone campaign writes nothing")

	// CheckOnly reports the state and takes nothing, however often.
	check := store.ClaimOptions{StaleAfter: time.Minute, CheckOnly: true}
	cl, err = b.store.Ledger.Claim(b.ctx, "c1", "441234567890", check)
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, cl.Verdict)
	require.NoError(t, b.r.Client.HSet(b.ctx, key, "state", "running").Err())
	for range 2 {
		cl, err = b.store.Ledger.Claim(b.ctx, "c1", "441234567890", check)
		require.NoError(t, err)
		require.Equal(t, store.Claimable, cl.Verdict)
	}
	require.Zero(t, b.r.Client.HExists(b.ctx, b.r.Keys.Ledger("c1"), "441234567890").Val(), "a check takes no marker")
	cl, err = b.store.Ledger.Claim(b.ctx, "c1", "441234567890", opts)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 1, cl.Attempts, "checks are not attempts")
}

// Counts are exact when many workers settle at once, and exactly one settle
// reports the campaign completed.
func TestLedger_ConcurrentCountsAndCompletion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const n = 300
	b.register(t, "c1", n)
	statuses := []string{task.StatusSent, task.StatusFailed, task.StatusExpired, task.StatusUnknown, task.StatusCancelled}
	var mu sync.Mutex
	completed := 0
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			to := fmt.Sprintf("4412345%05d", i)
			cl, err := b.store.Ledger.Claim(b.ctx, "c1", to, store.ClaimOptions{StaleAfter: time.Minute})
			require.NoError(t, err)
			require.Equal(t, store.Claimed, cl.Verdict)
			for range 2 { // a second settle of the same recipient is a duplicate
				res, err := b.store.Ledger.Settle(b.ctx, "c1", to, store.Outcome{Status: statuses[i%len(statuses)], Attempts: 1}, store.FailurePolicy{}, nil)
				require.NoError(t, err)
				if res == store.Completed {
					mu.Lock()
					completed++
					mu.Unlock()
				}
			}
		}(i)
	}
	wg.Wait()
	require.Equal(t, 1, completed)
	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, campaign.StateCompleted, st.State)
	require.NotNil(t, st.FinishedAt)
	require.Equal(t, task.Counts{Enqueued: n, Sent: n / 5, Failed: n / 5, Expired: n / 5, Unknown: n / 5, Cancelled: n / 5}, st.Counts)
}

func TestControl_Transitions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 2)
	tr, err := b.store.Campaigns.PauseAutomatically(b.ctx, "c1", "campaign_fatal: code 132001", &task.Error{Code: 132001, Title: "Template name does not exist"})
	require.NoError(t, err)
	require.True(t, tr.Changed)
	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Equal(t, "campaign_fatal: code 132001", st.PausedReason)
	require.Equal(t, 132001, st.Error.Code)
	require.NotNil(t, st.PausedAt)

	tr, err = b.store.Campaigns.Pause(b.ctx, "c1", "operator")
	require.NoError(t, err)
	require.False(t, tr.Changed, "pausing a paused campaign is a no-op")

	_, err = b.store.Campaigns.Resume(b.ctx, "c1")
	require.NoError(t, err)
	st, _ = b.store.Campaigns.Status(b.ctx, "c1")
	require.Equal(t, campaign.StateRunning, st.State)
	require.Empty(t, st.PausedReason)
	require.Nil(t, st.Error)

	tr, err = b.store.Campaigns.Cancel(b.ctx, "c1")
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, tr.From)
	_, err = b.store.Campaigns.Resume(b.ctx, "c1")
	require.ErrorIs(t, err, campaign.ErrState)
	_, err = b.store.Campaigns.Pause(b.ctx, "c1", "operator")
	require.ErrorIs(t, err, campaign.ErrState)
	tr, err = b.store.Campaigns.Cancel(b.ctx, "c1")
	require.NoError(t, err)
	require.False(t, tr.Changed)
	_, err = b.store.Campaigns.Pause(b.ctx, "nope", "operator")
	require.ErrorIs(t, err, campaign.ErrNotFound)

}

func TestSettle_FailureRatioPauses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 100)
	policy := store.FailurePolicy{Ratio: 0.5, MinSends: 10}
	settle := func(i int, status string) store.Settled {
		o := store.Outcome{Status: status}
		if status == task.StatusFailed {
			o.Error = &task.Error{Code: 131026, Class: "permanent", Title: "Message undeliverable"}
		}
		r, err := b.store.Ledger.Settle(b.ctx, "c1", fmt.Sprintf("4412345%05d", i), o, policy, nil)
		require.NoError(t, err)
		return r
	}
	for i := range 4 {
		require.Equal(t, store.Recorded, settle(i, task.StatusSent))
	}
	for i := 4; i < 8; i++ {
		require.Equal(t, store.Recorded, settle(i, task.StatusFailed), "fewer than 10 sends: no decision yet")
	}
	require.Equal(t, store.Recorded, settle(8, task.StatusSent))
	require.Equal(t, store.AutoPaused, settle(9, task.StatusFailed), "5 of 10 failed")
	st, _ := b.store.Campaigns.Status(b.ctx, "c1")
	require.Equal(t, campaign.StatePaused, st.State)
	require.Equal(t, "failure_ratio: 5 of the last 10 sends failed permanently (pause at 50%)", st.PausedReason)
	require.Equal(t, 131026, st.Error.Code)

	// After a resume the share counts again from zero.
	_, err := b.store.Campaigns.Resume(b.ctx, "c1")
	require.NoError(t, err)
	for i := 10; i < 18; i++ {
		require.Equal(t, store.Recorded, settle(i, task.StatusFailed))
	}
	require.Equal(t, store.Recorded, settle(18, task.StatusSent))
	require.Equal(t, store.AutoPaused, settle(19, task.StatusFailed))
	// A policy of zero never pauses.
	_, _ = b.store.Campaigns.Resume(b.ctx, "c1")
	for i := 20; i < 40; i++ {
		_, err := b.store.Ledger.Settle(b.ctx, "c1", fmt.Sprintf("4412345%05d", i), store.Outcome{Status: task.StatusFailed,
			Error: &task.Error{Class: "permanent"}}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	st, _ = b.store.Campaigns.Status(b.ctx, "c1")
	require.Equal(t, campaign.StateRunning, st.State)
}

func valid() campaign.Campaign {
	return campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
}

// Running reads every campaign of the index in one pipeline and keeps the
// running ones.
func TestStore_Running(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, id := range []string{"a", "b", "c"} {
		b.register(t, id, 1)
	}
	_, err := b.store.Campaigns.Pause(b.ctx, "b", "test")
	require.NoError(t, err)
	require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign("c")).Err()) // retired: still listed
	running, err := b.store.Campaigns.Running(b.ctx)
	require.NoError(t, err)
	require.Len(t, running, 1)
	require.Equal(t, "a", running[0].ID)
}

// A campaign registers paused under the first hold that is on, with the
// hold's reason, and is listed in its set; a hold that is off, or a
// campaign already there, changes nothing.
func TestRegister_Holds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	off := store.Hold{Key: b.r.Keys.Prefix() + "hold:off", Set: b.r.Keys.Prefix() + "held:off"}
	on := store.Hold{Key: b.r.Keys.Prefix() + "hold:on", Set: b.r.Keys.Prefix() + "held:on"}
	require.NoError(t, b.r.Client.Set(b.ctx, on.Key, "template_paused: LOW_QUALITY", time.Hour).Err())

	c := valid()
	c.ID = "free"
	c.Normalize()
	r, err := b.store.Campaigns.Register(b.ctx, &c, off)
	require.NoError(t, err)
	require.Equal(t, store.Registered{Created: true}, r)

	c.ID = "held"
	r, err = b.store.Campaigns.Register(b.ctx, &c, off, on)
	require.NoError(t, err)
	require.Equal(t, store.Registered{Created: true, Paused: true, Held: "template_paused: LOW_QUALITY"}, r)
	st, err := b.store.Campaigns.Status(b.ctx, "held")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Equal(t, "template_paused: LOW_QUALITY", st.PausedReason)
	ids, err := b.r.Client.SMembers(b.ctx, on.Set).Result()
	require.NoError(t, err)
	require.Equal(t, []string{"held"}, ids)

	c.ID = "free"
	r, err = b.store.Campaigns.Register(b.ctx, &c, on)
	require.NoError(t, err)
	require.Equal(t, store.Registered{}, r, "the same definition again: nothing changes")
	st, err = b.store.Campaigns.Status(b.ctx, "free")
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, st.State)
}

// A resume whose parked jobs get slots behind other campaigns' shows the
// first of them as next_send_at, waiting for the sender's backlog, not now
// (found in review: the resume moved only the last slot).
func TestUnpark_BehindABacklogShowsItsFirstSlot(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	to := "441234567890"
	require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.Parked("c"), redis.Z{Score: float64(time.Now().UnixMilli()), Member: to}).Err())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.AsynqRetry(), redis.Z{Score: float64(time.Now().Add(90 * 24 * time.Hour).Unix()), Member: "c:" + to}).Err())
	behind := time.Now().Add(time.Minute) // the sender's clock: other campaigns' slots up to then
	clock := b.r.Keys.Clock("s")
	require.NoError(t, b.r.Client.Set(b.ctx, clock, fmt.Sprintf("%d.000", behind.UnixMilli()), time.Hour).Err())
	u, err := b.store.Campaigns.Unpark(b.ctx, "c", store.Pace{Interval: 100 * time.Millisecond, Clock: clock, IdleTTL: time.Hour})
	require.NoError(t, err)
	require.EqualValues(t, 1, u.Moved)
	st, err := b.store.Campaigns.Status(b.ctx, "c")
	require.NoError(t, err)
	require.NotNil(t, st.NextSendAt)
	require.WithinDuration(t, behind, *st.NextSendAt, 2*time.Second, "next_send_at: the brought-back job's slot")
	require.NotNil(t, st.Waiting)
	require.Equal(t, campaign.WaitSenderBacklog, st.Waiting.Reason)
}

// A resume gives parked jobs no slot at or past the campaign's expiry:
// those that could not be sent before it are due at the expiry (reported
// expired then), and the sender's clock stops there (found in review:
// parked jobs got slots far past the expiry, and the sender's other
// campaigns waited behind them).
func TestUnpark_NoSlotPastTheExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 100)
	exp := time.Now().Add(5 * time.Second).Truncate(time.Second)
	for i := range 100 {
		to := fmt.Sprintf("4412345%05d", i)
		require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.Parked("c"), redis.Z{Score: float64(time.Now().UnixMilli()), Member: to}).Err())
		require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.AsynqRetry(), redis.Z{Score: float64(exp.Unix() + 1), Member: "c:" + to}).Err())
	}
	clock := b.r.Keys.Clock("s")
	u, err := b.store.Campaigns.Unpark(b.ctx, "c", store.Pace{Interval: time.Second, Clock: clock, IdleTTL: time.Hour, Expiry: exp.Unix()})
	require.NoError(t, err)
	require.EqualValues(t, 100, u.Moved)
	retry, err := b.r.Client.ZRangeWithScores(b.ctx, b.r.Keys.AsynqRetry(), 0, -1).Result()
	require.NoError(t, err)
	for _, z := range retry {
		require.LessOrEqual(t, z.Score, float64(exp.Unix()), "%s is due after the expiry", z.Member)
	}
	next, err := b.r.Client.Get(b.ctx, clock).Float64()
	require.NoError(t, err)
	require.Less(t, next, float64(exp.Add(time.Second).UnixMilli()), "the sender's clock runs past the expiry")
}
