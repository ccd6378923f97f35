package emit_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A callback task is retried as long as the outbound server says
// (MMLITE_RELAY_MAX_AGE), like a relayed webhook: it carries the relay's
// retry limit and timeout, not asynq's defaults (25 retries, about 16 h);
// the results queue's task keeps asynq's defaults.
func TestCallbacks_CarryTheRelayRetryLimit(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	cbQueue := r.Queue + "-callbacks"
	t.Cleanup(func() { _ = asynq.NewInspectorFromRedisClient(r.Client).DeleteQueue(cbQueue, true) })
	e := emit.New(r.Client, r.Results, time.Hour).WithCallbacks(cbQueue, false)
	require.NoError(t, e.Result(ctx, &task.Result{CampaignID: "c1", To: "447700900001", Status: "sent"}))
	require.NoError(t, e.Status(ctx, &task.StatusEvent{WAMID: "wamid.1", Status: "delivered"}))

	in := asynq.NewInspectorFromRedisClient(r.Client)
	for _, id := range []string{task.ResultID("c1", "447700900001"), "status:wamid.1:delivered"} {
		cb, err := in.GetTaskInfo(cbQueue, outbound.CallbackIDPrefix+id)
		require.NoError(t, err)
		require.Equal(t, outbound.MaxRetry, cb.MaxRetry, "callback %s", id)
		require.Equal(t, outbound.TimeoutSec*time.Second, cb.Timeout, "callback %s", id)

		res, err := in.GetTaskInfo(r.Results, id)
		require.NoError(t, err)
		require.Equal(t, asynqwire.DefaultMaxRetry, res.MaxRetry, "result %s", id)
	}
}
