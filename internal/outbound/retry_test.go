package outbound_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// relayOne stores one webhook for a destination at url, and starts a
// server delivering it with cfg (its Destinations set here). The tests
// below never wait for a backoff: they read the schedule asynq keeps, and
// run a retry at once with the Inspector.
func relayOne(t *testing.T, r *redistest.Redis, url string, cfg outbound.Config) *outbound.Destination {
	t.Helper()
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: "+url+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue())
	require.NoError(t, outbound.NewRelay(r.Client, ds).Store(context.Background(), []byte(`{"n":1}`), http.Header{}, nil))
	start(t, r, ds, cfg)
	return ds[0]
}

// start starts a server delivering to ds with cfg, its backoff as set.
func start(t *testing.T, r *redistest.Redis, ds []*outbound.Destination, cfg outbound.Config) *outbound.Server {
	t.Helper()
	cfg.Destinations, cfg.ForwardInterval, cfg.Registerer = ds, 100*time.Millisecond, prometheus.NewRegistry()
	srv, err := outbound.NewServer(r.Client, cfg)
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Shutdown)
	return srv
}

// onlyTask waits until the queue's one task has failed retried times (or
// is archived), and returns it.
func onlyTask(t *testing.T, in *asynq.Inspector, queue string, retried int) *asynq.TaskInfo {
	t.Helper()
	var got *asynq.TaskInfo
	require.Eventually(t, func() bool {
		for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){in.ListRetryTasks, in.ListArchivedTasks} {
			if ts, _ := list(queue); len(ts) == 1 && ts[0].Retried == retried || len(ts) == 1 && ts[0].State == asynq.TaskStateArchived {
				got = ts[0]
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the delivery failed %d times", retried)
	return got
}

// backoff is the wait asynq scheduled after the task's last failure. Both
// times are in whole seconds in asynq: the waits here are hours.
func backoff(ti *asynq.TaskInfo) time.Duration { return ti.NextProcessAt.Sub(ti.LastFailedAt) }

// The waits double from the first: RetryBase after the first failure,
// twice that after the second.
func TestRelay_BackoffDoublesFromTheFirstFailure(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	down := newSink(t, 503, 503, 503)
	d := relayOne(t, r, down.URL, outbound.Config{RetryBase: time.Hour, RetryMax: 8 * time.Hour})
	in := asynq.NewInspectorFromRedisClient(r.Client)

	first := onlyTask(t, in, d.Queue(), 1)
	require.InDelta(t, time.Hour.Seconds(), backoff(first).Seconds(), 2, "after the 1st failure")
	require.NoError(t, in.RunTask(d.Queue(), first.ID))
	second := onlyTask(t, in, d.Queue(), 2)
	require.InDelta(t, (2 * time.Hour).Seconds(), backoff(second).Seconds(), 2, "after the 2nd failure")
}

// A delivery is archived only once its next wait would end past MaxAge:
// with waits of 1 h, 2 h, 2 h... and MaxAge 6h30m, after 5 h of waits.
func TestRelay_ArchivedOnlyOnceTheNextWaitPassesMaxAge(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	down := newSink(t, 503, 503, 503, 503, 503, 503, 503, 503)
	cfg := outbound.Config{RetryBase: time.Hour, RetryMax: 2 * time.Hour, MaxAge: 6*time.Hour + 30*time.Minute}
	d := relayOne(t, r, down.URL, cfg)
	in := asynq.NewInspectorFromRedisClient(r.Client)

	var waited time.Duration
	ti := onlyTask(t, in, d.Queue(), 1)
	for retried := 2; ti.State != asynq.TaskStateArchived; retried++ {
		waited += backoff(ti)
		require.NoError(t, in.RunTask(d.Queue(), ti.ID))
		ti = onlyTask(t, in, d.Queue(), retried)
	}
	require.Greater(t, waited+cfg.RetryMax, cfg.MaxAge, "archived after %s of waits, %d attempts", waited, len(down.got()))
	require.Less(t, waited, cfg.MaxAge)
}

// A delivery archived for age and replayed (mmlite outbound replay) has
// MaxAge again: a failure on the replay is retried, and the delivery
// carries its delivery id throughout.
func TestRelay_ReplayedDeliveryIsRetriedAgain(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	down := newSink(t, 503, 503, 503) // twice before the archive, once after the replay
	d := relayOne(t, r, down.URL, outbound.Config{RetryBase: time.Hour, RetryMax: time.Hour, MaxAge: 90 * time.Minute})
	in := asynq.NewInspectorFromRedisClient(r.Client)
	ti := onlyTask(t, in, d.Queue(), 1)
	require.NoError(t, in.RunTask(d.Queue(), ti.ID))
	require.Equal(t, asynq.TaskStateArchived, onlyTask(t, in, d.Queue(), 2).State, "archived for age")

	n, err := outbound.Replay(context.Background(), r.Client, d.Queue())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ti = onlyTask(t, in, d.Queue(), 1)
	require.Equal(t, asynq.TaskStateRetry, ti.State, "retried after one failure: %s", ti.LastErr)
	require.NoError(t, in.RunTask(d.Queue(), ti.ID))
	require.Eventually(t, func() bool { return len(down.got()) == 4 }, 10*time.Second, 20*time.Millisecond)
	for _, h := range down.got() {
		require.Equal(t, ti.ID, h.header.Get(outbound.DeliveryIDHeader))
	}
	require.Eventually(t, func() bool {
		q, err := in.GetQueueInfo(d.Queue())
		return err == nil && q.Size == 0
	}, 10*time.Second, 20*time.Millisecond, "delivered")
}

// A destination that answers 429 or 503 with Retry-After (seconds, or an
// HTTP date) longer than the backoff is left alone that long, never more
// than RetryMax; it was retried on the backoff whatever it asked
// (style.md: honour Retry-After, capped). A shorter one leaves the
// backoff as it is.
func TestRelay_RetryAfterIsHonouredCapped(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	in := asynq.NewInspectorFromRedisClient(r.Client)
	cfg := outbound.Config{RetryBase: time.Minute, RetryMax: 2 * time.Hour}
	for _, tc := range []struct {
		code       int
		retryAfter string
		want       time.Duration
	}{
		{429, "1800", 30 * time.Minute},
		{503, time.Now().Add(45 * time.Minute).UTC().Format(http.TimeFormat), 45 * time.Minute},
		{429, "86400", 2 * time.Hour}, // capped
		{503, "5", time.Minute},       // the backoff is longer
	} {
		sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", tc.retryAfter)
			w.WriteHeader(tc.code)
		}))
		t.Cleanup(sink.Close)
		d := relayOne(t, r, sink.URL, cfg)
		ti := onlyTask(t, in, d.Queue(), 1)
		require.InDelta(t, tc.want.Seconds(), backoff(ti).Seconds(), 3, "HTTP %d, Retry-After: %s", tc.code, tc.retryAfter)
	}
}
