package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redisbatch"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A settle whose reply was lost and that go-redis ran again (a lone call,
// or the whole pipeline of package redisbatch it shared) found the outcome
// it had just recorded and answered dup: the worker took it for another
// attempt's, did not count the outcome, did not announce the campaign it
// completed (left to the housekeeping), nor count the pause it made. It
// is answered as its first run was.
func TestLedger_SettleRunAgainAfterALostReplyIsAnsweredTheSame(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 2)
	hook := &redistest.RunTwice{Key: b.r.Keys.Ledger("c")}
	b.r.Client.AddHook(hook)
	hook.On.Store(true)

	res, err := b.store.Ledger.Settle(b.ctx, "c", "441234567800", store.Outcome{Status: task.StatusSent, Attempts: 1, WAMID: "wamid.A"}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, hook.N.Load(), "run twice")
	require.Equal(t, store.Recorded, res)
	res, err = b.store.Ledger.Settle(b.ctx, "c", "441234567801", store.Outcome{Status: task.StatusSent, Attempts: 1}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Completed, res)
	st, err := b.store.Campaigns.Status(b.ctx, "c")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Counts.Sent, "counted once")

	// Another settle of the recipient is still a duplicate.
	hook.On.Store(false)
	res, err = b.store.Ledger.Settle(b.ctx, "c", "441234567801", store.Outcome{Status: task.StatusSent, Attempts: 2}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Duplicate, res)

	// The pause it made.
	b.register(t, "p", 5)
	hook = &redistest.RunTwice{Key: b.r.Keys.Ledger("p")}
	b.r.Client.AddHook(hook)
	hook.On.Store(true)
	failed := store.Outcome{Status: task.StatusFailed, Attempts: 1, Error: &task.Error{Code: 131026, Class: "permanent", Title: "Message undeliverable"}}
	res, err = b.store.Ledger.Settle(b.ctx, "p", "441234567800", failed, store.FailurePolicy{Ratio: 0.5, MinSends: 1}, nil)
	require.NoError(t, err)
	require.EqualValues(t, 1, hook.N.Load(), "run twice")
	require.Equal(t, store.AutoPaused, res)
}

// runPipelineTwice sends each pipeline twice and answers with the second
// run's replies: what go-redis does when a reply of the pipeline is lost to
// a read timeout (it sends the whole pipeline again).
type runPipelineTwice struct{ n atomic.Int64 }

func (h *runPipelineTwice) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *runPipelineTwice) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *runPipelineTwice) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if err := next(ctx, cmds); err != nil {
			return err
		}
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// The worker's claims, releases and settles share pipelines (package
// redisbatch): a pipeline sent again runs each of them again, and each is
// answered as its first run was.
func TestLedger_BatchedPipelineRunAgainIsAnsweredTheSame(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	b := &bundle{r: r, store: store.New(r.Client, r.Keys, store.Options{Batcher: redisbatch.New(r.Client, time.Millisecond, 64)}), ctx: ctx}
	b.register(t, "c", 2)
	hook := &runPipelineTwice{}
	r.Client.AddHook(hook)
	guard := &store.ClaimGuard{Sender: "default", Scope: "W", LimitScope: "W", Limit: 10, Window: time.Hour}
	opts := store.ClaimOptions{StaleAfter: time.Minute, Guard: guard}

	cl, err := b.store.Ledger.Claim(ctx, "c", "441234567800", opts)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.NotNil(t, cl.Place)
	require.NoError(t, b.store.Ledger.WithPlace(cl.Place, true).Release(ctx, "c", "441234567800", cl.Attempts, 0, nil))
	cl, err = b.store.Ledger.Claim(ctx, "c", "441234567800", opts)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	require.Equal(t, 2, cl.Attempts)
	res, err := b.store.Ledger.WithPlace(cl.Place, false).Settle(ctx, "c", "441234567800", store.Outcome{Status: task.StatusSent, Attempts: 2}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Recorded, res)

	cl, err = b.store.Ledger.Claim(ctx, "c", "441234567801", opts)
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	res, err = b.store.Ledger.WithPlace(cl.Place, false).Settle(ctx, "c", "441234567801", store.Outcome{Status: task.StatusSent, Attempts: 1}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	require.Equal(t, store.Completed, res)
	require.GreaterOrEqual(t, hook.n.Load(), int64(6), "each pipeline ran twice")

	st, err := b.store.Campaigns.Status(ctx, "c")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Counts.Sent)
}
