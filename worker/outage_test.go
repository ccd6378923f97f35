package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// The worker is not ready while Redis is down, and ready again as soon as
// Redis answers: not when asynq's next health check (every 15 s) says so.
func TestWorker_ReadyAsSoonAsRedisAnswersAgain(t *testing.T) {
	t.Parallel()
	// An embedded Redis of its own, which this test stops and starts again.
	r := redistest.NewURL(t, "")
	b := setupOn(t, r, fakeapi.Config{})
	w := b.start(t, b.config())
	ctx := context.Background()
	require.NoError(t, w.Ready(ctx))

	r.Mini.Close()
	require.Eventually(t, func() bool { return w.Ready(ctx) != nil }, 5*time.Second, 20*time.Millisecond,
		"not ready while Redis is down")
	// Down across one of asynq's health checks (every 15 s), which records
	// the failure.
	time.Sleep(16 * time.Second)
	require.Error(t, w.Ready(ctx))
	require.NoError(t, r.Mini.Restart())
	back := time.Now()
	require.Eventually(t, func() bool { return w.Ready(ctx) == nil }, 3*time.Second, 20*time.Millisecond,
		"ready within seconds of Redis answering again")
	t.Logf("ready %s after Redis answered again", time.Since(back).Round(time.Millisecond))
}

// A send that finished while Redis was down is recorded as soon as Redis
// answers again: reported sent, at once, not unknown once its lease ends.
func TestWorker_SendFinishedDuringARedisOutageIsReportedSent(t *testing.T) {
	t.Parallel()
	r := redistest.NewURL(t, "")
	b := setupOn(t, r, fakeapi.Config{Latency: fakeapi.Duration(time.Second)})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(5)
	b.enqueue(t, sends(c.ID, tos)...)
	b.start(t, b.config())
	require.Eventually(t, func() bool {
		for _, to := range tos {
			if b.Fake.Attempts(to) != 1 {
				return false
			}
		}
		return true
	}, 10*time.Second, 10*time.Millisecond, "every send in flight")

	// The sends finish (1 s) while Redis is down, for longer than go-redis
	// retries a command.
	r.Mini.Close()
	time.Sleep(6 * time.Second)
	require.NoError(t, r.Mini.Restart())

	results := b.WaitResults(t, len(tos), 5*time.Second)
	for _, res := range results {
		require.Equal(t, task.StatusSent, res.Status, res.To)
		require.Equal(t, 1, b.Fake.Attempts(res.To), "one POST for %s", res.To)
	}
	require.Equal(t, campaign.StateCompleted, b.Status(t, c.ID).State)
}
