// Package logburst holds back the repeats of a log line: during a Redis
// outage go-redis and asynq write the same failure for every connection,
// dequeuer and tick, hundreds a second. The first line of a kind is written
// at once; its repeats within the window are counted, and the last of them
// is written with the count when the window ends.
package logburst

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Window is how long the repeats of a line are held back.
const Window = 30 * time.Second

// Limiter writes to its logger, a line of each kind per window.
type Limiter struct {
	log    *slog.Logger
	window time.Duration

	mu     sync.Mutex
	bursts map[string]*burst // by kind
}

// burst is one kind of line within its window.
type burst struct {
	suppressed int
	level      slog.Level
	last       string
	attrs      []slog.Attr
}

// New returns a limiter that writes to log.
func New(log *slog.Logger, window time.Duration) *Limiter {
	l := &Limiter{log: log, window: window, bursts: map[string]*burst{}}
	live.mu.Lock()
	live.all = append(live.all, l)
	live.mu.Unlock()
	return l
}

// live are the limiters made, for Flush.
var live struct {
	mu  sync.Mutex
	all []*Limiter
}

// Flush ends every limiter's windows now, writing what each held back: for
// a process about to end, whose last windows would otherwise go unwritten.
func Flush() {
	live.mu.Lock()
	all := live.all
	live.mu.Unlock()
	for _, l := range all {
		l.mu.Lock()
		open := make(map[string]*burst, len(l.bursts))
		for k, b := range l.bursts {
			open[k] = b
		}
		l.mu.Unlock()
		for k, b := range open {
			l.flush(k, b)
		}
	}
}

// Log writes msg with attrs at level, unless a line of the same kind was
// written within the window: then it is counted, for the line that ends
// the window.
func (l *Limiter) Log(ctx context.Context, level slog.Level, kind, msg string, attrs ...slog.Attr) {
	l.mu.Lock()
	if b := l.bursts[kind]; b != nil {
		b.suppressed++
		b.level, b.last, b.attrs = level, msg, attrs
		l.mu.Unlock()
		return
	}
	b := &burst{}
	l.bursts[kind] = b
	l.mu.Unlock()
	time.AfterFunc(l.window, func() { l.flush(kind, b) })
	l.log.LogAttrs(ctx, level, msg, attrs...)
}

// flush ends a burst's window and writes how many lines it held back;
// once only (Flush may have ended it before its timer).
func (l *Limiter) flush(kind string, b *burst) {
	l.mu.Lock()
	if l.bursts[kind] == b {
		delete(l.bursts, kind)
	}
	n, level, last, attrs := b.suppressed, b.level, b.last, b.attrs
	b.suppressed = 0
	l.mu.Unlock()
	if n > 0 {
		attrs = append(attrs[:len(attrs):len(attrs)], slog.Int("suppressed", n), slog.String("window", l.window.String()))
		l.log.LogAttrs(context.Background(), level, last, attrs...)
	}
}
