package asynqwire_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/redis/go-redis/v9"
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

// A message put together by LuaMessage is, byte for byte, the one Message
// encodes: payloads whose length takes one, two and three bytes.
func TestLuaMessage(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	script := redis.NewScript(asynqwire.LuaMessage + `return message(ARGV[1], ARGV[2], ARGV[3])`)
	for _, n := range []int{1, 127, 128, 300, 16383, 16384, 70000} {
		payload := strings.Repeat("p", n)
		got, err := script.Run(context.Background(), r.Client, nil,
			asynqwire.MessageHead("mmlite:status"), payload, asynqwire.MessageTail(nil, "status:w:read", r.Results, 25, 1800)).Text()
		require.NoError(t, err)
		require.Equal(t, string(asynqwire.Message(nil, "mmlite:status", []byte(payload), "status:w:read", r.Results, 25, 1800)), got, "payload of %d bytes", n)
	}
}
