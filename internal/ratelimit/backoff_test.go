package ratelimit

import (
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

func TestSlotRun(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	// Five slots 10 ms apart, the first two free at once (clamped to t0).
	r := slotRun{floor: t0, first: t0.Add(-15 * ms), every: 10 * ms, n: 5}
	var got []time.Duration
	for {
		at, ok := r.pop(t0.Add(-time.Hour))
		if !ok {
			break
		}
		got = append(got, at.Sub(t0))
	}
	require.Equal(t, []time.Duration{0, 0, 5 * ms, 15 * ms, 25 * ms}, got)

	// Slots before late are dropped, never handed out.
	r = slotRun{floor: t0, first: t0, every: 10 * ms, n: 5}
	at, ok := r.pop(t0.Add(25 * ms))
	require.True(t, ok)
	require.Equal(t, t0.Add(30*ms), at)
	_, ok = r.pop(t0.Add(time.Second))
	require.False(t, ok, "the last slot is late too")

	// The sender's runs are used in order, and emptied ones go.
	s := &fleetSender{bo: Backoff{Configured: 100}, pool: []slotRun{
		{floor: t0, first: t0, every: 10 * ms, n: 1}, {floor: t0, first: t0.Add(50 * ms), every: 10 * ms, n: 2}}}
	for _, want := range []time.Duration{0, 50 * ms, 60 * ms} {
		at, ok := s.popSlot(t0)
		require.True(t, ok)
		require.Equal(t, t0.Add(want), at)
	}
	_, ok = s.popSlot(t0)
	require.False(t, ok)
	require.Empty(t, s.pool)
}
