package producer_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A cancel whose wait runs out while a send of the campaign is in flight
// (a live worker's lease) has taken effect all the same: it returns the
// cancelled status, with an *InFlightError that says how many sends were
// still in flight.
func TestCancel_SendsStillInFlightAfterTheWait(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, err := producer.New(producer.Config{Client: b.r.Client, Queue: b.r.Queue, CancelWait: 100 * time.Millisecond})
	require.NoError(t, err)
	b.p = p
	c := b.campaign(t, nil)
	_, err = b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567801\n441234567802\n")), producer.Options{})
	require.NoError(t, err)
	id := task.SendID(c.ID, "441234567801")
	require.NoError(t, b.r.Client.LPush(b.ctx, b.r.Keys.AsynqActive(), id).Err())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.AsynqLease(), redis.Z{Score: float64(time.Now().Add(time.Minute).Unix()), Member: id}).Err())

	st, err := b.p.Cancel(b.ctx, c.ID)
	var inFlight *producer.InFlightError
	require.True(t, errors.As(err, &inFlight), "%v", err)
	require.Equal(t, 1, inFlight.Jobs)
	require.Equal(t, c.ID, inFlight.Campaign)
	require.Equal(t, "campaign spring-sale-2026 is cancelled; 1 send of it was still in flight after 100ms: it ends with its own outcome, "+
		"and nothing of the campaign is sent after it", inFlight.Detail())
	require.NotNil(t, st)
	require.Equal(t, campaign.StateCancelled, st.State)
	require.True(t, st.Sealed)

	// Once the send is over, the cancel again returns without the error.
	require.NoError(t, b.r.Client.LRem(b.ctx, b.r.Keys.AsynqActive(), 0, id).Err())
	st, err = b.p.Cancel(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.StateCancelled, st.State)
}

// A campaign whose id is "test" is not held by other campaigns' test sends
// (test:<campaign>:<to>:<nonce>): its cancel waits for its own sends only
// (found in review: the ids' prefix matched).
func TestCancel_ACampaignNamedTestIgnoresTestSends(t *testing.T) {
	t.Parallel()
	b := setup(t)
	p, err := producer.New(producer.Config{Client: b.r.Client, Queue: b.r.Queue, CancelWait: 100 * time.Millisecond})
	require.NoError(t, err)
	b.p = p
	c := b.campaign(t, func(c *campaign.Campaign) { c.ID = "test" })
	_, err = b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to\n441234567801\n")), producer.Options{})
	require.NoError(t, err)
	id := "test:spring-sale-2026:441234567801:0123456789abcdef" // another campaign's test send, running
	require.NoError(t, b.r.Client.LPush(b.ctx, b.r.Keys.AsynqActive(), id).Err())
	require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.AsynqLease(), redis.Z{Score: float64(time.Now().Add(time.Minute).Unix()), Member: id}).Err())
	st, err := b.p.Cancel(b.ctx, c.ID)
	require.NoError(t, err, "no send of campaign test is in flight")
	require.Equal(t, campaign.StateCancelled, st.State)
	require.True(t, task.IsSendOf(task.SendID("test", "441234567801"), "test"))
	require.False(t, task.IsSendOf(id, "test"))
}
