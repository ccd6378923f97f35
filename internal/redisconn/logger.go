package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/redis/go-redis/v9"
)

// LogWindow is how long the logger set by SetLogger holds back the repeats
// of a go-redis line: during an outage go-redis writes one for every failed
// dial, hundreds a second across a worker's connections.
const LogWindow = 30 * time.Second

// SetLogger sends go-redis's own lines (failed dials and the like) to log,
// as structured warnings with component=redis, a handful per outage rather
// than one per failed connection. go-redis has one logger per process: the
// command that starts a process calls this once.
func SetLogger(log *slog.Logger) {
	redis.SetLogger(NewLogger(log, LogWindow))
}

// Logger adapts slog to go-redis's logging interface. The first line of a
// kind (same format) is written at once; its repeats within window are
// counted, and the count is written, with the last of them, when the
// window ends.
type Logger struct {
	log    *slog.Logger
	window time.Duration

	mu     sync.Mutex
	bursts map[string]*burst // by format
}

// burst is one kind of line within its window.
type burst struct {
	suppressed int
	last       string
}

// NewLogger returns a logger for go-redis (see redis.SetLogger) that
// writes to log.
func NewLogger(log *slog.Logger, window time.Duration) *Logger {
	return &Logger{log: log, window: window, bursts: map[string]*burst{}}
}

// Printf implements go-redis's logging interface.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	if !l.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	msg := phone.MaskIn(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	l.mu.Lock()
	if b := l.bursts[format]; b != nil {
		b.suppressed++
		b.last = msg
		l.mu.Unlock()
		return
	}
	b := &burst{}
	l.bursts[format] = b
	l.mu.Unlock()
	time.AfterFunc(l.window, func() { l.flush(format, b) })
	l.log.LogAttrs(ctx, slog.LevelWarn, msg, slog.String("component", "redis"))
}

// flush ends a burst's window and writes how many lines it held back.
func (l *Logger) flush(format string, b *burst) {
	l.mu.Lock()
	delete(l.bursts, format)
	n, last := b.suppressed, b.last
	l.mu.Unlock()
	if n > 0 {
		l.log.LogAttrs(context.Background(), slog.LevelWarn, last, slog.String("component", "redis"),
			slog.Int("suppressed", n), slog.String("window", l.window.String()))
	}
}
