package outbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// At shutdown, asynq hands back the deliveries still in flight (a POST
// to a destination that has not answered, a callback waiting for its
// batch) and then cancels their context. Each was then taken for a failed
// attempt: "outbound delivery failed; will retry ... in=10s err=context
// canceled" (it was not retried: it was handed back), a warning that its
// age was not kept (Redis written with the canceled context), and a
// failed attempt counted against a destination that had done nothing
// wrong, at every deploy. They are handed back, nothing else.
func TestShutdown_HandedBackIsNoFailure(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body) // the server sees the client go only once the body is read
		select {
		case <-req.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	t.Cleanup(hung.Close)
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: "+hung.URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, ds[0].Queue(), queue)
	require.NoError(t, outbound.NewRelay(r.Client, ds).Store(context.Background(), []byte(`{"n":1}`), http.Header{}, nil))
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	for i := range 2 {
		_, err := client.Enqueue(asynq.NewTask(task.TypeResult, fmt.Appendf(nil, `{"campaign_id":"c1","n":%d}`, i)), asynq.Queue(queue),
			asynq.TaskID(fmt.Sprintf("%sc1:%d", outbound.CallbackIDPrefix, i)), asynq.MaxRetry(outbound.MaxRetry))
		require.NoError(t, err)
	}
	var logs redistest.SyncBuffer
	reg := prometheus.NewRegistry()
	srv, err := outbound.NewServer(r.Client, outbound.Config{Destinations: ds, Callbacks: outbound.NewCallbacks(newSink(t).URL, "cb"),
		CallbackQueue: queue, BatchSize: 10, BatchWait: time.Minute, ShutdownTimeout: 300 * time.Millisecond, Registerer: reg,
		// A POST longer than the shutdown's wait (by default it is shorter):
		// the relay's is still in flight when asynq hands it back.
		HTTPTimeout: 10 * time.Second,
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		a, _ := in.GetQueueInfo(ds[0].Queue())
		b, _ := in.GetQueueInfo(queue)
		return a != nil && b != nil && a.Active == 1 && b.Active == 2
	}, 10*time.Second, 10*time.Millisecond)
	srv.Shutdown()
	time.Sleep(200 * time.Millisecond) // the handlers see their context canceled

	for _, q := range []string{ds[0].Queue(), queue} {
		info, err := in.GetQueueInfo(q)
		require.NoError(t, err)
		require.Equal(t, info.Size, info.Pending, "%s: handed back", q)
	}
	require.NotContains(t, logs.String(), "will retry")
	require.NotContains(t, logs.String(), "age not kept")
	failed := testkit.Counters(t, reg, "mmlite_outbound_failed_attempts_total")
	require.Zero(t, failed[ds[0].Name], "no failed attempt")
	require.Zero(t, failed[outbound.CallbackName], "no failed attempt")
}

// A batch still open at shutdown (its tasks waiting for it, handed back by
// asynq) was POSTed all the same when its wait ran out, after Shutdown had
// returned: its callbacks went out from a process that had stopped, and
// again from the worker that took them back. Once Shutdown returns, no
// batch is sent.
func TestShutdown_OpenBatchIsNotSentAfter(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, queue)
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	_, err := client.Enqueue(asynq.NewTask(task.TypeResult, []byte(`{"campaign_id":"c1"}`)), asynq.Queue(queue),
		asynq.TaskID(outbound.CallbackIDPrefix+"c1:1"), asynq.MaxRetry(outbound.MaxRetry))
	require.NoError(t, err)
	sink := newSink(t)
	srv, err := outbound.NewServer(r.Client, outbound.Config{Callbacks: outbound.NewCallbacks(sink.URL, "cb"),
		CallbackQueue: queue, BatchSize: 10, BatchWait: 3 * time.Second, ShutdownTimeout: 100 * time.Millisecond,
		Registerer: prometheus.NewRegistry(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		info, _ := in.GetQueueInfo(queue)
		return info != nil && info.Active == 1
	}, 10*time.Second, 5*time.Millisecond)
	srv.Shutdown()
	// The batch's wait (3 s, far longer than the shutdown's) runs out after
	// Shutdown returned.
	require.Never(t, func() bool { return len(sink.got()) > 0 }, 4*time.Second, 20*time.Millisecond, "a batch POSTed after Shutdown returned")
	info, err := in.GetQueueInfo(queue)
	require.NoError(t, err)
	require.Equal(t, 1, info.Pending, "handed back")
}
