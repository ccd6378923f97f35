package producer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A campaign with more recipients than its sender can send before its
// expires_at takes no slot past it: the recipients that cannot be sent in
// time are due at the expiry (reported expired then, counted enqueued),
// and the sender's clock stops there, so that the next campaign of the
// sender is not held behind slots in which nothing can be sent (found in
// review: 100 at 1/s with an expiry 5 s away reserved 100 s of the
// sender's clock, and the campaign ended only at its last slot).
func TestEnqueue_NoSlotPastTheExpiry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.publishSender(t, "default", 1)
	exp := time.Now().Add(5 * time.Second).Truncate(time.Second)
	c := b.campaign(t, func(c *campaign.Campaign) { c.ID = "short"; c.ExpiresAt = &exp })
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(csvRows(100))), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 100, sum.Accepted)
	st, err := b.p.Store().Campaigns.Status(b.ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 100, st.Counts.Enqueued)

	scheduled, err := b.r.Client.ZRangeWithScores(b.ctx, b.r.Keys.AsynqScheduled(), 0, -1).Result()
	require.NoError(t, err)
	for _, z := range scheduled {
		require.LessOrEqual(t, z.Score, float64(exp.Unix()), "%s is due after the expiry", z.Member)
	}
	clock, err := b.r.Client.Get(b.ctx, b.r.Keys.Clock("default")).Float64()
	require.NoError(t, err)
	// The clock says when the next slot is free: at most one interval (1 s)
	// past the last slot before the expiry.
	require.Less(t, clock, float64(exp.Add(time.Second).UnixMilli()), "the sender's clock runs past the expiry")

	next := b.campaign(t, func(c *campaign.Campaign) { c.ID = "next" })
	_, err = b.p.Enqueue(b.ctx, next, producer.NewCSVSource(strings.NewReader(csvRows(1))), producer.Options{})
	require.NoError(t, err)
	if sc, err := b.r.Client.ZScore(b.ctx, b.r.Keys.AsynqScheduled(), "next:447700900000").Result(); err == nil {
		require.LessOrEqual(t, sc, float64(exp.Unix()), "the next campaign waits behind slots past the expiry")
	}
}
