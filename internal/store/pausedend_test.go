package store_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A paused campaign whose every recipient became final (its parked jobs
// woke at the expiry and were reported expired) completes, once: nothing
// is left to resume (found in review: it stayed paused, "waiting: paused",
// until its keys expired, and its end was never announced unless an
// operator resumed it).
func TestSettle_PausedCampaignWhoseLastRecipientIsFinalCompletes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 2)
	_, err := b.store.Campaigns.Pause(b.ctx, "c", campaign.PauseOperator+": test")
	require.NoError(t, err)
	for i, to := range []string{"441234567801", "441234567802"} {
		res, err := b.store.Ledger.Settle(b.ctx, "c", to, store.Outcome{Status: task.StatusExpired}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
		if i == 1 {
			require.Equal(t, store.Completed, res)
		}
	}
	st, err := b.store.Campaigns.Status(b.ctx, "c")
	require.NoError(t, err)
	require.Equal(t, campaign.StateCompleted, st.State)
	require.NotNil(t, st.FinishedAt)
	require.Empty(t, st.PausedReason, "a completed campaign waits for nothing")
	require.Nil(t, st.Waiting)
	ids, err := b.store.Campaigns.ToAnnounce(b.ctx)
	require.NoError(t, err)
	require.Contains(t, ids, "c", "its end is announced")
	_, err = b.store.Campaigns.Resume(b.ctx, "c")
	require.ErrorIs(t, err, campaign.ErrState, "a completed campaign is not resumed")
}

// So does a paused open campaign whose recipients are all final, when it is
// sealed.
func TestSeal_PausedCampaignWithEveryRecipientFinalCompletes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := valid()
	c.ID = "open"
	c.Normalize()
	_, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	require.NoError(t, b.r.Client.HIncrBy(b.ctx, b.r.Keys.Campaign("open"), "enqueued", 1).Err())
	_, err = b.store.Ledger.Settle(b.ctx, "open", "441234567801", store.Outcome{Status: task.StatusSent}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	_, err = b.store.Campaigns.Pause(b.ctx, "open", campaign.PauseOperator+": test")
	require.NoError(t, err)
	sl, err := b.store.Campaigns.Seal(b.ctx, "open")
	require.NoError(t, err)
	require.True(t, sl.Ended)
	st, err := b.store.Campaigns.Status(b.ctx, "open")
	require.NoError(t, err)
	require.Equal(t, campaign.StateCompleted, st.State)
}
