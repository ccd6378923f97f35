package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
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

// A cancel does not hide an attempt in flight: its claim was taken and the
// API perhaps called, its outcome not recorded. A job of the recipient that
// runs after the cancel finds it busy while it may still settle, then its
// outcome unknown, never cancelled: a follow-up of the campaign's
// cancelled recipients would send the message twice (found in review).
func TestLedger_CancelDoesNotHideAnAttemptInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	to := "441234567890"
	first, err := b.store.Ledger.Claim(b.ctx, "c", to, store.ClaimOptions{StaleAfter: time.Hour})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, first.Verdict) // the API is called; the worker dies before its settle
	_, err = b.store.Campaigns.Cancel(b.ctx, "c")
	require.NoError(t, err)

	// Within StaleAfter of the claim, it may still settle: busy.
	for _, o := range []store.ClaimOptions{{StaleAfter: time.Hour}, {StaleAfter: time.Hour, CheckOnly: true}} {
		again, err := b.store.Ledger.Claim(b.ctx, "c", to, o)
		require.NoError(t, err)
		require.Equal(t, store.Busy, again.Verdict, "check only %v: the earlier attempt may still be in flight", o.CheckOnly)
		require.Equal(t, 1, again.Attempts)
	}
	// Past it (the claim an hour old), its outcome is unknown.
	old := time.Now().Add(-time.Hour).UnixMilli()
	require.NoError(t, b.r.Client.HSet(b.ctx, b.r.Keys.Ledger("c"), to, fmt.Sprintf("C|1|%d|0", old)).Err())
	for _, o := range []store.ClaimOptions{{StaleAfter: time.Minute}, {StaleAfter: time.Minute, AtLeastOnce: true}, {StaleAfter: time.Minute, CheckOnly: true}} {
		again, err := b.store.Ledger.Claim(b.ctx, "c", to, o)
		require.NoError(t, err)
		require.Equal(t, store.Stale, again.Verdict, "%+v: the earlier attempt never settled: its outcome is unknown, and the campaign sends no more", o)
		require.Equal(t, 1, again.Attempts)
	}
	other, err := b.store.Ledger.Claim(b.ctx, "c", "441234567891", store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, other.Verdict, "a recipient with no attempt in flight is cancelled")
}

// A recipient of a cancelled campaign whose earlier attempt was answered
// (a 131049, retried later) is cancelled with that attempt counted: its
// result said "attempts": 0 though the API had been called (found in
// review).
func TestLedger_CancelledKeepsTheAttemptsMade(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	to := "441234567890"
	first, err := b.store.Ledger.Claim(b.ctx, "c", to, store.ClaimOptions{StaleAfter: time.Hour})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, first.Verdict)
	require.NoError(t, b.store.Ledger.Release(b.ctx, "c", to, first.Attempts, 1, &task.Error{Code: 131049}))
	_, err = b.store.Campaigns.Cancel(b.ctx, "c")
	require.NoError(t, err)
	again, err := b.store.Ledger.Claim(b.ctx, "c", to, store.ClaimOptions{StaleAfter: time.Hour})
	require.NoError(t, err)
	require.Equal(t, store.Cancelled, again.Verdict)
	require.Equal(t, 1, again.Attempts)
	require.Equal(t, 1, again.Delays)
}
