package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A sent recipient's wamid mapping (and the delivery state it holds) stays
// as long as its campaign: it expired a retention after its own settle,
// before the campaign that finished later, so late webhooks went unknown
// and exports, follow-ups and lookups lost the delivery state (found in
// review).
func TestSettle_WAMIDStaysAsLongAsItsCampaign(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	if r.Mini == nil {
		t.Skip("needs miniredis's clock")
	}
	b := &bundle{r: r, store: store.New(r.Client, r.Keys, store.Options{Retention: 10 * time.Second}), ctx: context.Background()}
	b.register(t, "c1", 2)
	settle := func(to, wamid string) store.Settled {
		s, err := b.store.Ledger.Settle(b.ctx, "c1", to, store.Outcome{Status: task.StatusSent, Attempts: 1, WAMID: wamid,
			FinishedAt: time.Now().UnixMilli()}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
		return s
	}
	require.Equal(t, store.Recorded, settle("441234567890", "wamid.A"))
	r.Mini.FastForward(5 * time.Second)
	require.Equal(t, store.Completed, settle("441234567891", "wamid.B"))
	r.Mini.FastForward(6 * time.Second) // 6 s into the campaign's 10 s retention
	_, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err, "the campaign is kept")
	n, err := r.Client.Exists(b.ctx, r.Keys.WAMID("wamid.A")).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "so is the mapping of its first recipient's message")
}
