package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Local limits each sender within one process, with x/time/rate.
type Local struct {
	mu      sync.Mutex
	senders map[string]*localSender
	now     func() time.Time
}

type localSender struct {
	lim     *rate.Limiter
	backoff Backoff
	set     float64 // the rate lim was last set to
}

// Config is one sender's configured rate and burst.
type Config struct {
	Rate  float64
	Burst int
}

// NewLocal returns a per-process limiter for the given senders.
func NewLocal(senders map[string]Config) *Local {
	l := &Local{senders: make(map[string]*localSender, len(senders)), now: time.Now}
	for id, c := range senders {
		l.senders[id] = &localSender{lim: rate.NewLimiter(rate.Limit(c.Rate), c.Burst),
			backoff: Backoff{Configured: c.Rate}, set: c.Rate}
	}
	return l
}

// Reserve implements Limiter. Unknown senders are not limited.
func (l *Local) Reserve(_ context.Context, sender string, max time.Duration) (time.Duration, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.senders[sender]
	if s == nil {
		return 0, true, nil
	}
	now := l.now()
	s.adjust(now)
	hold := s.backoff.HoldUntil.Sub(now)
	if hold < 0 {
		hold = 0
	}
	r := s.lim.ReserveN(now.Add(hold), 1)
	if !r.OK() {
		return max, false, nil
	}
	wait := hold + r.DelayFrom(now.Add(hold))
	if wait > max {
		r.CancelAt(now.Add(hold))
		return wait, false, nil
	}
	return wait, true, nil
}

// Throttled implements Limiter.
func (l *Local) Throttled(_ context.Context, sender string, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.senders[sender]; s != nil {
		now := l.now()
		s.backoff = s.backoff.Throttle(now, retryAfter)
		s.adjust(now)
	}
}

// Rate implements Limiter.
func (l *Local) Rate(sender string) float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.senders[sender]; s != nil {
		return s.backoff.Rate(l.now())
	}
	return 0
}

// adjust sets the token rate to the effective rate when it moved by 1 % or more.
func (s *localSender) adjust(now time.Time) {
	r := s.backoff.Rate(now)
	if math.Abs(r-s.set) >= s.backoff.Configured/100 || (r == s.backoff.Configured && r != s.set) {
		s.lim.SetLimitAt(now, rate.Limit(r))
		s.set = r
	}
}
