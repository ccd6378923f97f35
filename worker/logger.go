package worker

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"

	"github.com/mmlite/mmlite/pkg/phone"
)

// asynqLogger routes asynq's own log lines to slog, masking the phone
// numbers that its task ids ("campaign:441234567890") would otherwise leak.
type asynqLogger struct{ log *slog.Logger }

var digitRun = regexp.MustCompile(`\d{8,15}`)

func (l asynqLogger) write(level slog.Level, args []any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	msg := digitRun.ReplaceAllStringFunc(fmt.Sprint(args...), phone.Mask)
	l.log.Log(context.Background(), level, msg, "component", "asynq")
}

func (l asynqLogger) Debug(args ...any) { l.write(slog.LevelDebug, args) }
func (l asynqLogger) Info(args ...any)  { l.write(slog.LevelInfo, args) }

// Warn demotes asynq's "Retry exhausted" line to debug: asynq writes it for
// every archived job, and the worker has already reported that outcome.
func (l asynqLogger) Warn(args ...any) {
	if len(args) > 0 && strings.HasPrefix(fmt.Sprint(args[0]), "Retry exhausted") {
		l.write(slog.LevelDebug, args)
		return
	}
	l.write(slog.LevelWarn, args)
}
func (l asynqLogger) Error(args ...any) { l.write(slog.LevelError, args) }

// Fatal logs at error level; asynq calls it only from Server.Run, which the
// worker does not use, so it never needs to end the process.
func (l asynqLogger) Fatal(args ...any) { l.write(slog.LevelError, args) }
