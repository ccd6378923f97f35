package worker_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/stretchr/testify/require"
)

// A campaign paused automatically (its sender paused by the operator, by
// POST /v1/senders/{id}/pause) and resumed before the housekeeping
// announced the pause has nothing to announce: it was logged "campaign
// finished" with state=running, of a campaign still sending.
func TestWorker_ResumedBeforeAnnouncedIsNotLoggedFinished(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	_, err := b.Store.Campaigns.PauseAutomatically(b.Ctx, c.ID, "sender_paused: paused by the operator", nil)
	require.NoError(t, err)
	_, err = b.Store.Campaigns.Resume(b.Ctx, c.ID)
	require.NoError(t, err)
	ids, err := b.Store.Campaigns.ToAnnounce(b.Ctx)
	require.NoError(t, err)
	require.Contains(t, ids, c.ID, "the pause waits to be announced")

	cfg := b.config()
	cfg.HousekeepingInterval = 50 * time.Millisecond
	var logs redistest.SyncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	b.start(t, cfg)
	require.Eventually(t, func() bool {
		ids, err := b.Store.Campaigns.ToAnnounce(b.Ctx)
		require.NoError(t, err)
		return len(ids) == 0
	}, 10*time.Second, 20*time.Millisecond, "the housekeeping took it off the announce set")
	require.Equal(t, campaign.StateRunning, b.Status(t, c.ID).State)
	require.NotContains(t, logs.String(), "campaign finished", "%s", strings.TrimSpace(logs.String()))
}
