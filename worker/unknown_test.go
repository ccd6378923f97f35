package worker_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const pnid, to = "106540352242922", "441234567890"

// A worker that died between resolving an unknown outcome (the counts moved
// to sent) and counting and emitting what its message's webhooks had said
// (the resolution event, the delivered status): the next housekeeping
// round, on any worker, does it, once.
func TestWorker_ResolutionCutShortIsReplayed(t *testing.T) {
	t.Parallel()
	b := resolvedNotReplayed(t)

	byStatus := b.housekept(t, 2, func(c task.Counts) bool { return c.Delivered == 1 })
	require.True(t, byStatus[task.StatusSent].Resolved)
	require.Equal(t, "wamid.A", byStatus[task.StatusSent].WAMID)
	require.Equal(t, to, byStatus["delivered"].To)
	require.NoError(t, b.R.Client.Del(b.Ctx, b.R.Keys.Janitor()).Err()) // another round now (see below)
	time.Sleep(300 * time.Millisecond)                                  // more rounds change nothing
	require.Len(t, testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus), 2)
	c := b.Status(t, "c1").Counts
	require.EqualValues(t, 1, c.Sent)
	require.EqualValues(t, 1, c.Delivered)
	require.Zero(t, c.Unknown)
}

// The resolution's event stands for its message's "sent" status: it says
// how Meta priced the message (pricing_category), as the sent webhook it
// stands for would have, so that a consumer watching for Cloud API
// fallbacks sees this message too.
func TestWorker_ResolutionEventCarriesItsPricing(t *testing.T) {
	t.Parallel()
	b := resolvedNotReplayed(t)

	byStatus := b.housekept(t, 2, func(c task.Counts) bool { return c.Delivered == 1 })
	require.True(t, byStatus[task.StatusSent].Resolved)
	require.Equal(t, "marketing_lite", byStatus[task.StatusSent].PricingCategory)
	require.Equal(t, "marketing_lite", byStatus["delivered"].PricingCategory)
}

// resolvedNotReplayed has campaign c1's one recipient resolved from
// unknown to sent as wamid.A, whose sent and delivered statuses came while
// the wamid was unknown: a worker died before it counted and emitted them.
func resolvedNotReplayed(t *testing.T) *bundle {
	t.Helper()
	b, st := claimedOne(t)
	_, err := st.Ledger.Settle(b.Ctx, "c1", to, store.Outcome{Status: task.StatusUnknown, Attempts: 1, PhoneNumberID: pnid,
		Error: &task.Error{Class: "ambiguous", Title: "timeout"}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	at := time.Now().Add(time.Second).Unix()
	for _, s := range []string{task.StatusSent, "delivered"} {
		_, err := st.Deliveries.KeepUnmatched(b.Ctx, []store.Unmatched{{PhoneNumberID: pnid, To: to,
			Delivery: store.Delivery{WAMID: "wamid.A", Status: s, Category: "marketing_lite", At: at}}})
		require.NoError(t, err)
	}
	// The dead worker's round: the resolution is recorded, and the worker
	// dies before it counts and emits anything.
	m, err := st.Ledger.MatchUnknowns(b.Ctx, 100)
	require.NoError(t, err)
	require.Len(t, m.Resolved, 1)
	require.EqualValues(t, 1, b.Status(t, "c1").Counts.Sent)

	return b
}

// A replay done again after its tasks were consumed (the worker died
// before it dropped the resolution, or could not drop it) emits nothing
// again and counts nothing twice: each event is emitted in the step that
// records it, once.
func TestWorker_ReplayAgainEmitsNothingTwice(t *testing.T) {
	t.Parallel()
	b := resolvedNotReplayed(t)
	kept, err := b.R.Client.HGetAll(b.Ctx, b.R.Keys.Replays()).Result()
	require.NoError(t, err)
	require.Len(t, kept, 1)
	cfg := b.config()
	cfg.HousekeepingInterval = 50 * time.Millisecond
	b.start(t, cfg)
	require.Eventually(t, func() bool {
		return len(testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus)) == 2
	}, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return b.R.Client.HLen(b.Ctx, b.R.Keys.Replays()).Val() == 0 }, 10*time.Second, 20*time.Millisecond)

	// The consumer takes the tasks; the resolution comes back, as if the
	// replay had not been dropped.
	_, err = b.Inspector.DeleteAllPendingTasks(b.R.Results)
	require.NoError(t, err)
	for k, v := range kept {
		require.NoError(t, b.R.Client.HSet(b.Ctx, b.R.Keys.Replays(), k, v).Err())
	}
	// The next round, now: miniredis lets the round's lock expire only
	// when told.
	require.NoError(t, b.R.Client.Del(b.Ctx, b.R.Keys.Janitor()).Err())
	require.Eventually(t, func() bool { return b.R.Client.HLen(b.Ctx, b.R.Keys.Replays()).Val() == 0 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus), "emitted once")
	c := b.Status(t, "c1").Counts
	require.EqualValues(t, 1, c.Sent)
	require.EqualValues(t, 1, c.Delivered)
}

// Statuses that came before their own send was recorded (the webhook beat
// the API's answer to the worker, or the settle was retried after a Redis
// error) are kept unmatched; the settle that maps their wamid hands them
// over, and the housekeeping counts and emits them as the webhooks would
// have: each once, with no resolution event (nothing was unknown).
func TestWorker_StatusesBeforeTheirSendAreCounted(t *testing.T) {
	t.Parallel()
	b, st := claimedOne(t)
	at := time.Now().Unix()
	for _, s := range []string{task.StatusSent, "delivered", "read"} {
		_, err := st.Deliveries.KeepUnmatched(b.Ctx, []store.Unmatched{{PhoneNumberID: pnid, To: to,
			Delivery: store.Delivery{WAMID: "wamid.E", Status: s, Category: "marketing_lite", At: at}}})
		require.NoError(t, err)
	}
	_, err := st.Ledger.Settle(b.Ctx, "c1", to, store.Outcome{Status: task.StatusSent, Attempts: 1, WAMID: "wamid.E",
		PhoneNumberID: pnid}, store.FailurePolicy{}, nil)
	require.NoError(t, err)

	byStatus := b.housekept(t, 3, func(c task.Counts) bool { return c.Delivered == 1 && c.Read == 1 })
	for s, ev := range byStatus {
		require.False(t, ev.Resolved, s)
		require.Equal(t, "wamid.E", ev.WAMID, s)
		require.Equal(t, to, ev.To, s)
		require.Equal(t, "marketing_lite", ev.PricingCategory, s)
	}
	require.NoError(t, b.R.Client.Del(b.Ctx, b.R.Keys.Janitor()).Err())
	time.Sleep(300 * time.Millisecond) // more rounds change nothing
	require.Len(t, testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus), 3)
	require.Zero(t, b.R.Client.HLen(b.Ctx, b.R.Keys.Replays()).Val())
	c := b.Status(t, "c1").Counts
	require.EqualValues(t, 1, c.Sent)
	require.EqualValues(t, 1, c.Delivered)
	require.EqualValues(t, 1, c.Read)
	require.Zero(t, c.Unknown)
}

// claimedOne has campaign c1, sealed with its one recipient claimed, and a
// store that keeps unknown outcomes for matching.
func claimedOne(t *testing.T) (*bundle, *store.Store) {
	t.Helper()
	b := setup(t, fakeapi.Config{})
	st := store.New(b.R.Client, b.R.Keys, store.Options{UnknownWindow: time.Hour})
	b.register(t, campaign.Campaign{ID: "c1"})
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign("c1"), "enqueued", 1).Err())
	_, err := st.Campaigns.Seal(b.Ctx, "c1")
	require.NoError(t, err)
	cl, err := st.Ledger.Claim(b.Ctx, "c1", to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	return b, st
}

// housekept starts a worker whose housekeeping runs every 50 ms, and waits
// for n status events of different statuses on the results queue, and for
// c1's counts to satisfy done. It returns the events by status.
func (b *bundle) housekept(t *testing.T, n int, done func(task.Counts) bool) map[string]task.StatusEvent {
	t.Helper()
	cfg := b.config()
	cfg.HousekeepingInterval = 50 * time.Millisecond
	b.start(t, cfg)
	byStatus := map[string]task.StatusEvent{}
	require.Eventually(t, func() bool {
		for _, ev := range testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus) {
			byStatus[ev.Status] = ev
		}
		return len(byStatus) == n && done(b.Status(t, "c1").Counts)
	}, 10*time.Second, 20*time.Millisecond, "%d statuses emitted and counted: %v", n, byStatus)
	return byStatus
}

// Statuses replayed that way set off what they would have in the webhook:
// the first, priced as a Cloud API marketing message, counts in
// mmlite_fallback_total and pauses the campaign of a sender with
// on_fallback: pause; a failed one with a suppressing code suppresses the
// recipient.
func TestWorker_StatusesBeforeTheirSendSetOffProtections(t *testing.T) {
	t.Parallel()
	b, st := claimedOne(t)
	// A second recipient still to send: the campaign runs on after the first.
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign("c1"), "enqueued", 1).Err())
	at := time.Now().Unix()
	for _, d := range []store.Delivery{{WAMID: "wamid.F", Status: task.StatusSent, Category: guard.FallbackCategory, At: at},
		{WAMID: "wamid.F", Status: "failed", At: at + 1, ErrorCode: guard.CodeStopped}} {
		kept, err := st.Deliveries.KeepUnmatched(b.Ctx, []store.Unmatched{{PhoneNumberID: pnid, To: to, Delivery: d}})
		require.NoError(t, err)
		require.Equal(t, []store.Keeping{store.Kept}, kept, d.Status)
	}
	_, err := st.Ledger.Settle(b.Ctx, "c1", to, store.Outcome{Status: task.StatusSent, Attempts: 1, WAMID: "wamid.F",
		PhoneNumberID: pnid}, store.FailurePolicy{}, nil)
	require.NoError(t, err)

	cfg := b.config()
	cfg.Senders[0].OnFallback = sender.FallbackPause
	cfg.HousekeepingInterval = 50 * time.Millisecond
	w := b.start(t, cfg)
	require.Eventually(t, func() bool { return b.R.Client.HLen(b.Ctx, b.R.Keys.Replays()).Val() == 0 }, 10*time.Second, 20*time.Millisecond)
	s := b.Status(t, "c1")
	require.Equal(t, campaign.StatePaused, s.State)
	require.Contains(t, s.Error.Title, guard.ReasonFallback)
	require.EqualValues(t, 1, s.Counts.Fallback)
	require.EqualValues(t, 1, s.Counts.Undelivered)
	e, err := guard.New(b.R.Client, b.Store, guard.Config{}).Lookup(b.Ctx, cfg.Senders[0].Published().Scope(), to)
	require.NoError(t, err)
	require.NotNil(t, e, "the recipient who stopped marketing messages is suppressed")
	require.Equal(t, guard.CodeStopped, e.Code)
	require.Equal(t, 1.0, testkit.Counters(t, w.Gatherer(), "mmlite_fallback_total")["default"])
}

// A failed status that came before its send was recorded (kept, after a
// priced status of the message) gives the message's messaging-limit place
// back once the send is recorded and the status replayed, as it would
// have in the webhook.
func TestWorker_FailedStatusBeforeItsSendGivesThePlaceBack(t *testing.T) {
	t.Parallel()
	b, st := claimedOne(t)
	place := &store.Place{LimitScope: "P", At: time.UnixMilli(time.Now().UnixMilli())}
	reach := b.R.Keys.Reach(place.LimitScope)
	require.NoError(t, b.R.Client.ZAdd(b.Ctx, reach, redis.Z{Score: float64(place.At.UnixMilli()) + 0.5, Member: to}).Err())
	at := time.Now().Unix()
	for _, d := range []store.Delivery{{WAMID: "wamid.G", Status: task.StatusSent, Category: "marketing_lite", At: at},
		{WAMID: "wamid.G", Status: "failed", At: at + 1, ErrorCode: 131049}} {
		kept, err := st.Deliveries.KeepUnmatched(b.Ctx, []store.Unmatched{{PhoneNumberID: pnid, To: to, Delivery: d}})
		require.NoError(t, err)
		require.Equal(t, []store.Keeping{store.Kept}, kept, d.Status)
	}
	_, err := st.Ledger.WithPlace(place, false).Settle(b.Ctx, "c1", to, store.Outcome{Status: task.StatusSent, Attempts: 1, WAMID: "wamid.G",
		PhoneNumberID: pnid}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, b.R.Client.ZCard(b.Ctx, reach).Val(), "sent: the message holds its place")

	cfg := b.config()
	cfg.HousekeepingInterval = 50 * time.Millisecond
	b.start(t, cfg)
	require.Eventually(t, func() bool { return b.R.Client.HLen(b.Ctx, b.R.Keys.Replays()).Val() == 0 }, 10*time.Second, 20*time.Millisecond)
	require.Zero(t, b.R.Client.ZCard(b.Ctx, reach).Val(), "failed, replayed: the place is given back")
}
