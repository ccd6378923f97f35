package redisbatch

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Batcher coalesces script calls into pipelines.
type Batcher struct {
	rdb    redis.UniversalClient
	window time.Duration
	max    int

	mu      sync.Mutex
	pending []*call
	running bool
}

type call struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any
	cmd    *redis.Cmd
	done   chan struct{}
}

// New returns a batcher that waits up to window for company and sends at
// most max calls per pipeline.
func New(rdb redis.UniversalClient, window time.Duration, max int) *Batcher {
	return &Batcher{rdb: rdb, window: window, max: max}
}

// Run runs the script like script.Run, sharing a round trip with the calls
// of other goroutines. The returned command holds the result or the error.
func (b *Batcher) Run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	c := &call{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	if !b.running {
		b.running = true
		go b.loop()
	}
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.cmd
	case <-ctx.Done():
	}
	// Not yet in a pipeline: withdraw the call. Already in one: it may run,
	// so its outcome must be known (a claim taken for a send that never
	// happens would lose the recipient); the pipeline's timeout bounds this.
	b.mu.Lock()
	if i := slices.Index(b.pending, c); i >= 0 {
		b.pending = slices.Delete(b.pending, i, i+1)
		b.mu.Unlock()
		cmd := redis.NewCmd(ctx)
		cmd.SetErr(ctx.Err())
		return cmd
	}
	b.mu.Unlock()
	<-c.done
	return c.cmd
}

// loop sends pipelines until no call is waiting.
func (b *Batcher) loop() {
	time.Sleep(b.window)
	for {
		b.mu.Lock()
		if len(b.pending) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		n := min(len(b.pending), b.max)
		batch := append([]*call(nil), b.pending[:n]...)
		b.pending = b.pending[n:]
		b.mu.Unlock()
		b.exec(batch)
	}
}

// exec sends one pipeline. Scripts unknown to the server (after a restart
// or a failover) are loaded and their calls sent again.
func (b *Batcher) exec(batch []*call) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var live []*call
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil { // its caller gave up before it was sent
			c.cmd = redis.NewCmd(c.ctx)
			c.cmd.SetErr(err)
			continue
		}
		live = append(live, c)
	}
	b.send(ctx, live)
	var again []*call
	loaded := map[*redis.Script]bool{}
	for _, c := range live {
		if err := c.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			if !loaded[c.script] {
				if lerr := c.script.Load(ctx, b.rdb).Err(); lerr != nil {
					c.cmd.SetErr(errors.Join(err, lerr))
					continue
				}
				loaded[c.script] = true
			}
			again = append(again, c)
		}
	}
	if len(again) > 0 {
		b.send(ctx, again)
	}
	for _, c := range batch {
		close(c.done)
	}
}

func (b *Batcher) send(ctx context.Context, batch []*call) {
	pipe := b.rdb.Pipeline()
	for _, c := range batch {
		c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own error
}
