package store_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// runTwiceAround is runTwice with something done between the two runs:
// what another client may do while the first reply is lost.
type runTwiceAround struct {
	key     string
	on      atomic.Bool
	between func()
}

func (h *runTwiceAround) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *runTwiceAround) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *runTwiceAround) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); !h.on.Load() || (n != "evalsha" && n != "eval") || !slices.Contains(cmd.Args(), any(h.key)) {
			return next(ctx, cmd)
		}
		if err := next(ctx, cmd); err != nil {
			return err
		}
		h.on.Store(false)
		h.between()
		return next(ctx, cmd)
	}
}

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
			hook := &runTwiceAround{key: b.r.Keys.Ledger("c")}
			hook.between = func() { require.NoError(t, tc.between(b)) }
			b.r.Client.AddHook(hook)
			guard := &store.ClaimGuard{Sender: "default", Scope: "W", LimitScope: "W", Limit: 10, Window: time.Hour}
			opts := store.ClaimOptions{StaleAfter: time.Minute, Guard: guard}

			hook.on.Store(true)
			cl, err := b.store.Ledger.Claim(b.ctx, "c", "441234567800", opts)
			require.NoError(t, err)
			require.False(t, hook.on.Load(), "run twice")
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
