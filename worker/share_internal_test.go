package worker

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clocked is shares on a clock the test moves.
func clocked(slots int, senders ...string) (*shares, *time.Time) {
	s := newShares(slots, senders)
	now := s.base
	s.now = func() time.Time { return now }
	return s, &now
}

func takeN(t *testing.T, s *shares, sender string, n int) []time.Time {
	t.Helper()
	var starts []time.Time
	for range n {
		start, ok, _ := s.take(sender)
		require.True(t, ok)
		starts = append(starts, start)
	}
	return starts
}

// The worker's only sender has every slot.
func TestShares_OneSenderHasEverySlot(t *testing.T) {
	s, _ := clocked(16, "a")
	takeN(t, s, "a", 16)
}

// A sender fills all the slots but the reserve; the next job of another
// sender takes the reserve, and it then takes the slots the first gives
// back until each holds its fair share.
func TestShares_ReserveThenFairShare(t *testing.T) {
	s, now := clocked(16, "a", "b")
	starts := takeN(t, s, "a", 14)
	_, ok, retryIn := s.take("a")
	require.False(t, ok, "the reserve (2 of 16) stays free")
	require.GreaterOrEqual(t, retryIn, minHandBack)

	takeN(t, s, "b", 2)
	for i := range 6 { // a gives back 6 slots: b takes them, a may not
		*now = now.Add(100 * time.Millisecond)
		s.done("a", starts[i])
		_, ok, _ := s.take("a")
		require.False(t, ok, "a holds more than its share (8) and no slot is spare")
		takeN(t, s, "b", 1)
	}
	_, ok, _ = s.take("b")
	require.False(t, ok, "b holds its share, and the slots are all taken")
	require.Equal(t, 8, s.senders["a"].held)
	require.Equal(t, 8, s.senders["b"].held)
}

// A sender no longer seen gives its share back: the other may fill the
// worker again (all but the reserve).
func TestShares_IdleSenderLeavesItsShare(t *testing.T) {
	s, now := clocked(16, "a", "b")
	takeN(t, s, "a", 7)
	bs := takeN(t, s, "b", 7)
	for _, st := range bs {
		s.done("b", st)
	}
	*now = now.Add(activeFor)
	takeN(t, s, "a", 7) // 14: all but the reserve
	_, ok, _ := s.take("a")
	require.False(t, ok)
}

// Jobs handed back come back one hold over the sender's slots apart, so
// that each is put back about once: the hold is the age of jobs that have
// not finished, when the sender's API does not answer.
func TestShares_HandBacksAreSpacedAtTheSendersPace(t *testing.T) {
	s, now := clocked(8, "a", "b")
	takeN(t, s, "a", 7)
	*now = now.Add(14 * time.Second) // none finished: they are 14 s old
	var last time.Duration
	for i := range 5 {
		_, ok, retryIn := s.take("a")
		require.False(t, ok)
		require.Equal(t, time.Duration(i+1)*2*time.Second, retryIn, "14 s over 7 slots: one every 2 s")
		last = retryIn
	}
	require.Equal(t, 10*time.Second, last)
}
