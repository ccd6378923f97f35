package asynqlog

import (
	"bytes"
	"log/slog"
	"testing"

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
