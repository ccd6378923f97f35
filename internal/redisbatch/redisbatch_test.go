package redisbatch_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redisbatch"
	"github.com/mmlite/mmlite/internal/redistest"
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

// A caller that gives up learns whether its call ran: a call withdrawn or
// dropped before its pipeline never runs, and one already sent is waited for.
func TestBatcher_CancelledCallsRunOnlyIfReported(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	b := redisbatch.New(r.Client, 2*time.Millisecond, 5)
	key := r.Keys.Prefix() + "n"
	var mu sync.Mutex
	ran := 0
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*time.Millisecond)
			defer cancel()
			err := b.Run(ctx, incr, []string{key}, 1).Err()
			if err == nil {
				mu.Lock()
				ran++
				mu.Unlock()
				return
			}
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}()
	}
	wg.Wait()
	n, _ := r.Client.Get(context.Background(), key).Int()
	require.Equal(t, ran, n, "every call that ran was reported as run")
}
