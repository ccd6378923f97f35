package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/redistest"
	"github.com/stretchr/testify/require"
)

// The worker is not ready while Redis is down, and ready again as soon as
// Redis answers: not when asynq's next health check (every 15 s) says so.
func TestWorker_ReadyAsSoonAsRedisAnswersAgain(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	// An embedded Redis of its own, which this test stops and starts again.
	r := redistest.NewURL(t, "")
	cfg := b.config()
	cfg.Redis, cfg.Queue, cfg.ResultsQueue = r.Opt, r.Queue, r.Results
	w := b.start(t, cfg)
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
