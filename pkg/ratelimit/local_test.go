package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	b := Backoff{Configured: 80}
	require.EqualValues(t, 80, b.Rate(t0))

	b = b.Throttle(t0, 0)
	require.EqualValues(t, 40, b.Rate(t0), "halved")
	require.EqualValues(t, 44, b.Rate(t0.Add(time.Second)), "recovers by 5 % of the configured rate per second")
	require.EqualValues(t, 80, b.Rate(t0.Add(time.Minute)), "never above the configured rate")

	b2 := b.Throttle(t0.Add(500*time.Millisecond), 0)
	require.EqualValues(t, 40, b2.R0, "throttles within a second count once")
	b3 := b.Throttle(t0.Add(2*time.Second), 3*time.Second)
	require.EqualValues(t, 24, b3.R0, "the effective rate (48) halved")
	require.Equal(t, t0.Add(5*time.Second), b3.HoldUntil)

	low := Backoff{Configured: 80}
	for i := range 20 {
		low = low.Throttle(t0.Add(time.Duration(i)*Debounce), 0)
	}
	require.InDelta(t, 80*MinShare, low.R0, 0.5, "never below the floor")
}

func TestLocal_SpacesSends(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := NewLocal(map[string]Config{"s": {Rate: 10, Burst: 2}})
	l.now = func() time.Time { return now }
	ctx := context.Background()
	var waits []time.Duration
	for range 5 {
		w, ok, err := l.Reserve(ctx, "s", time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		waits = append(waits, w)
	}
	require.Equal(t, []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}, waits)

	// A slot further than max is not taken.
	w, ok, err := l.Reserve(ctx, "s", 350*time.Millisecond)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, 400*time.Millisecond, w)
	w, ok, _ = l.Reserve(ctx, "s", time.Second)
	require.True(t, ok)
	require.Equal(t, 400*time.Millisecond, w, "the refused slot was given back")

	w, ok, _ = l.Reserve(ctx, "unknown", 0)
	require.True(t, ok)
	require.Zero(t, w)
}

func TestLocal_Throttled(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := NewLocal(map[string]Config{"s": {Rate: 10, Burst: 1}})
	l.now = func() time.Time { return now }
	ctx := context.Background()
	l.Throttled(ctx, "s", 2*time.Second)
	require.EqualValues(t, 5, l.Rate("s"))
	w, ok, _ := l.Reserve(ctx, "s", 5*time.Second)
	require.True(t, ok)
	require.Equal(t, 2*time.Second, w, "Retry-After holds every send")
	w, _, _ = l.Reserve(ctx, "s", 5*time.Second)
	require.Equal(t, 2200*time.Millisecond, w, "then at the halved rate")
	now = now.Add(time.Minute)
	require.EqualValues(t, 10, l.Rate("s"))
	require.Zero(t, l.Rate("unknown"))
}
