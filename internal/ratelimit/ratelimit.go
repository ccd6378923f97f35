package ratelimit

import (
	"context"
	"time"
)

// Limiter gives out send slots per sender.
type Limiter interface {
	// Reserve takes the sender's next send slot and returns how long to wait
	// for it (negative for a slot given back whose time has passed: send
	// now, and give it back as now+wait). When that slot is further away than max, nothing is taken, ok
	// is false and wait says roughly when to come back.
	Reserve(ctx context.Context, sender string, max time.Duration) (wait time.Duration, ok bool, err error)
	// Throttled slows the sender down after the provider throttled it, and
	// holds every send of it for retryAfter when that is set.
	Throttled(ctx context.Context, sender string, retryAfter time.Duration)
	// Rate is the sender's effective rate in messages per second.
	Rate(sender string) float64
	// Held says how much longer the sender's sends are held after a
	// throttle's Retry-After (0 when they are not), as the fleet knows it.
	// A job that took its slot before the throttle asks again before it sends.
	Held(ctx context.Context, sender string) (time.Duration, error)
	// Unused gives back the slot at at, which Reserve handed out and no send
	// used, for the sender's next job while it is fresh.
	Unused(sender string, at time.Time)
}

// Slow-down and recovery after a throttle: halve the rate (never below
// MinShare of the configured rate), then add RecoverShare of the configured
// rate per second until it is back. Throttles within Debounce of the last
// one count once, since a burst of answers reports the same overload.
const (
	MinShare     = 0.05
	RecoverShare = 0.05
	Debounce     = time.Second
)

// Backoff is the effective rate after a throttle: the rate r0 set at the
// last throttle, recovering linearly to the configured rate.
type Backoff struct {
	Configured float64
	R0         float64   // rate set at the last throttle; 0 = never throttled
	At         time.Time // when
	HoldUntil  time.Time // no sends before this (Retry-After)
}

// Rate is the effective rate at now.
func (b Backoff) Rate(now time.Time) float64 {
	if b.R0 == 0 {
		return b.Configured
	}
	r := b.R0 + now.Sub(b.At).Seconds()*b.Configured*RecoverShare
	if r > b.Configured {
		return b.Configured
	}
	return r
}

// Throttle returns the backoff after a throttle at now.
func (b Backoff) Throttle(now time.Time, retryAfter time.Duration) Backoff {
	if b.R0 == 0 || now.Sub(b.At) >= Debounce {
		r := b.Rate(now) / 2
		if min := b.Configured * MinShare; r < min {
			r = min
		}
		b.R0, b.At = r, now
	}
	if hold := now.Add(retryAfter); hold.After(b.HoldUntil) {
		b.HoldUntil = hold
	}
	return b
}

// Config is one sender's configured rate and burst.
type Config struct {
	Rate  float64
	Burst int
}
