package emit_test

import (
	"context"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A status recorded with its shape (the record step reads the message's
// campaign and recipient itself) writes, byte for byte, the status task
// and callback that StatusTask encodes; a recipient JSON would escape is
// left to the caller, with nothing recorded.
func TestStatusShape_RecordWritesStatusTaskBytes(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	cbQueue := r.Queue + "-callbacks"
	e := emit.New(r.Client, r.Results, time.Hour).WithCallbacks(cbQueue, false)
	st := store.New(r.Client, r.Keys, store.Options{})
	require.NoError(t, r.Client.HSet(ctx, r.Keys.WAMID("wamid.1"), "c", "spring-sale_2.0\n447700900001").Err())
	require.NoError(t, r.Client.HSet(ctx, r.Keys.WAMID("wamid.2"), "c", "c1\n<447700900002>").Err())

	at := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	ev := task.StatusEvent{CampaignID: "spring-sale_2.0", To: "447700900001", WAMID: "wamid.1", Status: "read",
		PricingCategory: "marketing_lite", Timestamp: at}
	want, err := e.StatusTask(ctx, &ev)
	require.NoError(t, err)
	tasks, shape, err := e.StatusShape(ctx, ev)
	require.NoError(t, err)
	res, err := st.Deliveries.Record(ctx, []store.Delivery{{WAMID: "wamid.1", Status: "read", At: at.Unix(), Task: tasks, Shape: shape}})
	require.NoError(t, err)
	require.Equal(t, []store.DeliveryResult{{}}, res, "no campaign to count it in; its tasks are written all the same")
	n := 0
	for ; want != nil; want = want.Also {
		msg, err := r.Client.HGet(ctx, keyspace.New(want.Queue).AsynqTask(want.ID), "msg").Result()
		require.NoError(t, err, want.Queue)
		require.Equal(t, string(want.Msg), msg, "the task on %s", want.Queue)
		n++
	}
	require.Equal(t, 2, n, "a status task and its callback")

	ev.WAMID, ev.To = "wamid.2", ""
	tasks, shape, err = e.StatusShape(ctx, ev)
	require.NoError(t, err)
	res, err = st.Deliveries.Record(ctx, []store.Delivery{{WAMID: "wamid.2", Status: "read", At: at.Unix(), Task: tasks, Shape: shape}})
	require.NoError(t, err)
	require.Equal(t, []store.DeliveryResult{{Unshaped: true}}, res)
	seen, err := r.Client.HExists(ctx, r.Keys.WAMID("wamid.2"), "read").Result()
	require.NoError(t, err)
	require.False(t, seen, "nothing recorded")
}
