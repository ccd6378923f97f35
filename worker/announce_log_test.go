package worker_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/worker"
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

// A worker whose Start failed (Redis refused) is released by Shutdown
// without logging "worker stopped" of a worker that never started.
func TestWorker_NotStartedIsNotLoggedStopped(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	cfg.Redis = asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 200 * time.Millisecond} // nothing listens
	var logs redistest.SyncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	w, err := worker.New(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(b.Ctx, 5*time.Second)
	defer cancel()
	require.Error(t, w.Start(ctx))
	w.Shutdown()
	require.NotContains(t, logs.String(), "worker stopped", "%s", strings.TrimSpace(logs.String()))
}
