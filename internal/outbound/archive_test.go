package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// A destination that refuses everything (a rotated secret: 401) fills its
// archive, which asynq trims to its newest 10,000 entries, deleting the
// others for good. Once the archive holds ArchiveRoom, a refused delivery
// waits in the retry set instead, with its backoff, until MaxAge: none is
// lost, and once the destination is fixed they are delivered (found in
// review: 10,050 refused deliveries left 9,999 to replay).
func TestRelay_RefusalsWaitOnceTheArchiveIsFull(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	var refusing atomic.Bool
	refusing.Store(true)
	var delivered atomic.Int64
	dest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if refusing.Load() {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		delivered.Add(1)
	}))
	t.Cleanup(dest.Close)
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: "+dest.URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	q := ds[0].Queue()
	dropQueues(t, r, q)
	relay := outbound.NewRelay(r.Client, ds)
	const n, room = 30, 20
	for i := range n {
		require.NoError(t, relay.Store(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i), http.Header{}, nil))
	}
	// One at a time: deliveries refused at once all find room (the default
	// room leaves a margin for them below asynq's cap).
	serve(t, r, outbound.Config{Destinations: ds, ArchiveRoom: room, Concurrency: 1})
	in := asynq.NewInspectorFromRedisClient(r.Client)
	info := func() *asynq.QueueInfo {
		qi, err := in.GetQueueInfo(q)
		require.NoError(t, err)
		return qi
	}
	// The rest keep failing and waiting (retried every 100 ms here): the
	// archive takes no more of them.
	require.Eventually(t, func() bool { qi := info(); return qi.Archived == room && qi.Size == n }, 10*time.Second, 20*time.Millisecond)
	require.Never(t, func() bool { return info().Archived > room }, 500*time.Millisecond, 20*time.Millisecond,
		"the archive takes ArchiveRoom refusals; the rest wait")

	refusing.Store(false) // the secret fixed: the waiting ones are delivered
	require.Eventually(t, func() bool { return delivered.Load() == n-room }, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, room, info().Archived, "the archived ones wait for a replay")
}
