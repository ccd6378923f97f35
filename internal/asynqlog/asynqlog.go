package asynqlog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mmlite/mmlite/internal/logburst"
	"github.com/mmlite/mmlite/internal/phone"
)

// New returns an asynq.Logger that writes to log with "component=asynq".
func New(log *slog.Logger) asynq.Logger { return newLogger(log, logburst.Window) }

// newLogger is New with the window of a warning's or an error's repeats.
func newLogger(log *slog.Logger, window time.Duration) asynq.Logger {
	return logger{log, logburst.New(log, window)}
}

// logger masks the phone numbers that asynq's task ids
// ("campaign:441234567890", "cb:result:campaign:441234567890") would
// otherwise leak, and holds back the repeats of its warnings and errors:
// during a Redis outage each of a worker's dequeuers, its heartbeat,
// forwarder and recoverer write theirs every second or faster.
type logger struct {
	log   *slog.Logger
	burst *logburst.Limiter
}

func (l logger) write(level slog.Level, args []any) {
	ctx := context.Background()
	if !l.log.Enabled(ctx, level) {
		return
	}
	msg := phone.MaskIn(fmt.Sprint(args...))
	if level < slog.LevelWarn {
		l.log.LogAttrs(ctx, level, msg, slog.String("component", "asynq"))
		return
	}
	l.burst.Log(ctx, level, kind(level, msg), msg, slog.String("component", "asynq"))
}

// kind is what makes two of asynq's lines repeats of one another: the same
// level and the same start, digits aside (a port, a count, a masked id's).
// asynq gives only its lines' text, its errors' text within.
func kind(level slog.Level, msg string) string {
	k := make([]byte, 0, kindLen)
	for i := 0; i < len(msg) && len(k) < kindLen; i++ {
		if c := msg[i]; c < '0' || c > '9' {
			k = append(k, c)
		}
	}
	return level.String() + " " + string(k)
}

// kindLen is how much of a line's start tells its kind: enough for
// "recoverer: could not list lease expired tasks" and the first words of
// its error.
const kindLen = 64

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
