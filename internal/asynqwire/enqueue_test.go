package asynqwire_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// A task written by Enqueue is one asynq reads; a second of the same id
// while the first is there writes nothing.
func TestEnqueue(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	for _, payload := range []string{"first", "second"} {
		msg := asynqwire.Message(nil, "mmlite:test", []byte(payload), "t1", r.Results, 3, 60)
		require.NoError(t, asynqwire.Enqueue(ctx, r.Client, r.Results, "t1", msg))
	}
	require.NoError(t, r.Client.SAdd(ctx, "asynq:queues", r.Results).Err())
	info, err := asynq.NewInspectorFromRedisClient(r.Client).GetTaskInfo(r.Results, "t1")
	require.NoError(t, err)
	require.Equal(t, "mmlite:test", info.Type)
	require.Equal(t, "first", string(info.Payload))
	require.Equal(t, asynq.TaskStatePending, info.State)
	n, err := r.Client.LLen(ctx, "asynq:{"+r.Results+"}:pending").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}
