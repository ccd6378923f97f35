package logburst

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A process that stops within a window (a worker stopped during or just
// after an outage) writes what it held back before it ends: otherwise its
// logs show a failure once that went on for seconds.
func TestFlush_WritesWhatWasHeldBack(t *testing.T) {
	var out bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&out, nil)), time.Hour)
	for range 5 {
		l.Log(context.Background(), slog.LevelError, "dequeue", "Dequeue error: connection refused", slog.String("component", "asynq"))
	}
	l.Log(context.Background(), slog.LevelWarn, "other", "once")
	if n := strings.Count(out.String(), "\n"); n != 2 {
		t.Fatalf("want 2 lines before the flush, got %d: %s", n, &out)
	}
	Flush()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[2], "suppressed=4") || !strings.Contains(lines[2], "component=asynq") ||
		!strings.Contains(lines[2], "level=ERROR") {
		t.Fatalf("want a third line counting 4 held back: %s", &out)
	}
	Flush()
	l.Log(context.Background(), slog.LevelError, "dequeue", "Dequeue error: connection refused")
	if n := strings.Count(out.String(), "\n"); n != 4 {
		t.Fatalf("after a flush nothing is counted twice, and a new window starts with a full line: %s", &out)
	}
}
