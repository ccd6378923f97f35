package worker_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

func TestWorker_DequeuersShareTheConcurrency(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(60)
	b.enqueue(t, sends(c.ID, tos)...)
	cfg := b.config()
	cfg.Concurrency, cfg.Dequeuers = 7, 3
	w := b.start(t, cfg)

	// Each dequeuer is an asynq server of the send queue; together they
	// have the worker's concurrency, no more.
	var slots []int
	require.Eventually(t, func() bool {
		slots = b.serverSlots(t)
		return len(slots) == 3
	}, 20*time.Second, 20*time.Millisecond, "asynq servers of the send queue: %v", slots)
	slices.Sort(slots)
	require.Equal(t, []int{2, 2, 3}, slots)

	results := b.WaitResults(t, len(tos), 30*time.Second)
	require.Len(t, results, len(tos))
	for _, to := range tos {
		require.Equal(t, 1, b.Fake.Sends(to), "one POST per recipient")
	}
	require.Eventually(t, func() bool { return b.Status(t, c.ID).State == campaign.StateCompleted }, 30*time.Second, 20*time.Millisecond)

	// Shutdown stops every one of them.
	w.Shutdown()
	require.Empty(t, b.serverSlots(t))
}

// serverSlots is the concurrency of each live asynq server of the send queue.
func (b *bundle) serverSlots(t *testing.T) []int {
	t.Helper()
	servers, err := b.Inspector.Servers()
	require.NoError(t, err)
	var out []int
	for _, s := range servers {
		if _, ok := s.Queues[b.R.Queue]; ok {
			out = append(out, s.Concurrency)
		}
	}
	return out
}

func TestConfig_Dequeuers(t *testing.T) {
	t.Parallel()
	for conc, want := range map[int]int{1: 1, 6: 1, 12: 2, 50: 8, 64: 10, 95: 15, 96: 16, 100: 16, 5000: 16} {
		require.Equal(t, want, worker.DefaultDequeuers(conc), "concurrency %d", conc)
	}
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	require.NoError(t, cfg.Validate())
	require.Equal(t, worker.DefaultDequeuers(cfg.Concurrency), cfg.WithDefaults().Dequeuers, "filled in from the concurrency")

	for _, bad := range []int{-1, cfg.Concurrency + 1} {
		cfg := b.config()
		cfg.Dequeuers = bad
		err := cfg.Validate()
		require.ErrorContains(t, err, "MMLITE_DEQUEUERS must be between 1 and MMLITE_CONCURRENCY")
	}
}

// MMLITE_PAUSE_FAILURE_RATIO=NaN turned the automatic pause off (no share
// is >= NaN), and a negative MMLITE_PAUSE_MIN_SENDS judged a campaign on
// its first send (one permanent failure paused it): both are refused,
// naming the setting (found in review).
func TestConfig_PauseSettings(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	cfg.PauseFailureRatio = math.NaN()
	require.ErrorContains(t, cfg.Validate(), "MMLITE_PAUSE_FAILURE_RATIO must be at most 1 (negative turns it off), got NaN")
	cfg = b.config()
	cfg.PauseMinSends = -3
	require.ErrorContains(t, cfg.Validate(), "MMLITE_PAUSE_MIN_SENDS must be >= 1, got -3")
	cfg = b.config()
	cfg.PauseFailureRatio = -1
	require.NoError(t, cfg.Validate(), "negative: off")
}
