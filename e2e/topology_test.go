package e2e_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Redis beyond one node: the redis-cluster:// and redis-sentinel:// forms of
// MMLITE_REDIS_URL against real servers started by the test (skipped where
// redis-server is not installed).

// A campaign on a 3-master cluster: paced enqueue, two workers, webhooks,
// pause and resume. Every mmlite key of a queue shares its hash tag, so the
// scripts run in one slot; asynq's own keys of other queues live elsewhere.
func TestRedisCluster_CampaignEndToEnd(t *testing.T) {
	t.Parallel()
	r := redistest.NewURL(t, redistest.StartCluster(t, 3))
	_, isCluster := r.Client.(*redis.ClusterClient)
	require.True(t, isCluster)
	f := newFleetOn(t, r, fakeapi.Config{})
	require.NoError(t, f.Fake.SetConfig(fakeapi.Config{Keys: []string{apiKey}, Latency: fakeapi.Duration(5 * time.Millisecond),
		WebhookURL: f.api.URL + "/webhooks/whatsapp", WebhookSecret: hookSecret, WebhookDelay: fakeapi.Duration(10 * time.Millisecond)}))
	f.Fake.Start(f.Ctx)
	t.Cleanup(f.Fake.Close)
	for range 2 {
		f.startWorker(t, f.workerConfig(100))
	}
	// At 100/s the pause below comes after about 50 of 600: the list would be
	// done (and the pause refused) only if it came 5 s late.
	tos := f.submit(t, "c1", 600)
	// Workers that ignored the pause would send about 100 in its second.
	f.pauseQuietly(t, "c1", 50, time.Second)
	f.resumeToCompletion(t, "c1", tos)
	// In a cluster the results queue lives in another slot: a worker enqueues
	// each result after its settle, so the last ones may come a moment after
	// the campaign completed.
	require.Eventually(t, func() bool { return len(f.Results(t)) >= len(tos) }, 30*time.Second, 20*time.Millisecond)
	require.Len(t, f.Results(t), len(tos))
	require.Eventually(t, func() bool { return f.Status(t, "c1").Counts.Delivered == int64(len(tos)) },
		30*time.Second, 50*time.Millisecond, "delivery webhooks are mapped back through the cluster")
	// The results queue lives apart from the campaign: a job that runs again
	// after its result was consumed still emits no second one.
	f.rerunAfterDrain(t, "c1", tos[0])
}

// Through Sentinel: a campaign, a failover to the replica, and a second
// campaign sent by the same api and worker on the new master.
func TestRedisSentinel_CampaignSurvivesFailover(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	r := redistest.NewURL(t, s.URL)
	f := newFleetOn(t, r, fakeapi.Config{})
	f.startWorker(t, f.workerConfig(200))

	first := f.submit(t, "before", 100)
	st := f.waitState(t, "before", campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, len(first), st.Counts.Sent)

	s.Failover(t)

	// The clients find the new master through Sentinel; their next commands
	// may fail while they do, so the enqueue is retried as an upstream would.
	require.Eventually(t, func() bool {
		return r.Client.Ping(f.Ctx).Err() == nil && r.Client.Set(f.Ctx, "{"+r.Queue+"}:probe", 1, time.Minute).Err() == nil
	},
		30*time.Second, 100*time.Millisecond, "the client never reached the new master")
	second := f.submit(t, "after", 100)
	st = f.waitState(t, "after", campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, len(second), st.Counts.Sent)
	for _, to := range second {
		require.Equal(t, 2, f.Fake.Sends(to), "one send per campaign for %s", to)
	}
	require.Len(t, f.Results(t), len(first)+len(second))
}
