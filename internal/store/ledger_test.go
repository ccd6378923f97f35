package store_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/stretchr/testify/require"
)

// With at-least-once, a run whose claim went stale may finish after a newer
// run took the recipient over: its late release must not free the newer
// run's claim, or a third run would send while the second is in flight.
func TestLedger_LateReleaseOfAStaleRunKeepsTheNewerClaim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	to := "441234567890"
	first, err := b.store.Ledger.Claim(b.ctx, "c", to, store.ClaimOptions{StaleAfter: time.Millisecond, AtLeastOnce: true})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, first.Verdict)
	time.Sleep(10 * time.Millisecond)
	second, err := b.store.Ledger.Claim(b.ctx, "c", to, store.ClaimOptions{StaleAfter: time.Millisecond, AtLeastOnce: true})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, second.Verdict)
	require.Equal(t, 2, second.Attempts)

	require.NoError(t, b.store.Ledger.Release(b.ctx, "c", to, first.Attempts, 0, nil)) // the first run, late

	third, err := b.store.Ledger.Claim(b.ctx, "c", to, store.ClaimOptions{StaleAfter: time.Hour, AtLeastOnce: true})
	require.NoError(t, err)
	require.Equal(t, store.Busy, third.Verdict, "the second run is still in flight")
}
