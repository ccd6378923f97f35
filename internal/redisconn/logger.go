package redisconn

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/logburst"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/redis/go-redis/v9"
)

// LogWindow is how long the logger set by SetLogger holds back the repeats
// of a go-redis line: during an outage go-redis writes one for every failed
// dial, hundreds a second across a worker's connections.
const LogWindow = logburst.Window

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
// window ends (see logburst).
type Logger struct {
	log   *slog.Logger
	burst *logburst.Limiter
}

// NewLogger returns a logger for go-redis (see redis.SetLogger) that
// writes to log.
func NewLogger(log *slog.Logger, window time.Duration) *Logger {
	return &Logger{log: log, burst: logburst.New(log, window)}
}

// Printf implements go-redis's logging interface.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	if !l.log.Enabled(ctx, slog.LevelWarn) {
		return
	}
	msg := phone.MaskIn(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	l.burst.Log(ctx, slog.LevelWarn, format, msg, slog.String("component", "redis"))
}
