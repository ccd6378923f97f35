package asynqlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// asynq's recoverers (one per dequeuer, in every worker) race for the same
// jobs: the losers' NOT FOUND means another already recovered the job, and
// is not worth a warning. Other recoverer failures still are.
func TestLogger_RecovererNotFoundIsDebug(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn})))
	l.Warn("recoverer: could not retry lease expired task: INTERNAL_ERROR: redis eval error: NOT FOUND")
	l.Warn("recoverer: could not move task to archive: INTERNAL_ERROR: redis eval error: NOT FOUND")
	require.Empty(t, out.String())

	l.Warn("recoverer: could not retry lease expired task: INTERNAL_ERROR: redis eval error: dial tcp 127.0.0.1:6379: connect: connection refused")
	l.Warn("recoverer: could not list lease expired tasks: INTERNAL_ERROR: redis eval error: i/o timeout")
	l.Warn("Could not remove task id=c:441234567890 from \"asynq:{q}:active\" err: NOT FOUND")
	got := out.String()
	require.Equal(t, 3, bytes.Count(out.Bytes(), []byte("level=WARN")), got)
	require.Contains(t, got, "component=asynq")
	require.Contains(t, got, "4412*****890", "phone numbers are masked")

	var debug bytes.Buffer
	l = New(slog.New(slog.NewTextHandler(&debug, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l.Warn("recoverer: could not retry lease expired task: INTERNAL_ERROR: redis eval error: NOT FOUND")
	require.Contains(t, debug.String(), "level=DEBUG")
}

// An archived task is reported by mmlite already: asynq's own line is
// debug; every line masks numbers.
func TestLogger_RetryExhaustedIsDebug(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo})))
	l.Warn("Retry exhausted for task id=cb:result:c1:441234567890")
	require.Empty(t, out.String())
	l.Info("Starting processing of cb:result:c1:441234567890")
	require.Contains(t, out.String(), "4412*****890")
	require.NotContains(t, out.String(), "441234567890")
}

// During a Redis outage every dequeuer of a worker, and its heartbeat,
// forwarder and recoverer, writes its error every second or faster: a
// 10 s outage was some 300 ERROR lines. The first line of a kind is
// written at once; its repeats within the window are counted, and written
// once, with the count, when the window ends (as go-redis's own lines
// are, see redisconn.SetLogger).
func TestLogger_RepeatsOfAnErrorAreCounted(t *testing.T) {
	t.Parallel()
	var out redistest.SyncBuffer
	l := newLogger(slog.New(slog.NewJSONHandler(&out, nil)), 300*time.Millisecond)
	for i := range 300 {
		l.Error(fmt.Sprintf("Dequeue error: UNKNOWN: redis eval error: dial tcp 127.0.0.1:%d: connect: connection refused", 6379+i%2))
	}
	l.Warn("recoverer: could not list lease expired tasks: INTERNAL_ERROR: redis eval error: i/o timeout")
	l.Error("Could not push task id=c:441234567890 back to queue: UNKNOWN: i/o timeout")
	l.Info("Starting graceful shutdown")

	lines := out.JSONLines(t)
	require.Len(t, lines, 4, "one line a kind within the window: %s", &out)
	require.Equal(t, "ERROR", lines[0]["level"])
	require.Equal(t, "asynq", lines[0]["component"])
	require.Contains(t, lines[0]["msg"], "Dequeue error")
	require.Equal(t, "WARN", lines[1]["level"])
	require.Contains(t, lines[2]["msg"], "4412*****890", "phone numbers are masked")

	require.Eventually(t, func() bool { return len(out.JSONLines(t)) == 5 }, 5*time.Second, 10*time.Millisecond)
	sum := out.JSONLines(t)[4]
	require.Equal(t, "ERROR", sum["level"])
	require.Equal(t, "asynq", sum["component"])
	require.Contains(t, sum["msg"], "Dequeue error")
	require.EqualValues(t, 299, sum["suppressed"])
	require.Equal(t, "300ms", sum["window"])
}
