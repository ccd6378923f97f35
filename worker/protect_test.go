package worker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
)

// refuseTx fails every MULTI/EXEC pipeline (the suppression list's
// write) with an error that is not an outage.
type refuseTx struct{}

func (refuseTx) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (refuseTx) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (refuseTx) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			return errors.New("ERR refused by the test")
		}
		return next(ctx, cmds)
	}
}

// A refused send whose protection cannot be written still gets its final
// outcome: it must not keep its claim and end unknown (found in review).
func TestWorker_ProtectionFailureStillSettles(t *testing.T) {
	t.Parallel()
	tos := testkit.Recipients(2)
	b := setup(t, fakeapi.Config{FailRecipients: map[string]int{tos[0]: 131050}})
	c := b.register(t, campaign.Campaign{})
	b.enqueue(t, sends(c.ID, tos)...)
	cfg := b.config()
	cl, ok := b.R.Client.(*redis.Client)
	if !ok {
		t.Skip("needs a single-node Redis client to hook")
	}
	faulty := redis.NewClient(cl.Options())
	faulty.AddHook(refuseTx{})
	t.Cleanup(func() { _ = faulty.Close() })
	cfg.Client = faulty
	b.start(t, cfg)

	for _, r := range b.WaitResults(t, 2, 30*time.Second) {
		if r.To == tos[0] {
			require.Equal(t, task.StatusFailed, r.Status, "refused, not unknown")
			require.Equal(t, 131050, r.Error.Code)
		}
	}
	require.Equal(t, 1, b.Fake.Attempts(tos[0]))
}
