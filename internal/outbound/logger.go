package outbound

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mmlite/mmlite/internal/phone"
)

// asynqLogger routes asynq's lines to slog, masking the phone numbers a
// callback's task id (cb:result:campaign:441234567890) would leak. A
// delivery that asynq archives is logged by the server already: its
// "Retry exhausted" line is demoted to debug.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) write(level slog.Level, args []any) {
	if l.log.Enabled(context.Background(), level) {
		l.log.Log(context.Background(), level, phone.MaskIn(fmt.Sprint(args...)), "component", "asynq")
	}
}

func (l asynqLogger) Debug(args ...any) { l.write(slog.LevelDebug, args) }
func (l asynqLogger) Info(args ...any)  { l.write(slog.LevelInfo, args) }
func (l asynqLogger) Error(args ...any) { l.write(slog.LevelError, args) }
func (l asynqLogger) Fatal(args ...any) { l.write(slog.LevelError, args) }
func (l asynqLogger) Warn(args ...any) {
	level := slog.LevelWarn
	if len(args) > 0 && len(fmt.Sprint(args[0])) >= 15 && fmt.Sprint(args[0])[:15] == "Retry exhausted" {
		level = slog.LevelDebug
	}
	l.write(level, args)
}
