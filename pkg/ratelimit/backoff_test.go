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
