package worker_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A worker that died between resolving an unknown outcome (the counts moved
// to sent) and counting and emitting what its message's webhooks had said
// (the resolution event, the delivered status): the next housekeeping
// round, on any worker, does it, once.
func TestWorker_ResolutionCutShortIsReplayed(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	const pnid, to = "106540352242922", "441234567890"
	st := store.New(b.R.Client, b.R.Keys, store.Options{UnknownWindow: time.Hour})
	b.register(t, campaign.Campaign{ID: "c1"})
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign("c1"), "enqueued", 1).Err())
	_, err := st.Campaigns.Seal(b.Ctx, "c1")
	require.NoError(t, err)
	cl, err := st.Ledger.Claim(b.Ctx, "c1", to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	_, err = st.Ledger.Settle(b.Ctx, "c1", to, store.Outcome{Status: task.StatusUnknown, Attempts: 1, PhoneNumberID: pnid,
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

	cfg := b.config()
	cfg.HousekeepingInterval = 50 * time.Millisecond
	b.start(t, cfg)
	byStatus := map[string]task.StatusEvent{}
	require.Eventually(t, func() bool {
		for _, ev := range testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus) {
			byStatus[ev.Status] = ev
		}
		return len(byStatus) == 2 && b.Status(t, "c1").Counts.Delivered == 1
	}, 10*time.Second, 20*time.Millisecond, "the resolution's event and its message's delivered status: %v", byStatus)
	require.True(t, byStatus[task.StatusSent].Resolved)
	require.Equal(t, "wamid.A", byStatus[task.StatusSent].WAMID)
	require.Equal(t, to, byStatus["delivered"].To)
	time.Sleep(300 * time.Millisecond) // more rounds change nothing
	require.Len(t, testkit.Pending[task.StatusEvent](t, b.Inspector, b.R.Results, task.TypeStatus), 2)
	c := b.Status(t, "c1").Counts
	require.EqualValues(t, 1, c.Sent)
	require.EqualValues(t, 1, c.Delivered)
	require.Zero(t, c.Unknown)
}
