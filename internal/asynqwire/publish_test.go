package asynqwire_test

import (
	"context"
	"testing"

	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestPublished(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	var p asynqwire.Published
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = down.Close() })
	require.Error(t, p.Ensure(ctx, down, r.Results), "Redis down: not listed")
	require.NoError(t, p.Ensure(ctx, r.Client, r.Results, r.Queue))
	on, err := r.Client.SMIsMember(ctx, "asynq:queues", r.Results, r.Queue).Result()
	require.NoError(t, err)
	require.Equal(t, []bool{true, true}, on)
	require.NoError(t, r.Client.SRem(ctx, "asynq:queues", r.Results).Err())
	require.NoError(t, p.Ensure(ctx, r.Client, r.Results))
	on, err = r.Client.SMIsMember(ctx, "asynq:queues", r.Results).Result()
	require.NoError(t, err)
	require.Equal(t, []bool{false}, on, "listed once: no round trip after the first success")
}
