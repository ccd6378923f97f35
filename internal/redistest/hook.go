package redistest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// commandHook is the part of a go-redis hook that leaves dials and
// pipelines alone: the hooks below act on single commands.
type commandHook struct{}

func (commandHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (commandHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Counter is a go-redis hook that counts the commands named Name (any
// case) whose first key is Key.
type Counter struct {
	commandHook
	Name, Key string
	N         atomic.Int64
}

func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if args := cmd.Args(); strings.EqualFold(cmd.Name(), c.Name) && len(args) > 1 && args[1] == c.Key {
			c.N.Add(1)
		}
		return next(ctx, cmd)
	}
}

// AfterFirst is a go-redis hook that runs Fn once, right after the first
// command named Name (any case), and naming Arg when it is set (a script
// call by one of its keys): another process acting between two steps.
// With Pipelines, a command sent in a pipeline (an autopipelining client's
// too) counts, and Fn runs once that pipeline is done.
type AfterFirst struct {
	Name, Arg string
	Pipelines bool
	Fn        func()
	done      atomic.Bool
}

func (h *AfterFirst) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *AfterFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.after(cmd)
		return err
	}
}

func (h *AfterFirst) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if h.Pipelines {
			for _, cmd := range cmds {
				h.after(cmd)
			}
		}
		return err
	}
}

func (h *AfterFirst) after(cmd redis.Cmder) {
	if strings.EqualFold(cmd.Name(), h.Name) && (h.Arg == "" || slices.Contains(cmd.Args(), any(h.Arg))) &&
		h.done.CompareAndSwap(false, true) {
		h.Fn()
	}
}

// ErrInjected is the error FailFirst fails with.
var ErrInjected = errors.New("redistest: injected failure")

// FailFirst is a go-redis hook that fails the first command named Name
// (any case) with ErrInjected, without sending it: Redis answering an
// error once. With Arg set, only a command with Arg among its arguments
// (a script call that writes one job, by its id) counts.
type FailFirst struct {
	commandHook
	Name string
	Arg  any
	done atomic.Bool
}

func (h *FailFirst) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if strings.EqualFold(cmd.Name(), h.Name) && (h.Arg == nil || slices.Contains(cmd.Args(), h.Arg)) &&
			h.done.CompareAndSwap(false, true) {
			cmd.SetErr(ErrInjected)
			return ErrInjected
		}
		return next(ctx, cmd)
	}
}

// FailMatching is a go-redis hook that fails the first N commands Match
// says yes to, alone or in a pipeline (then the whole pipeline fails),
// with ErrInjected, without sending them: Redis answering an error N
// times to one kind of step.
type FailMatching struct {
	Match func(cmd redis.Cmder) bool
	N     atomic.Int64
}

// NewFailMatching fails the first n commands match says yes to.
func NewFailMatching(n int64, match func(cmd redis.Cmder) bool) *FailMatching {
	h := &FailMatching{Match: match}
	h.N.Store(n)
	return h
}

func (h *FailMatching) hit(cmds ...redis.Cmder) bool {
	for _, c := range cmds {
		if h.Match(c) && h.N.Add(-1) >= 0 {
			return true
		}
	}
	return false
}

func (h *FailMatching) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *FailMatching) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.hit(cmd) {
			cmd.SetErr(ErrInjected)
			return ErrInjected
		}
		return next(ctx, cmd)
	}
}

func (h *FailMatching) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if h.hit(cmds...) {
			for _, c := range cmds {
				c.SetErr(ErrInjected)
			}
			return ErrInjected
		}
		return next(ctx, cmds)
	}
}

// RunTwice is a go-redis hook that, while On, sends each script call
// (EVAL, EVALSHA) naming Key to Redis twice and answers with the second
// run's reply: what go-redis does when the first reply is lost to a read
// timeout (it retries timeouts, MaxRetries times). Between, when set, runs
// between the two (another client acting while the reply is lost), and the
// hook turns itself off then. N counts the calls sent twice.
type RunTwice struct {
	commandHook
	Key     string
	On      atomic.Bool
	N       atomic.Int64
	Between func()
}

func (h *RunTwice) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); !h.On.Load() || (n != "evalsha" && n != "eval") || !slices.Contains(cmd.Args(), any(h.Key)) {
			return next(ctx, cmd)
		}
		if err := next(ctx, cmd); err != nil {
			return err
		}
		h.N.Add(1)
		if h.Between != nil {
			h.On.Store(false)
			h.Between()
		}
		return next(ctx, cmd)
	}
}
