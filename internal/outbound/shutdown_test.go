package outbound_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
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
	// The destination answers only once the client has gone (or the test
	// ends): a bound of its own could answer the POST before a loaded
	// machine has even seen it in flight, and nothing would be handed back.
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body) // the server sees the client go only once the body is read
		select {
		case <-req.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) }) // runs first
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: "+hung.URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, ds[0].Queue(), queue)
	require.NoError(t, outbound.NewRelay(r.Client, ds).Store(context.Background(), []byte(`{"n":1}`), http.Header{}, nil))
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	for i := range 2 {
		enqueueCallback(t, client, queue, fmt.Sprintf("c1:%d", i), fmt.Sprintf(`{"campaign_id":"c1","n":%d}`, i))
	}
	var logs redistest.SyncBuffer
	reg := prometheus.NewRegistry()
	srv, err := outbound.NewServer(r.Client, outbound.Config{Destinations: ds, Callbacks: outbound.NewCallbacks(newSink(t).URL, "cb"),
		CallbackQueue: queue, BatchSize: 10, BatchWait: time.Minute, ShutdownTimeout: 300 * time.Millisecond, Registerer: reg,
		// Above the shutdown's wait, so that the POST is still in flight
		// when asynq hands it back: by default (two thirds of that wait,
		// 200 ms here) it fails on its own first, and is retried.
		HTTPTimeout: time.Minute,
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
	// asynq cancels the handlers' context once it has handed their tasks
	// back; wait until each of the three has returned, whatever it made
	// of that (a failure, before the fix).
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), `msg="outbound delivery `) >= 3
	}, 30*time.Second, 10*time.Millisecond, "the handlers never returned:\n%s", &logs)

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
	enqueueCallback(t, client, queue, "c1:1", `{"campaign_id":"c1"}`)
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
