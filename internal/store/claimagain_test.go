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

// runTwice sends each script call naming key to Redis twice and answers
// with the second run's reply: what go-redis does when the first reply is
// lost to a read timeout (it retries timeouts, MaxRetries times).
type runTwice struct {
	key string
	on  atomic.Bool
	n   atomic.Int64
}

func (h *runTwice) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *runTwice) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (h *runTwice) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); !h.on.Load() || (n != "evalsha" && n != "eval") || !slices.Contains(cmd.Args(), any(h.key)) {
			return next(ctx, cmd)
		}
		if err := next(ctx, cmd); err != nil {
			return err
		}
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

// A claim whose reply was lost and that go-redis ran again found its own
// marker and answered busy: the recipient, never sent, waited out the
// claim and ended unknown. It now answers claimed again, with the same
// attempt and the place in the messaging limit's window it took; a claim
// of another call still finds the recipient busy.
func TestLedger_ClaimRunAgainAfterALostReplyIsClaimed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 3)
	hook := &runTwice{key: b.r.Keys.Ledger("c")}
	b.r.Client.AddHook(hook)
	guard := &store.ClaimGuard{Sender: "default", Scope: "W", LimitScope: "W", Limit: 10, Window: time.Hour}
	stale := store.ClaimOptions{StaleAfter: time.Minute}

	hook.on.Store(true)
	cl, err := b.store.Ledger.Claim(b.ctx, "c", "441234567800", store.ClaimOptions{StaleAfter: time.Minute, Guard: guard})
	require.NoError(t, err)
	require.EqualValues(t, 1, hook.n.Load(), "run twice")
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 1, cl.Attempts)
	require.NotNil(t, cl.Place, "the place it took in the limit's window")

	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567801", stale) // no guard
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Nil(t, cl.Place)

	// A second attempt, after the first was given back.
	hook.on.Store(false)
	require.NoError(t, b.store.Ledger.Release(b.ctx, "c", "441234567801", 1, 0, nil))
	hook.on.Store(true)
	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567801", stale)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 2, cl.Attempts)

	// Another call of Claim still finds it busy.
	hook.on.Store(false)
	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567801", stale)
	require.NoError(t, err)
	require.Equal(t, store.Busy, cl.Verdict)
	cl, err = b.store.Ledger.Claim(b.ctx, "c", "441234567800", store.ClaimOptions{StaleAfter: time.Minute, Guard: guard})
	require.NoError(t, err)
	require.Equal(t, store.Busy, cl.Verdict)
}
