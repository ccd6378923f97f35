package producer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// An open campaign's later chunk that lands behind another campaign's
// slots: its next_send_at is that chunk's first slot, waiting for the
// sender's backlog, not now (found in review: the first chunk's first
// slot, long past, was kept).
func TestStatus_ALaterChunkBehindAnotherCampaignsSlots(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.publishSender(t, "default", 10)
	a := b.campaign(t, func(c *campaign.Campaign) { c.ID = "a" })
	_, err := b.p.Enqueue(b.ctx, a, producer.NewCSVSource(strings.NewReader("to\n441234567801\n")), producer.Options{})
	require.NoError(t, err)
	_, err = b.p.Store().Ledger.Settle(b.ctx, "a", "441234567801", store.Outcome{Status: task.StatusSent, WAMID: "w1"}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	other := b.campaign(t, func(c *campaign.Campaign) { c.ID = "b" })
	_, err = b.p.Enqueue(b.ctx, other, producer.NewCSVSource(strings.NewReader(csvRows(600))), producer.Options{})
	require.NoError(t, err)
	_, err = b.p.Enqueue(b.ctx, a, producer.NewCSVSource(strings.NewReader("to\n441234567802\n")), producer.Options{})
	require.NoError(t, err)
	sc, err := b.r.Client.ZScore(b.ctx, b.r.Keys.AsynqScheduled(), "a:441234567802").Result()
	require.NoError(t, err)
	due := time.Unix(int64(sc), 0)
	require.Greater(t, due, time.Now().Add(50*time.Second), "behind b's 600 slots at 10/s")
	st, err := b.p.Store().Campaigns.Status(b.ctx, "a")
	require.NoError(t, err)
	require.NotNil(t, st.NextSendAt)
	require.WithinDuration(t, due, *st.NextSendAt, 2*time.Second, "next_send_at: the later chunk's first slot")
	require.NotNil(t, st.Waiting)
	require.Equal(t, campaign.WaitSenderBacklog, st.Waiting.Reason)
}
