package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestQueueCollector(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	c := asynq.NewClientFromRedisClient(r.Client)
	for range 3 {
		_, err := c.Enqueue(asynq.NewTask("x", nil), asynq.Queue(r.Queue))
		require.NoError(t, err)
	}
	_, err := c.Enqueue(asynq.NewTask("x", nil), asynq.Queue(r.Queue), asynq.ProcessIn(time.Hour))
	require.NoError(t, err)
	for _, id := range []string{"a1", "a2"} { // archived, through asynq's own API
		_, err = c.Enqueue(asynq.NewTask("x", nil), asynq.Queue(r.Queue), asynq.TaskID(id))
		require.NoError(t, err)
	}
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.NoError(t, in.ArchiveTask(r.Queue, "a1"))
	require.NoError(t, in.ArchiveTask(r.Queue, "a2"))
	require.NoError(t, in.PauseQueue(r.Queue))
	qc := metrics.NewQueueCollector(r.Client, r.Queue)
	n, err := testutil.GatherAndCount(prometheusRegistry(t, qc), "asynq_queue_tasks")
	require.NoError(t, err)
	require.Equal(t, 6, n, "one series per state")
	reg := prometheusRegistry(t, metrics.NewQueueCollector(r.Client, r.Queue))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	values := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" {
					key += "/" + l.GetValue()
				}
			}
			values[key] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	info, err := in.GetQueueInfo(r.Queue) // what asynq itself reads
	require.NoError(t, err)
	require.EqualValues(t, info.Pending, values["asynq_queue_tasks/pending"])
	require.EqualValues(t, info.Scheduled, values["asynq_queue_tasks/scheduled"])
	require.EqualValues(t, info.Archived, values["asynq_queue_tasks/archived"])
	require.EqualValues(t, 3, values["asynq_queue_tasks/pending"])
	require.EqualValues(t, 1, values["asynq_queue_tasks/scheduled"])
	require.EqualValues(t, 2, values["asynq_queue_tasks/archived"])
	require.EqualValues(t, 6, values["asynq_queue_size"])
	require.EqualValues(t, 1, values["asynq_queue_paused"])
	require.EqualValues(t, 1, values["mmlite_redis_up"])
	require.Greater(t, values["asynq_queue_latency_seconds"], 0.0)
}

func TestMux(t *testing.T) {
	t.Parallel()
	reg := metrics.NewRegistry()
	var ready error
	srv, err := httpserve.Listen("127.0.0.1:0", metrics.Mux(reg, func(context.Context) error { return ready }), httpserve.Timeouts{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, time.Second) }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + srv.Addr() + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	require.Equal(t, 200, code)
	require.Contains(t, body, "go_goroutines")
	code, _ = get("/healthz")
	require.Equal(t, 200, code)
	code, _ = get("/readyz")
	require.Equal(t, 200, code)
	ready = errors.New("redis down")
	code, body = get("/readyz")
	require.Equal(t, 503, code)
	require.Contains(t, body, "redis down")
	code, _ = get("/nope")
	require.Equal(t, 404, code)
	cancel()
	require.NoError(t, <-done)
}
