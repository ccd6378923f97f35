package store_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/stretchr/testify/require"
)

// A claim whose reply was lost and that go-redis ran again found its own
// marker and answered busy: the recipient, never sent, waited out the
// claim and ended unknown. It now answers claimed again, with the same
// attempt and the place in the messaging limit's window it took; a claim
// of another call still finds the recipient busy.
func TestLedger_ClaimRunAgainAfterALostReplyIsClaimed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 3)
	hook := &redistest.RunTwice{Key: b.r.Keys.Ledger("c")}
	b.r.Client.AddHook(hook)
	guard := &store.ClaimGuard{Sender: "default", Scope: "W", LimitScope: "W", Limit: 10, Window: time.Hour}
	stale := store.ClaimOptions{StaleAfter: time.Minute}

	hook.On.Store(true)
	cl, err := b.store.Ledger.Claim(b.ctx, "c", "441234567800", store.ClaimOptions{StaleAfter: time.Minute, Guard: guard})
	require.NoError(t, err)
	require.EqualValues(t, 1, hook.N.Load(), "run twice")
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 1, cl.Attempts)
	require.NotNil(t, cl.Place, "the place it took in the limit's window")

	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567801", stale) // no guard
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Nil(t, cl.Place)

	// A second attempt, after the first was given back.
	hook.On.Store(false)
	require.NoError(t, b.store.Ledger.Release(b.ctx, "c", "441234567801", 1, 0, nil))
	hook.On.Store(true)
	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567801", stale)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 2, cl.Attempts)

	// Another call of Claim still finds it busy.
	hook.On.Store(false)
	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567801", stale)
	require.NoError(t, err)
	require.Equal(t, store.Busy, cl.Verdict)
	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567800", store.ClaimOptions{StaleAfter: time.Minute, Guard: guard})
	require.NoError(t, err)
	require.Equal(t, store.Busy, cl.Verdict)
}
