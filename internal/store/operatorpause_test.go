package store_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// An operator's pause of a campaign paused automatically takes its reason
// and drops the error behind the automatic pause, in the same step: it
// reads as an operator's pause of a running campaign does, with no error
// (found in review: it kept the guard's, error.code 132015 under the
// operator's reason).
func TestPause_OperatorTakesOverWithoutTheError(t *testing.T) {
	t.Parallel()
	for name, pause := range map[string]struct {
		reason string
		err    *task.Error
	}{
		"template":       {campaign.PauseTemplate + ": FLAGGED", store.PauseError(campaign.PauseTemplate+": FLAGGED", 0)},
		"sender":         {campaign.PauseSender + ": paused by the operator", store.PauseError(campaign.PauseSender+": paused by the operator", 0)},
		"campaign_fatal": {campaign.PauseCampaignFatal + ": code 132001", &task.Error{Code: 132001, Title: "Template name does not exist", HTTPStatus: 404}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.register(t, "c", 1)
			tr, err := b.store.Campaigns.PauseAutomatically(b.ctx, "c", pause.reason, pause.err)
			require.NoError(t, err)
			require.True(t, tr.Changed)
			st, err := b.store.Campaigns.Status(b.ctx, "c")
			require.NoError(t, err)
			require.Equal(t, pause.err, st.Error, "the automatic pause carries its error")

			tr, err = b.store.Campaigns.Pause(b.ctx, "c", campaign.PauseOperator+": paused by the operator")
			require.NoError(t, err)
			require.False(t, tr.Changed, "paused already")
			st, err = b.store.Campaigns.Status(b.ctx, "c")
			require.NoError(t, err)
			require.Equal(t, campaign.StatePaused, st.State)
			require.Equal(t, campaign.PauseOperator+": paused by the operator", st.PausedReason)
			require.Nil(t, st.Error, "an operator's pause carries no error")
		})
	}
}
