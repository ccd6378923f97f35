package producer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// An enqueue batch whose reply was lost and that go-redis sent again was
// answered by its second run, which found its own jobs: every row of the
// batch was counted a duplicate (an upload of 50,000 new recipients,
// answered 202 with "duplicates": 2,000, on a loaded machine). The batch's
// answer is kept for a while, and a batch run again gets it; a list
// uploaded again still finds its recipients duplicates.
func TestEnqueue_BatchSentAgainAfterALostReplyCountsOnce(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	hook := &redistest.RunTwice{Key: r.Keys.Ledger("spring-sale-2026")}
	c := redisconn.Client(r.Opt)
	c.AddHook(hook)
	t.Cleanup(func() { _ = c.Close() })
	p, err := producer.New(producer.Config{Client: c, Queue: r.Queue, BatchSize: 7, Concurrency: 3})
	require.NoError(t, err)
	b := &bundle{r: r, p: p, ctx: context.Background()}
	camp := b.campaign(t, nil)
	hook.On.Store(true)

	sum, err := p.Enqueue(b.ctx, camp, producer.NewCSVSource(strings.NewReader(csvRows(100))), producer.Options{})
	require.NoError(t, err)
	require.Positive(t, hook.N.Load(), "every batch was sent twice")
	require.EqualValues(t, 100, sum.Accepted, "%+v", sum)
	require.Zero(t, sum.Duplicates)
	st, err := p.Store().Campaigns.Status(b.ctx, camp.ID)
	require.NoError(t, err)
	require.EqualValues(t, 100, st.Counts.Enqueued)

	sum, err = p.Enqueue(b.ctx, camp, producer.NewCSVSource(strings.NewReader(csvRows(100))), producer.Options{})
	require.NoError(t, err)
	require.Zero(t, sum.Accepted)
	require.EqualValues(t, 100, sum.Duplicates, "the same list again")
}
