package redistest

import (
	"context"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Counter is a go-redis hook that counts the commands named Name (any
// case) whose first key is Key.
type Counter struct {
	Name, Key string
	N         atomic.Int64
}

// AfterFirst is a go-redis hook that runs Fn once, right after the first
// command named Name (any case): another process acting between two steps.
type AfterFirst struct {
	Name string
	Fn   func()
	done atomic.Bool
}

func (h *AfterFirst) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *AfterFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *AfterFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if strings.EqualFold(cmd.Name(), h.Name) && h.done.CompareAndSwap(false, true) {
			h.Fn()
		}
		return err
	}
}

func (c *Counter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); strings.EqualFold(cmd.Name(), c.Name) && len(args) > 1 && args[1] == c.Key {
			c.N.Add(1)
		}
		return next(ctx, cmd)
	}
}
