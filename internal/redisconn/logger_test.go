package redisconn_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const dialFailed = "redis: connection pool: failed to dial after %d attempts: %v"

func TestLogger_StructuredMaskedAndDeduplicated(t *testing.T) {
	t.Parallel()
	var out redistest.SyncBuffer
	l := redisconn.NewLogger(slog.New(slog.NewJSONHandler(&out, nil)), 300*time.Millisecond)
	ctx := context.Background()
	refused := errors.New("dial tcp 127.0.0.1:6399: connect: connection refused")
	for range 300 {
		l.Printf(ctx, dialFailed, 5, refused)
	}
	l.Printf(ctx, "redis: conn for %s has unread data", "441234567890")

	lines := out.JSONLines(t)
	require.Len(t, lines, 2, "one line per kind within the window: %s", &out)
	require.Equal(t, "WARN", lines[0]["level"])
	require.Equal(t, "redis", lines[0]["component"])
	require.Equal(t, "connection pool: failed to dial after 5 attempts: dial tcp 127.0.0.1:6399: connect: connection refused", lines[0]["msg"])
	require.Equal(t, "conn for 4412*****890 has unread data", lines[1]["msg"], "phone numbers are masked")

	// When the window ends, what was held back is counted.
	require.Eventually(t, func() bool { return len(out.JSONLines(t)) == 3 }, 5*time.Second, 10*time.Millisecond)
	sum := out.JSONLines(t)[2]
	require.Equal(t, "WARN", sum["level"])
	require.Equal(t, "redis", sum["component"])
	require.Equal(t, lines[0]["msg"], sum["msg"])
	require.EqualValues(t, 299, sum["suppressed"])
	require.Equal(t, "300ms", sum["window"])

	// A new window starts with a full line again.
	l.Printf(ctx, dialFailed, 5, refused)
	require.Len(t, out.JSONLines(t), 4)
	time.Sleep(500 * time.Millisecond)
	require.Len(t, out.JSONLines(t), 4, "nothing held back, nothing to count")
}

// go-redis's own lines (its pool's dial failures) go through the logger set
// with SetLogger: structured, and a handful however many dials fail.
func TestSetLogger_RoutesGoRedisLines(t *testing.T) {
	var out redistest.SyncBuffer
	redisconn.SetLogger(slog.New(slog.NewJSONHandler(&out, nil)))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, PoolSize: 100})
	defer c.Close()
	for range 50 {
		require.Error(t, c.Ping(context.Background()).Err())
	}
	lines := out.JSONLines(t)
	require.Len(t, lines, 1, "50 failed dials, one line: %s", &out)
	require.Equal(t, "redis", lines[0]["component"])
	require.Equal(t, "WARN", lines[0]["level"])
	require.Contains(t, lines[0]["msg"], "failed to dial")
}
