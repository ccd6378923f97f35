package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mmlite/mmlite/internal/phone"
)

// asynqLogger routes asynq's own log lines to slog, masking the phone
// numbers that its task ids ("campaign:441234567890") would otherwise leak.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) write(level slog.Level, args []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	msg := phone.MaskIn(fmt.Sprint(args...))
	l.log.Log(context.Background(), level, msg, "component", "asynq")
}

func (l asynqLogger) Debug(args ...any) { l.write(slog.LevelDebug, args) }
func (l asynqLogger) Info(args ...any)  { l.write(slog.LevelInfo, args) }

// Warn demotes to debug asynq's lines that report nothing wrong:
//   - "Retry exhausted": asynq writes it for every archived job, and the
//     worker has already reported that outcome;
//   - a recoverer's NOT FOUND: asynq runs a recoverer per dequeuer, and the
//     worker one of its own, which race for the same jobs; NOT FOUND means
//     another one already put the job back.
func (l asynqLogger) Warn(args ...any) {
	if len(args) > 0 && routine(fmt.Sprint(args[0])) {
		l.write(slog.LevelDebug, args)
		return
	}
	l.write(slog.LevelWarn, args)
}

// routine reports whether an asynq warning is one of those above. asynq
// gives only the text; these are the lines of asynq v0.26.0 (recoverer.go).
func routine(msg string) bool {
	if strings.HasPrefix(msg, "Retry exhausted") {
		return true
	}
	return (strings.HasPrefix(msg, "recoverer: could not retry lease expired task:") ||
		strings.HasPrefix(msg, "recoverer: could not move task to archive:")) && strings.HasSuffix(msg, "NOT FOUND")
}
func (l asynqLogger) Error(args ...any) { l.write(slog.LevelError, args) }

// Fatal logs at error level; asynq calls it only from Server.Run, which the
// worker does not use, so it never needs to end the process.
func (l asynqLogger) Fatal(args ...any) { l.write(slog.LevelError, args) }
