package store_test

import (
	"testing"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/stretchr/testify/require"
)

// A campaign's own callback_url is kept past its other keys, by two
// retentions (the longest a finish can push them) and CallbackURLMargin;
// a campaign without one writes nothing.
func TestStore_ACampaignsCallbackURLOutlivesItsKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	const url = "https://crm.example.com/mmlite"
	for id, u := range map[string]string{"own": url, "plain": ""} {
		c := valid()
		c.ID, c.CallbackURL = id, u
		c.Normalize()
		_, err := b.store.Campaigns.Register(b.ctx, &c)
		require.NoError(t, err)
	}
	keys, urlTTL := b.r.Client.TTL(b.ctx, b.r.Keys.Campaign("own")).Val(), b.r.Client.TTL(b.ctx, b.r.Keys.CallbackURL("own")).Val()
	require.InDelta(t, (keys + campaign.DefaultRetention + store.CallbackURLMargin).Seconds(), urlTTL.Seconds(), 5)
	require.Zero(t, b.r.Client.Exists(b.ctx, b.r.Keys.CallbackURL("plain")).Val())

	for id, want := range map[string]string{"own": url, "plain": ""} {
		got, err := b.store.Campaigns.CallbackURL(b.ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, got, "%s, kept", id)
		require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign(id), b.r.Keys.Ledger(id)).Err()) // expired
		got, err = b.store.Campaigns.CallbackURL(b.ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, got, "%s, its keys expired", id)
	}
}

// An id used again once its campaign's keys expired: the new campaign,
// without a callback_url, must not inherit the old one's, whose key
// outlives the campaign (its callbacks would go to the other system).
func TestStore_AnIDUsedAgainDoesNotInheritTheOldCallbackURL(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := valid()
	c.ID, c.CallbackURL = "again", "https://crm.example.com/mmlite"
	c.Normalize()
	_, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign(c.ID), b.r.Keys.Ledger(c.ID)).Err()) // expired

	c = valid()
	c.ID = "again"
	c.Normalize()
	r, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	require.True(t, r.Created)
	require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign(c.ID), b.r.Keys.Ledger(c.ID)).Err()) // expired too
	got, err := b.store.Campaigns.CallbackURL(b.ctx, c.ID)
	require.NoError(t, err)
	require.Empty(t, got, "the new campaign had no callback_url: its callbacks go to MMLITE_RESULTS_URL")
}
