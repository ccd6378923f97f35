package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/redis/go-redis/v9"
)

// EnvURL names the real Redis to test against.
const EnvURL = "MMLITE_TEST_REDIS_URL"

// Redis is one test's Redis and the names it may use.
type Redis struct {
	Opt     asynq.RedisConnOpt
	Client  redis.UniversalClient
	Queue   string // the send queue (and hash tag) for this test
	Results string // the results queue for this test
	Keys    keyspace.Space
	Mini    *miniredis.Miniredis // nil on a real server
	URL     string               // MMLITE_REDIS_URL of this Redis, for processes the test starts
}

// New returns a Redis for t, cleaned up when t ends: the server named by
// MMLITE_TEST_REDIS_URL, or an embedded one.
func New(t testing.TB) *Redis {
	t.Helper()
	return NewURL(t, os.Getenv(EnvURL))
}

// NewURL returns a Redis for t on the server at url (any form of
// MMLITE_REDIS_URL), or on an embedded one when url is empty.
func NewURL(t testing.TB, url string) *Redis {
	t.Helper()
	suffix := randomSuffix(t)
	r := &Redis{Queue: "mmlite-" + suffix, Results: "mmlite-results-" + suffix}
	r.Keys = keyspace.New(r.Queue)
	if url != "" {
		opt, err := redisconn.Parse(url, 64)
		if err != nil {
			t.Fatalf("redistest: %s: %v", redisconn.Redact(url), err)
		}
		r.Opt, r.URL = opt, url
	} else {
		r.Mini = miniredis.RunT(t)
		r.Opt = asynq.RedisClientOpt{Addr: r.Mini.Addr(), PoolSize: 64}
		r.URL = "redis://" + r.Mini.Addr() + "/0"
	}
	r.Client = redisconn.Client(r.Opt)
	if err := r.Client.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() {
		if r.Mini == nil {
			r.cleanup()
		}
		_ = r.Client.Close()
	})
	return r
}

// Real reports whether the test runs against a real Redis server.
func (r *Redis) Real() bool { return r.Mini == nil }

// SkipUnlessReal skips a test that needs a real server, saying so.
func SkipUnlessReal(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvURL) == "" {
		t.Skipf("needs a real Redis: set %s (e.g. redis://127.0.0.1:6379/15)", EnvURL)
	}
}

// cleanup deletes every key of this test's queues from the shared server
// (from every master of a cluster).
func (r *Redis) cleanup() {
	ctx := context.Background()
	if cc, ok := r.Client.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			r.deleteKeys(ctx, c)
			return nil
		})
	} else {
		r.deleteKeys(ctx, r.Client)
	}
	for _, q := range []string{r.Queue, r.Results} {
		r.Client.SRem(ctx, keyspace.AsynqQueues, q)
	}
}

func (r *Redis) deleteKeys(ctx context.Context, c redis.Cmdable) {
	for _, q := range []string{r.Queue, r.Results} {
		iter := c.Scan(ctx, 0, "*{"+q+"}*", 1000).Iterator()
		var batch []string
		for iter.Next(ctx) {
			batch = append(batch, iter.Val())
			if len(batch) == 500 {
				c.Unlink(ctx, batch...)
				batch = batch[:0]
			}
		}
		if len(batch) > 0 {
			c.Unlink(ctx, batch...)
		}
	}
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
