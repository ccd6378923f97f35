package guard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Recipients reached while the sender's limit is unlimited (the default,
// or TIER_UNLIMITED) count once a quality update lowers it within the
// window: they went uncounted, so a lower tier let another full tier of
// new recipients through, and the reported use read 0 (found in review).
func TestReach_CountedWhileUnlimited(t *testing.T) {
	t.Parallel()
	g, st, _ := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 0)
	for i := range 5 {
		require.Equal(t, store.Claimed, claim(t, st, "c", fmt.Sprintf("4410%d", i), cg).Verdict)
	}
	require.EqualValues(t, 5, reachedIn(t, g, "P"), "the recipients reached in the window")
	cg.Limit = 2 // a phone_number_quality_update: a lower tier
	require.Equal(t, store.Limited, claim(t, st, "c", "44199", cg).Verdict, "5 reached already, limit 2: a new recipient waits")
}

// A claim that takes a new place in the limit's window says so, and a
// settle or release of a refused send gives it back (a send the API refused
// reached no one); a recipient in the window already takes no new place,
// and a place a later claim took since is not given back.
func TestReach_RefusedSendGivesItsPlaceBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := newGuard(t)
	register(t, st, "c", "s", "t")
	register(t, st, "d", "s", "t")
	reached := func() int64 { return reachedIn(t, g, "P") }
	failed := store.Outcome{Status: "failed", Attempts: 1}
	for _, limit := range []int{2, 0} { // limited, and unlimited (counted all the same)
		cg := limitGuard("P", limit)
		to := fmt.Sprintf("4420%d", limit)
		c := claim(t, st, "c", to, cg)
		require.Equal(t, store.Claimed, c.Verdict)
		require.NotNil(t, c.Place, "limit %d: a new recipient takes a place", limit)
		require.Equal(t, "P", c.Place.LimitScope)
		n := reached()
		_, err := st.Ledger.WithPlace(c.Place, true).Settle(ctx, "c", to, failed, store.FailurePolicy{}, nil)
		require.NoError(t, err)
		require.Equal(t, n-1, reached(), "limit %d: the refused send's place is given back", limit)

		to = fmt.Sprintf("4421%d", limit)
		c = claim(t, st, "c", to, cg)
		require.NoError(t, st.Ledger.WithPlace(c.Place, true).Release(ctx, "c", to, c.Attempts, 0, nil))
		require.Equal(t, n-1, reached(), "limit %d: so is a released one's", limit)
		c = claim(t, st, "c", to, cg)
		require.NotNil(t, c.Place, "its next attempt takes a place again")
		_, err = st.Ledger.Settle(ctx, "c", to, store.Outcome{Status: "sent", Attempts: 2}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
		require.Equal(t, n, reached(), "limit %d: sent, it keeps its place", limit)

		// Reached already (by campaign c): campaign d's claim takes no new place.
		c = claim(t, st, "d", to, cg)
		require.Equal(t, store.Claimed, c.Verdict)
		require.Nil(t, c.Place, "limit %d: a recipient in the window takes no new place", limit)
	}

	// A place a later claim took since is the later claim's.
	cg := limitGuard("Q", 5)
	first := claim(t, st, "c", "44300", cg)
	require.NotNil(t, first.Place)
	require.Equal(t, store.Claimed, claim(t, st, "d", "44300", cg).Verdict, "(in the same millisecond, likely)")
	_, err := st.Ledger.WithPlace(first.Place, true).Settle(ctx, "c", "44300", failed, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, reachedIn(t, g, "Q"), "campaign d's claim holds the place")
}

// A place given back wakes the job that has waited longest for one: it
// moves from asynq's retry set to now. One that is not there any more is
// passed over.
func TestReach_FreedPlaceWakesAWaitingJob(t *testing.T) {
	t.Parallel()
	_, st, r := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 1)
	held := claim(t, st, "c", "44400", cg)
	require.NotNil(t, held.Place)
	for _, to := range []string{"44401", "44402", "44403"} {
		require.Equal(t, store.Limited, claim(t, st, "c", to, cg).Verdict)
		if to != "44401" { // 44401's job is done, or on its way to the retry set
			waitInRetry(t, r, "c:"+to)
		}
	}
	refuse(t, st, "44400", held.Place)
	require.True(t, dueNow(t, r, "c:44402"), "the first waiter in the retry set runs now")
	require.False(t, dueNow(t, r, "c:44403"), "one place, one job woken")
	require.Equal(t, store.Claimed, claim(t, st, "c", "44402", cg).Verdict, "it takes the place given back")
}

// A job that waited for the limit, then took a place on its own (its wait
// over), is no longer a waiter: a place given back later wakes one that
// still waits (found in review: the stale entry was woken instead).
func TestReach_AJobThatTookAPlaceWaitsNoMore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, r := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 1)
	require.NotNil(t, claim(t, st, "c", "44500", cg).Place)
	require.Equal(t, store.Limited, claim(t, st, "c", "44501", cg).Verdict)
	require.NoError(t, r.Client.ZRem(ctx, r.Keys.Reach("P"), "44500").Err()) // a's place left the window
	d := claim(t, st, "c", "44501", cg)
	require.Equal(t, store.Claimed, d.Verdict, "the waiter takes the place on its own")
	waiters, err := r.Client.ZRange(ctx, r.Keys.LimitWaiters("P"), 0, -1).Result()
	require.NoError(t, err)
	require.Empty(t, waiters)
}

// limitGuard is the guard of sender s (scope W) under limitScope's
// messaging limit of limit (0 unlimited), an hour's window.
func limitGuard(limitScope string, limit int) *store.ClaimGuard {
	return &store.ClaimGuard{Sender: "s", Scope: "W", LimitScope: limitScope, Limit: limit, Window: time.Hour, Cooldown: time.Hour}
}

// reachedIn is the recipients a limit scope reached in its window.
func reachedIn(t *testing.T, g *guard.Guard, limitScope string) int64 {
	t.Helper()
	u, err := g.Use(context.Background(), limitScope, 0)
	require.NoError(t, err)
	return u.Reached
}

// A sent message keeps its place with its wamid; a failed status gives it
// back (Meta counts recipients delivered to), once, unless the message was
// delivered (a read implies it) or a later claim of the recipient holds
// the place now.
func TestReach_FailedMessageGivesItsPlaceBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := newGuard(t)
	register(t, st, "c", "s", "t")
	register(t, st, "d", "s", "t")
	cg := limitGuard("P", 5)
	sent := func(campaign, to, wamid string) *store.Place {
		c := claim(t, st, campaign, to, cg)
		require.NotNil(t, c.Place)
		_, err := st.Ledger.WithPlace(c.Place, false).Settle(ctx, campaign, to, store.Outcome{Status: "sent", Attempts: 1, WAMID: wamid}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
		return c.Place
	}
	// statuses records a webhook's statuses as the api does: looked up,
	// recorded, then the failed ones' places given back.
	statuses := func(ds ...store.Delivery) {
		tr, err := st.Deliveries.Track(ctx, ds)
		require.NoError(t, err)
		_, err = st.Deliveries.Record(ctx, ds)
		require.NoError(t, err)
		require.NoError(t, st.Deliveries.FreeFailed(ctx, ds, tr))
	}
	failed := func(wamid string) { statuses(store.Delivery{WAMID: wamid, Status: "failed", ErrorCode: 131049}) }
	status := func(wamid, s string) { statuses(store.Delivery{WAMID: wamid, Status: s, At: time.Now().Unix()}) }
	p := sent("c", "44500", "wamid.A")
	tr, err := st.Deliveries.Track(ctx, []store.Delivery{{WAMID: "wamid.A", Status: "failed"}})
	require.NoError(t, err)
	require.Equal(t, p.LimitScope, tr[0].Place.LimitScope)
	require.Equal(t, p.At.UnixMilli(), tr[0].Place.At.UnixMilli(), "the place, as the message keeps it")
	sent("c", "44501", "wamid.B")
	sent("c", "44502", "wamid.C")
	require.EqualValues(t, 3, reachedIn(t, g, "P"))

	failed("wamid.A")
	require.EqualValues(t, 2, reachedIn(t, g, "P"), "failed: its place is given back")
	failed("wamid.A")
	require.EqualValues(t, 2, reachedIn(t, g, "P"), "once")

	status("wamid.B", "delivered")
	status("wamid.C", "read")
	failed("wamid.B")
	failed("wamid.C")
	require.EqualValues(t, 2, reachedIn(t, g, "P"), "delivered, or read: the place stays")
	sent("c", "44504", "wamid.E")
	statuses(store.Delivery{WAMID: "wamid.E", Status: "delivered"}, store.Delivery{WAMID: "wamid.E", Status: "failed"})
	require.EqualValues(t, 3, reachedIn(t, g, "P"), "delivered in the same webhook: the place stays")

	sent("c", "44503", "wamid.D")
	require.Equal(t, store.Claimed, claim(t, st, "d", "44503", cg).Verdict, "(a later claim, likely in the same millisecond)")
	failed("wamid.D")
	require.EqualValues(t, 4, reachedIn(t, g, "P"), "campaign d's claim holds the place")
}

// A job limited again keeps its turn among the waiters (by when it began
// to wait): a place given back wakes it before one that began to wait
// after it (found in review: each limit moved it to the back).
func TestReach_AJobLimitedAgainKeepsItsTurn(t *testing.T) {
	t.Parallel()
	_, st, r := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 1)
	held := claim(t, st, "c", "44600", cg)
	require.NotNil(t, held.Place)
	for _, to := range []string{"44601", "44602", "44601"} { // 44601 first, and limited again after 44602
		require.Equal(t, store.Limited, claim(t, st, "c", to, cg).Verdict)
		time.Sleep(5 * time.Millisecond)
	}
	waitInRetry(t, r, "c:44601", "c:44602")
	refuse(t, st, "44600", held.Place)
	require.True(t, dueNow(t, r, "c:44601"), "the job that began to wait first runs now")
}

// A waiter still running when a place is given back (limited a moment ago,
// on its way to asynq's retry set) keeps its turn: the place wakes the next
// waiter, and the one after it goes to the running job once it waits in
// the retry set (found in review: it was dropped from the waiters, and
// waited its whole retry delay behind jobs that began to wait after it).
func TestReach_ARunningWaiterKeepsItsTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, r := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 1)
	held := claim(t, st, "c", "44700", cg)
	require.NotNil(t, held.Place)
	for _, to := range []string{"44701", "44702", "44703"} {
		require.Equal(t, store.Limited, claim(t, st, "c", to, cg).Verdict)
		time.Sleep(5 * time.Millisecond)
	}
	// 44701 runs still (asynq's task hash says so); 44702 and 44703 wait.
	require.NoError(t, r.Client.HSet(ctx, r.Keys.AsynqTask("c:44701"), "state", "active").Err())
	waitInRetry(t, r, "c:44702", "c:44703")
	refuse(t, st, "44700", held.Place)
	require.True(t, dueNow(t, r, "c:44702"), "the first waiter in the retry set runs now")

	// 44701 reaches the retry set; 44702 takes the place, and a refused send
	// gives it back.
	require.NoError(t, r.Client.HSet(ctx, r.Keys.AsynqTask("c:44701"), "state", "retry").Err())
	waitInRetry(t, r, "c:44701")
	took := claim(t, st, "c", "44702", cg)
	require.Equal(t, store.Claimed, took.Verdict)
	refuse(t, st, "44702", took.Place)
	require.True(t, dueNow(t, r, "c:44701"), "the job that began to wait first runs now")
	require.False(t, dueNow(t, r, "c:44703"), "one place, one job woken")
}

// A woken waiter that a newcomer beats to the place keeps its turn: limited
// again, it is woken by the next place given back before one that began to
// wait after it (found in review: waking took it off the waiters, and its
// next limit listed it at the back).
func TestReach_AWokenWaiterBeatenToThePlaceKeepsItsTurn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, r := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 1)
	a := claim(t, st, "c", "44800", cg)
	require.NotNil(t, a.Place)
	require.Equal(t, store.Limited, claim(t, st, "c", "44801", cg).Verdict) // B waits first
	waitInRetry(t, r, "c:44801")
	time.Sleep(5 * time.Millisecond)
	require.Equal(t, store.Limited, claim(t, st, "c", "44802", cg).Verdict) // C after B
	waitInRetry(t, r, "c:44802")

	refuse(t, st, "44800", a.Place) // wakes B
	require.NoError(t, r.Client.ZRem(ctx, r.Keys.AsynqRetry(), "c:44801").Err())
	require.NoError(t, r.Client.HSet(ctx, r.Keys.AsynqTask("c:44801"), "state", "active").Err()) // B runs
	d := claim(t, st, "c", "44803", cg)                                                          // a newcomer claims first
	require.Equal(t, store.Claimed, d.Verdict)
	require.Equal(t, store.Limited, claim(t, st, "c", "44801", cg).Verdict, "B, beaten to the place")
	waitInRetry(t, r, "c:44801")

	refuse(t, st, "44803", d.Place)
	require.True(t, dueNow(t, r, "c:44801"), "B has waited longest: the place given back wakes it, not C")
}

// The waiters' set keeps no job that waits no more: one whose recipient
// was reached meanwhile leaves it at its claim, and a woken one whose job
// ended otherwise (sent, expired, cancelled) is dropped by a later free
// (found in review: woken waiters, their scores negated, were never looked
// at again, and a sender at its limit kept the set alive).
func TestReach_WaitersThatWaitNoMoreLeave(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, st, r := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := limitGuard("P", 1)
	waiters := func() []string {
		ws, err := r.Client.ZRange(ctx, r.Keys.LimitWaiters("P"), 0, -1).Result()
		require.NoError(t, err)
		return ws
	}
	a := claim(t, st, "c", "44900", cg)
	require.NotNil(t, a.Place)
	require.Equal(t, store.Limited, claim(t, st, "c", "44901", cg).Verdict)
	require.NoError(t, r.Client.ZAdd(ctx, r.Keys.Reach("P"), redis.Z{Score: float64(time.Now().UnixMilli()), Member: "44901"}).Err())
	require.Equal(t, store.Claimed, claim(t, st, "c", "44901", cg).Verdict, "reached meanwhile: no new place")
	require.Empty(t, waiters(), "it waits no more")
	require.NoError(t, r.Client.ZRem(ctx, r.Keys.Reach("P"), "44901").Err()) // its place left the window

	require.Equal(t, store.Limited, claim(t, st, "c", "44902", cg).Verdict)
	waitInRetry(t, r, "c:44902")
	refuse(t, st, "44900", a.Place) // wakes 44902, which then ends otherwise: its task is gone
	require.NoError(t, r.Client.ZRem(ctx, r.Keys.AsynqRetry(), "c:44902").Err())
	require.Equal(t, []string{"c:44902"}, waiters(), "woken, listed until it runs")
	d := claim(t, st, "c", "44903", cg)
	require.NotNil(t, d.Place)
	refuse(t, st, "44903", d.Place)
	require.Empty(t, waiters(), "a later free drops it")
}

// waitInRetry puts the jobs tids in asynq's retry set, due in an hour, as
// a job the limit holds is once its handler returned.
func waitInRetry(t *testing.T, r *redistest.Redis, tids ...string) {
	t.Helper()
	later := float64(time.Now().Add(time.Hour).Unix())
	for _, tid := range tids {
		require.NoError(t, r.Client.ZAdd(context.Background(), r.Keys.AsynqRetry(), redis.Z{Score: later, Member: tid}).Err())
	}
}

// dueNow says whether the job tid is due now in asynq's retry set: woken.
func dueNow(t *testing.T, r *redistest.Redis, tid string) bool {
	t.Helper()
	sc, err := r.Client.ZScore(context.Background(), r.Keys.AsynqRetry(), tid).Result()
	require.NoError(t, err)
	return sc <= float64(time.Now().Unix())
}

// refuse settles campaign c's send to to as refused by the API: the place
// its claim took is given back.
func refuse(t *testing.T, st *store.Store, to string, p *store.Place) {
	t.Helper()
	_, err := st.Ledger.WithPlace(p, true).Settle(context.Background(), "c", to, store.Outcome{Status: "failed", Attempts: 1}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
}
