package redisconn_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1, DialerRetries: 1})
	defer c.Close()
	ctx := context.Background()

	// Answers of Redis are not outages.
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	answer := c.LPush(ctx, "k", "x").Err() // WRONGTYPE
	require.Error(t, answer)
	require.False(t, redisconn.Unavailable(answer), "%v", answer)
	require.False(t, redisconn.Unavailable(c.Get(ctx, "missing").Err()), "redis.Nil")
	require.False(t, redisconn.Unavailable(nil))

	// A server that does not answer is.
	m.Close()
	down := c.Ping(ctx).Err()
	require.True(t, redisconn.Unavailable(down), "%v", down)
	require.True(t, redisconn.Unavailable(fmt.Errorf("campaign: settle: %w", down)), "wrapped")
	loading := redis.NewStatusResult("", errorReply("LOADING Redis is loading the dataset in memory")).Err()
	require.True(t, redisconn.Unavailable(loading), "%v", loading)
	timeout, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-timeout.Done()
	require.True(t, redisconn.Unavailable(timeout.Err()))
	var ne net.Error = &net.OpError{Op: "dial", Err: errors.New("connection refused")}
	require.True(t, redisconn.Unavailable(ne))

	// A client its owner closed will not come back; a cancelled call was given up.
	require.NoError(t, c.Close())
	require.False(t, redisconn.Unavailable(c.Ping(ctx).Err()))
	gone, stop := context.WithCancel(ctx)
	stop()
	require.False(t, redisconn.Unavailable(gone.Err()))

	// A file that cannot be read is not Redis (an *fs.PathError has the
	// methods of a net.Error).
	_, err := os.ReadFile(filepath.Join(t.TempDir(), "missing.csv"))
	require.Error(t, err)
	require.False(t, redisconn.Unavailable(err), "%v", err)
	require.False(t, redisconn.Unavailable(fmt.Errorf("read recipients: %w", err)))

	// Nor is a server's address that cannot be bound.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = net.Listen("tcp", ln.Addr().String())
	require.Error(t, err)
	require.False(t, redisconn.Unavailable(fmt.Errorf("worker: MMLITE_METRICS_ADDR: %w", err)), "%v", err)
}

// errorReply is an error as Redis answers it.
type errorReply string

func (e errorReply) Error() string { return string(e) }
func (errorReply) RedisError()     {}
