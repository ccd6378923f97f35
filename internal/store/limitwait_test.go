package store_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/require"
)

// A campaign whose new recipients wait for the messaging limit said "the
// sender s2 reached its messaging limit" even when the limit reached was
// its business portfolio's, shared with s1 (whose sends may have used it
// all): an operator looked for what s2 had sent. The detail names the
// portfolio and the senders it is shared with when the sender (as its
// workers published it) has one, and the sender otherwise.
func TestStatus_MessagingLimitNamesWhoseLimit(t *testing.T) {
	t.Parallel()
	const portfolio = "2729063490586005"
	for _, tc := range []struct {
		name    string
		senders []*sender.Sender
		want    string
	}{
		{"portfolio", []*sender.Sender{{ID: "s1", PortfolioID: portfolio}, {ID: "s2", PortfolioID: portfolio}, {ID: "s3"}},
			"the business portfolio " + portfolio + " of the sender s2, shared with s1, reached its messaging limit"},
		{"alone in its portfolio", []*sender.Sender{{ID: "s2", PortfolioID: portfolio}, {ID: "s3"}},
			"the business portfolio " + portfolio + " of the sender s2 reached its messaging limit"},
		{"no portfolio", []*sender.Sender{{ID: "s1", PortfolioID: portfolio}, {ID: "s2"}},
			"the sender s2 reached its messaging limit"},
		{"not published", nil,
			"the messaging limit of the sender s2, or of its business portfolio, is reached"},
	} {
		b := setup(t)
		c := valid()
		c.Sender = "s2"
		c.Normalize()
		_, err := b.store.Campaigns.Register(b.ctx, &c)
		require.NoError(t, err)
		if tc.senders != nil {
			require.NoError(t, registry.New(b.r.Client, b.r.Keys).Publish(b.ctx, tc.senders))
		}
		free := time.Now().Add(time.Hour).UnixMilli()
		require.NoError(t, b.r.Client.HSet(b.ctx, b.r.Keys.Campaign(c.ID), "enqueued", 10, "limit_until", strconv.FormatInt(free, 10)).Err())

		st, err := b.store.Campaigns.Status(b.ctx, c.ID)
		require.NoError(t, err, tc.name)
		require.NotNil(t, st.Waiting, tc.name)
		require.Equal(t, campaign.WaitMessagingLimit, st.Waiting.Reason, tc.name)
		require.Contains(t, st.Waiting.Detail, tc.want, tc.name)
		require.Contains(t, st.Waiting.Detail, "new recipients wait for a place", tc.name)
	}
}
