package outbound_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// A batch the receiver refuses (a 4xx) is sent again event by event: only
// the event it refuses on its own is archived, with that answer; the others
// are delivered.
func TestCallbacks_BatchRefusedIsSentEventByEvent(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, queue)
	var mu sync.Mutex
	accepted := map[string]bool{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if strings.Contains(string(b), `"bad"`) {
			http.Error(w, fmt.Sprintf("refused a POST of %d events: unknown status", len(lines)), http.StatusUnprocessableEntity)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, l := range lines {
			var line struct {
				Key string `json:"idempotency_key"`
			}
			if json.Unmarshal([]byte(l), &line) == nil {
				accepted[line.Key] = true
			}
		}
	}))
	t.Cleanup(recv.Close)
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	var good []string
	for i := range 5 {
		key, status := fmt.Sprintf("c1:44770090%04d", i), "sent"
		if i == 3 {
			status = "bad"
		} else {
			good = append(good, key)
		}
		enqueueCallback(t, client, queue, key, fmt.Sprintf(`{"campaign_id":"c1","to":"44770090%04d","status":%q}`, i, status))
	}
	serve(t, r, outbound.Config{Callbacks: outbound.NewCallbacks(recv.URL, "cb"), CallbackQueue: queue,
		BatchSize: 5, BatchWait: 500 * time.Millisecond})

	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		q, err := in.GetQueueInfo(queue)
		return err == nil && q.Size == q.Archived
	}, 15*time.Second, 20*time.Millisecond, "every callback delivered or archived")
	arch, err := in.ListArchivedTasks(queue)
	require.NoError(t, err)
	require.Len(t, arch, 1, "only the event refused on its own is archived")
	require.Equal(t, outbound.CallbackIDPrefix+"c1:447700900003", arch[0].ID)
	require.Contains(t, arch[0].LastErr, "HTTP 422: refused a POST of 1 events", "its own answer")
	mu.Lock()
	defer mu.Unlock()
	for _, k := range good {
		require.True(t, accepted[k], "%s delivered", k)
	}
}

// A callback whose payload is not JSON cannot be a line of a batch: the
// batch was POSTed without it (json.Encoder refused the line, unread),
// and the callback acknowledged as delivered, lost. It is archived,
// saying why, and the others of its batch are delivered.
func TestCallbacks_BatchedPayloadThatIsNotJSONIsArchived(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, queue)
	s := newSink(t)
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	for key, payload := range map[string]string{"c1:447700900001": `{"campaign_id":"c1","status":"sent"}`, "c1:447700900002": `{"campaign_id":"c1",`} {
		enqueueCallback(t, client, queue, key, payload)
	}
	serve(t, r, outbound.Config{Callbacks: outbound.NewCallbacks(s.URL, "cb"), CallbackQueue: queue,
		BatchSize: 2, BatchWait: 300 * time.Millisecond})

	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		q, err := in.GetQueueInfo(queue)
		return err == nil && q.Size == q.Archived && len(s.got()) > 0
	}, 10*time.Second, 20*time.Millisecond, "every callback delivered or archived")
	arch, err := in.ListArchivedTasks(queue)
	require.NoError(t, err)
	require.Len(t, arch, 1, "the one that is not JSON is kept")
	require.Equal(t, outbound.CallbackIDPrefix+"c1:447700900002", arch[0].ID)
	require.Contains(t, arch[0].LastErr, "not JSON")
	require.Len(t, s.got(), 1)
	require.Equal(t, 1, strings.Count(string(s.got()[0].body), "\n"), "one line: the other callback")
}
