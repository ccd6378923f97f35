package asynqwire

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// Published lists queues in asynq's set of queues (keyspace.AsynqQueues)
// once, as asynq's own client does before its first enqueue, so that
// asynq's tools show the tasks written with Enqueue. The zero value is
// ready.
type Published struct {
	mu   sync.Mutex
	done atomic.Bool // read first without mu: every webhook asks
}

// Ensure lists queues, unless a call before succeeded.
func (p *Published) Ensure(ctx context.Context, rdb redis.Cmdable, queues ...string) error {
	if p.done.Load() {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done.Load() {
		return nil
	}
	qs := make([]any, len(queues))
	for i, q := range queues {
		qs[i] = q
	}
	if err := rdb.SAdd(ctx, keyspace.AsynqQueues, qs...).Err(); err != nil {
		return err
	}
	p.done.Store(true)
	return nil
}
