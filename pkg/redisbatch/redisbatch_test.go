package redisbatch_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/redisbatch"
	"github.com/mmlite/mmlite/pkg/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

var incr = redis.NewScript(`return redis.call('INCRBY', KEYS[1], ARGV[1])`)
var fail = redis.NewScript(`return redis.error_reply('BOOM ' .. ARGV[1])`)

func TestBatcher(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	b := redisbatch.New(r.Client, time.Millisecond, 7)
	ctx := context.Background()
	key := r.Keys.Prefix() + "n"
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%10 == 0 {
				err := b.Run(ctx, fail, []string{key}, i).Err()
				require.EqualError(t, err, fmt.Sprintf("BOOM %d", i), "errors stay with their call")
				return
			}
			n, err := b.Run(ctx, incr, []string{key}, 1).Int()
			require.NoError(t, err)
			require.Positive(t, n)
		}()
	}
	wg.Wait()
	require.Equal(t, "90", r.Client.Get(ctx, key).Val())

	// A script the server forgot is loaded again.
	require.NoError(t, r.Client.ScriptFlush(ctx).Err())
	n, err := b.Run(ctx, incr, []string{key}, 10).Int()
	require.NoError(t, err)
	require.Equal(t, 100, n)

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.ErrorIs(t, b.Run(cctx, incr, []string{key}, 1).Err(), context.Canceled)
}
