package store_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/stretchr/testify/require"
)

// A claim taken just before a pause or a cancel, whose reply was lost and
// that go-redis ran again after it, found its own marker under the new
// state and answered paused (or busy): its job was parked (or put back),
// and every later claim found the recipient busy, then stale: never
// sent, it ended unknown. The claim was taken before the pause or cancel,
// as any claim in flight then: it is answered claimed again.
func TestLedger_ClaimRunAgainAfterAPauseOrCancelIsClaimed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		between func(b *bundle) error
	}{
		{"pause", func(b *bundle) error { _, err := b.store.Campaigns.Pause(b.ctx, "c", "operator"); return err }},
		{"cancel", func(b *bundle) error { _, err := b.store.Campaigns.Cancel(b.ctx, "c"); return err }},
		{"sender paused", func(b *bundle) error {
			return b.r.Client.HSet(b.ctx, b.r.Keys.SenderGuard("default"), "paused_reason", "131031").Err()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.register(t, "c", 3)
			hook := &redistest.RunTwice{Key: b.r.Keys.Ledger("c"), Between: func() { require.NoError(t, tc.between(b)) }}
			b.r.Client.AddHook(hook)
			guard := &store.ClaimGuard{Sender: "default", Scope: "W", LimitScope: "W", Limit: 10, Window: time.Hour}
			opts := store.ClaimOptions{StaleAfter: time.Minute, Guard: guard}

			hook.On.Store(true)
			cl, err := b.store.Ledger.Claim(b.ctx, "c", "441234567800", opts)
			require.NoError(t, err)
			require.False(t, hook.On.Load(), "run twice")
			require.Equal(t, store.Claimed, cl.Verdict)
			require.Equal(t, 1, cl.Attempts)
			require.NotNil(t, cl.Place, "the place it took in the limit's window")

			// Another call of Claim still finds it busy, or the campaign paused.
			cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567800", opts)
			require.NoError(t, err)
			require.NotEqual(t, store.Claimed, cl.Verdict)
		})
	}
}
