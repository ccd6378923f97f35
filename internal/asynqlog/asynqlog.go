package asynqlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/mmlite/mmlite/internal/phone"
)

// New returns an asynq.Logger that writes to log with "component=asynq".
func New(log *slog.Logger) asynq.Logger { return logger{log} }

// logger masks the phone numbers that asynq's task ids
// ("campaign:441234567890", "cb:result:campaign:441234567890") would
// otherwise leak.
type logger struct{ log *slog.Logger }

func (l logger) write(level slog.Level, args []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	l.log.Log(context.Background(), level, phone.MaskIn(fmt.Sprint(args...)), "component", "asynq")
}

func (l logger) Debug(args ...any) { l.write(slog.LevelDebug, args) }
func (l logger) Info(args ...any)  { l.write(slog.LevelInfo, args) }

// Warn demotes to debug asynq's lines that report nothing wrong:
//   - "Retry exhausted": asynq writes it for every archived task, whose
//     outcome mmlite has already reported;
//   - a recoverer's NOT FOUND: asynq runs a recoverer per server, and the
//     worker one of its own, which race for the same tasks; NOT FOUND means
//     another one already put the task back.
func (l logger) Warn(args ...any) {
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

func (l logger) Error(args ...any) { l.write(slog.LevelError, args) }

// Fatal logs at error level; asynq calls it only from Server.Run, which
// mmlite does not use, so it never needs to end the process.
func (l logger) Fatal(args ...any) { l.write(slog.LevelError, args) }
