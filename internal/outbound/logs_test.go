package outbound_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// The outbound logs carried phone numbers: a callback's task id
// (cb:<campaign>:<recipient>) when its age could not be kept, and a
// destination's answer, which often quotes the body it refuses (a
// validation error naming the "to" it read). Both are masked, as every
// other log line is.
func TestDelivery_LogsMaskPhoneNumbers(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	const to = "447700900123"
	var calls atomic.Int64
	dest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		code := http.StatusServiceUnavailable
		if calls.Add(1) > 1 {
			code = http.StatusUnprocessableEntity
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(`{"detail":[{"loc":["body","to"],"msg":"unknown recipient","input":"` + to + `"}]}`))
	}))
	t.Cleanup(dest.Close)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, queue)
	// A failing set that cannot be written: its warning names the task.
	require.NoError(t, r.Client.Set(context.Background(), keyspace.New(queue).Failing(), "x", 0).Err())
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	_, err := client.Enqueue(asynq.NewTask("mmlite:result", []byte(`{"campaign_id":"c1","to":"`+to+`","status":"sent"}`)),
		asynq.Queue(queue), asynq.TaskID(outbound.CallbackIDPrefix+"c1:"+to), asynq.MaxRetry(20))
	require.NoError(t, err)

	var logs redistest.SyncBuffer
	serve(t, r, outbound.Config{Callbacks: outbound.NewCallbacks(dest.URL, "cb"), CallbackQueue: queue,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		arch, _ := in.ListArchivedTasks(queue)
		return len(arch) == 1
	}, 10*time.Second, 20*time.Millisecond)

	out := logs.String()
	require.Contains(t, out, "will retry")
	require.Contains(t, out, "age not kept")
	require.Contains(t, out, "archived")
	require.NotContains(t, out, to, "a phone number in the logs")
	require.Contains(t, out, "4477*****123")
}

// A relay task whose payload cannot be read (not written by mmlite) was
// archived without a word in the logs: only asynq's archive said why. It
// is logged at error, with its destination and its task id.
func TestDelivery_UnreadableRelayTaskIsLogged(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ds, q := oneDestination(t, r)
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	_, err := client.Enqueue(asynq.NewTask(outbound.TypeRelay, []byte("no newline, no body")), asynq.Queue(q), asynq.TaskID("relay:x:1"))
	require.NoError(t, err)
	var logs redistest.SyncBuffer
	serve(t, r, outbound.Config{Destinations: ds, Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		arch, _ := in.ListArchivedTasks(q)
		return len(arch) == 1
	}, 10*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"task_id":"relay:x:1"`) }, 5*time.Second, 10*time.Millisecond,
		"the archived task is logged: %s", &logs)
	require.Contains(t, logs.String(), `"level":"ERROR"`)
	require.Contains(t, logs.String(), "relay task without its body")
}
