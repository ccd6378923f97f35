package outbound_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A replay run while the destination still refuses the deliveries (a fix
// not quite right) queues each archived delivery once and ends: the ones
// its own first page got archived again, at the end of the archive, are
// not picked up again (each would be POSTed over and over). The workers
// are played by the hook: once the first page is moved, every delivery
// pending is archived again, as a refusing destination has them.
func TestReplay_QueuesEachArchivedDeliveryOnce(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ds, q := oneDestination(t, r)
	relay := outbound.NewRelay(r.Client, ds)
	const n = 600 // two pages
	for i := range n {
		require.NoError(t, relay.Store(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i), http.Header{}, nil))
	}
	in := asynq.NewInspectorFromRedisClient(r.Client)
	archived, err := in.ArchiveAllPendingTasks(q)
	require.NoError(t, err)
	require.Equal(t, n, archived)

	hooked := redisconn.Client(r.Opt)
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(&redistest.AfterFirst{Name: "eval", Pipelines: true, Fn: func() {
		again, err := in.ArchiveAllPendingTasks(q)
		require.NoError(t, err)
		require.Equal(t, 500, again, "the first page, refused again")
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	replayed, err := outbound.Replay(ctx, hooked, q)
	require.NoError(t, err)
	require.Equal(t, n, replayed, "each archived delivery queued once by one replay")
	info, err := in.GetQueueInfo(q)
	require.NoError(t, err)
	require.Equal(t, 100, info.Pending, "the second page")
	require.Equal(t, 500, info.Archived, "the first page, archived again and left for the next replay")
}

// The queues of status and replay: every destination's then the
// callbacks', or only the one named; a name that matches none is refused.
func TestQueues(t *testing.T) {
	t.Parallel()
	ds, err := outbound.Load(outbound.Sources{Forward: "http://127.0.0.1:9/h", NoSecrets: true})
	require.NoError(t, err)
	all := []outbound.NamedQueue{{Name: "forward", Queue: outbound.RelayQueuePrefix + "forward"},
		{Name: outbound.CallbackName, Queue: outbound.CallbackQueue}}
	for only, want := range map[string][]outbound.NamedQueue{"": all, "forward": all[:1], outbound.CallbackName: all[1:]} {
		got, err := outbound.Queues(ds, only, "")
		require.NoError(t, err, only)
		require.Equal(t, want, got, only)
	}
	_, err = outbound.Queues(ds, "nope", "")
	require.EqualError(t, err, `no destination named "nope" (see MMLITE_WEBHOOK_DESTINATIONS; "results" is the callbacks)`)

	// Another installation on the same Redis (MMLITE_QUEUE) has queues of
	// its own; the default keeps the documented names.
	ds, err = outbound.Load(outbound.Sources{Forward: "http://127.0.0.1:9/h", NoSecrets: true, Queue: "other"})
	require.NoError(t, err)
	got, err := outbound.Queues(ds, "", outbound.CallbackQueueOf("other"))
	require.NoError(t, err)
	require.Equal(t, []outbound.NamedQueue{{Name: "forward", Queue: "other-relay-forward"},
		{Name: outbound.CallbackName, Queue: "other-callbacks"}}, got)
	require.Equal(t, outbound.CallbackQueue, outbound.CallbackQueueOf("mmlite"))
	ds, err = outbound.Load(outbound.Sources{Forward: "http://127.0.0.1:9/h", NoSecrets: true, Queue: "mmlite"})
	require.NoError(t, err)
	require.Equal(t, outbound.RelayQueuePrefix+"forward", ds[0].Queue())
}

// An archived task whose message cannot be read (written by hand, or by
// another program) stopped the replay there: neither it nor any delivery
// after it was queued again, and the CLI stopped at that destination. The
// others are queued; the unreadable ones are left in the archive and
// named in the error.
func TestReplay_UnreadableTaskIsLeftAndTheOthersQueued(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ds, q := oneDestination(t, r)
	relay := outbound.NewRelay(r.Client, ds)
	for i := range 3 {
		require.NoError(t, relay.Store(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i), http.Header{}, nil))
	}
	in := asynq.NewInspectorFromRedisClient(r.Client)
	_, err := in.ArchiveAllPendingTasks(q)
	require.NoError(t, err)
	k := keyspace.New(q)
	ctx := context.Background()
	// First in the archive, with a message that is no protobuf.
	require.NoError(t, r.Client.HSet(ctx, k.AsynqTask("broken"), "msg", "\xff\xff\xff", "state", "archived").Err())
	require.NoError(t, r.Client.ZAdd(ctx, k.AsynqArchived(), redis.Z{Score: 1, Member: "broken"}).Err())

	replayed, err := outbound.Replay(ctx, r.Client, q)
	require.Equal(t, 3, replayed, "the readable ones")
	require.ErrorContains(t, err, "1 archived task cannot be read")
	require.ErrorContains(t, err, "broken")
	info, err := in.GetQueueInfo(q)
	require.NoError(t, err)
	require.Equal(t, 3, info.Pending)
	n, err := r.Client.ZCard(ctx, k.AsynqArchived()).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the unreadable one stays in the archive")
}

// oneDestination is a destination of its own (https://crm.example/hooks,
// never reached), its queue emptied.
func oneDestination(t *testing.T, r *redistest.Redis) ([]*outbound.Destination, string) {
	t.Helper()
	ds, err := destinations(t, "destinations:\n  - name: "+name(t)+"\n    url: https://crm.example/hooks\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue())
	return ds, ds[0].Queue()
}
