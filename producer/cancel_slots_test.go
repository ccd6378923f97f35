package producer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A cancelled campaign gives back the sender's slots it had reserved and
// not used, when no campaign reserved any after them: a campaign enqueued
// after the cancel starts now, not behind the cancelled one's slots (an
// operator who cancels a wrong campaign and sends the right one waited
// for the whole of the wrong one's slots).
func TestCancel_GivesBackTheSendersSlots(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.publishSender(t, "default", 10)
	wrong := b.campaign(t, func(c *campaign.Campaign) { c.ID = "wrong" })
	b.upload(t, wrong, 0, 100) // 10 s of slots
	b.upload(t, wrong, 100, 100)
	require.Greater(t, b.dueIn(t, "wrong", 199), 15*time.Second)
	_, err := b.p.Cancel(b.ctx, "wrong")
	require.NoError(t, err)

	right := b.campaign(t, func(c *campaign.Campaign) { c.ID = "right" })
	b.upload(t, right, 0, 20)
	require.Less(t, b.dueIn(t, "right", 0), 2*time.Second, "the first send of the campaign after the cancel is due now")
	require.Less(t, b.dueIn(t, "right", 19), 4*time.Second)
}

// Slots another campaign reserved after the cancelled one's are its own:
// the cancel gives back only the slots at the end of the sender's clock,
// from its own last run of them.
func TestCancel_KeepsTheSlotsOfOtherCampaigns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.publishSender(t, "default", 10)
	first := b.campaign(t, func(c *campaign.Campaign) { c.ID = "first" })
	other := b.campaign(t, func(c *campaign.Campaign) { c.ID = "other" })
	b.upload(t, first, 0, 50)    // 0 to 5 s
	b.upload(t, other, 100, 100) // 5 to 15 s
	_, err := b.p.Cancel(b.ctx, "first")
	require.NoError(t, err)
	next := b.campaign(t, func(c *campaign.Campaign) { c.ID = "next" })
	b.upload(t, next, 0, 1)
	require.Greater(t, b.dueIn(t, "next", 0), 13*time.Second, "behind the other campaign's slots")

	// The cancelled campaign's run at the end of the clock goes back, the
	// other campaign's slots before it stay.
	last := b.campaign(t, func(c *campaign.Campaign) { c.ID = "last" })
	b.upload(t, last, 400, 50) // 15 to 20 s
	_, err = b.p.Cancel(b.ctx, "last")
	require.NoError(t, err)
	after := b.campaign(t, func(c *campaign.Campaign) { c.ID = "after" })
	b.upload(t, after, 0, 1)
	due := b.dueIn(t, "after", 0)
	require.Greater(t, due, 13*time.Second, "behind the other campaign's slots")
	require.Less(t, due, 17*time.Second, "where the cancelled campaign's slots began")
}

// upload enqueues n recipients (+44 7700 9<first> on) into c.
func (b *bundle) upload(t *testing.T, c *campaign.Campaign, first, n int) {
	t.Helper()
	if n == 0 {
		return
	}
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader(rowsFrom(first, n))), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, n, sum.Accepted)
}

func rowsFrom(first, n int) string {
	var sb strings.Builder
	sb.WriteString("to\n")
	for i := range n {
		fmt.Fprintf(&sb, "4477009%05d\n", first+i)
	}
	return sb.String()
}

// dueIn is how far ahead the job of the campaign's recipient number n is
// due (see upload): 0 when it is pending.
func (b *bundle) dueIn(t *testing.T, id string, n int) time.Duration {
	t.Helper()
	score, err := b.r.Client.ZScore(b.ctx, b.r.Keys.AsynqScheduled(), task.SendID(id, fmt.Sprintf("4477009%05d", n))).Result()
	if err == redis.Nil {
		return 0
	}
	require.NoError(t, err)
	return time.Until(time.Unix(int64(score), 0))
}
