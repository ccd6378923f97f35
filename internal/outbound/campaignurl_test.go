package outbound_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

// A callback still waiting once its campaign's keys expired (a destination
// down for days, a status that came near the end of the retention, a
// replay from the archive) goes to the campaign's own callback_url, never
// to MMLITE_RESULTS_URL: that one may belong to another system. A campaign
// that had none still has its callbacks go to MMLITE_RESULTS_URL.
func TestCallbacks_ACampaignsURLOutlivesItsKeys(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	queue := name(t) + "-callbacks"
	dropQueues(t, r, queue)
	def, own := newSink(t), newSink(t)
	st := store.New(r.Client, r.Keys, store.Options{})
	for id, url := range map[string]string{"own": own.URL + "/own", "plain": ""} {
		c := &campaign.Campaign{ID: id, Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}, CallbackURL: url}
		c.Normalize()
		_, err := st.Campaigns.Register(ctx, c)
		require.NoError(t, err)
		// The keys expire (see MMLITE_RETENTION).
		require.NoError(t, r.Client.Del(ctx, r.Keys.Campaign(id), r.Keys.Ledger(id)).Err())
		_, err = st.Campaigns.Get(ctx, id)
		require.ErrorIs(t, err, campaign.ErrNotFound)
	}
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	for _, id := range []string{"own", "plain"} {
		enqueueResult(t, client, queue, id)
	}
	serve(t, r, outbound.Config{Callbacks: outbound.NewCallbacks(def.URL, "cb"), CallbackQueue: queue,
		CallbackHosts: safeurl.Hosts{safeurl.HostOf(own.URL)}, CallbackURL: st.Campaigns.CallbackURL})

	require.Eventually(t, func() bool { return len(def.got())+len(own.got()) == 2 }, 10*time.Second, 20*time.Millisecond)
	require.Len(t, own.got(), 1, "the campaign's own callback_url")
	require.Contains(t, string(own.got()[0].body), `"own"`)
	require.Len(t, def.got(), 1, "MMLITE_RESULTS_URL")
	require.Contains(t, string(def.got()[0].body), `"plain"`)
}
