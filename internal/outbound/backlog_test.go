package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// storeRelay writes a relay task of body for d as the api writes it,
// first stored at; a zero at writes it as a version before the time was
// kept did. The payload is pinned here: tasks stored by one version are
// delivered by the next.
func storeRelay(t *testing.T, r *redistest.Redis, d *outbound.Destination, body string, at time.Time) string {
	t.Helper()
	meta := `{}`
	if !at.IsZero() {
		meta = fmt.Sprintf(`{"at":%d}`, at.UnixMilli())
	}
	id := "relay:" + d.Name + ":" + body
	msg := asynqwire.Message(nil, outbound.TypeRelay, []byte(meta+"\n"+body), id, d.Queue(), outbound.MaxRetry, outbound.TimeoutSec)
	ctx := context.Background()
	require.NoError(t, asynqwire.Enqueue(ctx, r.Client, d.Queue(), id, msg))
	require.NoError(t, r.Client.SAdd(ctx, "asynq:queues", d.Queue()).Err())
	return id
}

// failing is a destination that answers 503 to everything.
func failing(t *testing.T) (*outbound.Destination, *redistest.Redis) {
	r := redistest.New(t)
	codes := make([]int, 100)
	for i := range codes {
		codes[i] = http.StatusServiceUnavailable
	}
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: "+newSink(t, codes...).URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue())
	return ds[0], r
}

// A delivery failing for hours shows in the oldest waiting age even when
// more than 20 younger deliveries are due to be retried before it: its
// backoff puts it at the end of the retry set. Its age is since it was
// first stored; a task stored before that time was kept is aged by the
// backoff it waited through (1 h before its second failure).
func TestBacklog_OldestSeesAnOldRetryBehindYoungOnes(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name          string
		age, min, max time.Duration
	}{
		{"stored 5 h ago", 5 * time.Hour, 5 * time.Hour, 5*time.Hour + time.Minute},
		{"stored before the time was kept", 0, time.Hour, time.Hour + time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d, r := failing(t)
			var at time.Time
			if c.age > 0 {
				at = time.Now().Add(-c.age)
			}
			storeRelay(t, r, d, `{"old":1}`, at)
			cfg := outbound.Config{RetryBase: time.Hour, RetryMax: 24 * time.Hour, MaxAge: 30 * 24 * time.Hour}
			start(t, r, []*outbound.Destination{d}, cfg)
			in := asynq.NewInspectorFromRedisClient(r.Client)
			ti := onlyTask(t, in, d.Queue(), 1)
			require.NoError(t, in.RunTask(d.Queue(), ti.ID)) // at once, not after its backoff
			onlyTask(t, in, d.Queue(), 2)                    // due again in 2 h
			relay := outbound.NewRelay(r.Client, []*outbound.Destination{d})
			for i := range 20 { // due again in 1 h, before the old one
				require.NoError(t, relay.Store(context.Background(), fmt.Appendf(nil, `{"young":%d}`, i), http.Header{}, nil))
			}
			require.Eventually(t, func() bool {
				q, err := in.GetQueueInfo(d.Queue())
				return err == nil && q.Retry == 21
			}, 10*time.Second, 20*time.Millisecond)

			st, err := outbound.Backlog(context.Background(), r.Client, d.Queue())
			require.NoError(t, err)
			require.Equal(t, int64(21), st.Waiting)
			require.GreaterOrEqual(t, st.Oldest, c.min)
			require.Less(t, st.Oldest, c.max)
		})
	}
}

// A retry that came due waits pending again, where asynq counts its
// pending time afresh: its age is still since it was first stored. One
// no longer there (deleted with asynq's tools) is no longer the oldest.
func TestBacklog_RetryPendingAgainKeepsItsAge(t *testing.T) {
	t.Parallel()
	d, r := failing(t)
	id := storeRelay(t, r, d, `{"old":1}`, time.Now().Add(-2*time.Hour))
	cfg := outbound.Config{RetryBase: time.Hour, RetryMax: time.Hour}
	srv := start(t, r, []*outbound.Destination{d}, cfg)
	in := asynq.NewInspectorFromRedisClient(r.Client)
	onlyTask(t, in, d.Queue(), 1)
	srv.Shutdown() // none takes it once due
	require.NoError(t, in.RunTask(d.Queue(), id))

	st, err := outbound.Backlog(context.Background(), r.Client, d.Queue())
	require.NoError(t, err)
	require.Equal(t, int64(1), st.Waiting)
	require.InDelta(t, (2 * time.Hour).Seconds(), st.Oldest.Seconds(), 60)

	require.NoError(t, in.DeleteTask(d.Queue(), id))
	st, err = outbound.Backlog(context.Background(), r.Client, d.Queue())
	require.NoError(t, err)
	require.Equal(t, outbound.QueueState{}, st)
}
