package producer_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// largeRows yields n recipients whose body parameter is size bytes, and
// counts the rows read.
type largeRows struct {
	n    int64
	comp mmapi.Component
	read atomic.Int64
}

func newLargeRows(t *testing.T, n int64, size int) *largeRows {
	c, err := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []any{map[string]any{"type": "text", "text": strings.Repeat("y", size)}}})
	require.NoError(t, err)
	return &largeRows{n: n, comp: c}
}

func (s *largeRows) Next() (producer.Recipient, int, error) {
	i := s.read.Add(1) - 1
	if i >= s.n {
		s.read.Add(-1)
		return producer.Recipient{}, 0, io.EOF
	}
	return producer.Recipient{To: fmt.Sprintf("4477009%05d", i), Components: []mmapi.Component{s.comp}}, int(i), nil
}

// holdScripts is a go-redis hook that holds every script call until
// released: a Redis that is slow to take the batches.
type holdScripts struct {
	on      atomic.Bool
	release chan struct{}
}

func (h *holdScripts) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *holdScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *holdScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := strings.ToLower(cmd.Name()); h.on.Load() && (n == "evalsha" || n == "eval") {
			select {
			case <-h.release:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return next(ctx, cmd)
	}
}

// However slow Redis is, one enqueue holds a bounded amount of jobs: rows as
// large as allowed (900 KiB) stop being read once about 12 MiB of them wait
// for Redis (before: 17 batches of 4 MiB, 85 rows).
func TestEnqueue_SlowRedisLargeRowsBoundedInFlight(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	hold := &holdScripts{release: make(chan struct{})}
	c := redisconn.Client(r.Opt)
	c.AddHook(hold)
	t.Cleanup(func() { _ = c.Close() })
	p, err := producer.New(producer.Config{Client: c, Queue: r.Queue}) // the default 8 writers, 500 rows a batch
	require.NoError(t, err)
	b := &bundle{r: r, p: p, ctx: context.Background()}
	camp := b.campaign(t, nil)
	hold.on.Store(true)

	const size = 900 << 10
	src := newLargeRows(t, 200, size)
	done := make(chan error, 1)
	var sum *producer.Summary
	go func() {
		var err error
		sum, err = p.Enqueue(b.ctx, camp, src, producer.Options{})
		done <- err
	}()
	// Wait until the reader stops: every row it read is then held.
	last := int64(-1)
	require.Eventually(t, func() bool {
		n := src.read.Load()
		still := n == last
		last = n
		return still && n > 0
	}, 30*time.Second, 300*time.Millisecond)
	held := src.read.Load()
	t.Logf("%d rows of %d KiB read while Redis takes none: %.1f MiB", held, size>>10, float64(held*size)/(1<<20))
	require.LessOrEqual(t, held*size, int64(12<<20), "jobs waiting for Redis are bounded")

	close(hold.release)
	require.NoError(t, <-done)
	require.EqualValues(t, 200, sum.Accepted)
}
