package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

func TestDelivery_CountsOncePerWAMIDAndStatus(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 3)
	for i, w := range []string{"wamid.A", "wamid.B", "wamid.C"} {
		_, err := b.store.Ledger.Settle(b.ctx, "c1", "4412345678"+string(rune('0'+i))+"0", store.Outcome{Status: task.StatusSent, WAMID: w}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	events := []store.Delivery{
		{WAMID: "wamid.A", Status: "read", At: 3},                                  // read before delivered
		{WAMID: "wamid.A", Status: "delivered", Category: "marketing_lite", At: 2}, // then delivered: already implied
		{WAMID: "wamid.A", Status: "read", At: 3},                                  // repeated
		{WAMID: "wamid.B", Status: "delivered", Category: "marketing", At: 2},      // Cloud API fallback
		{WAMID: "wamid.B", Status: "sent", Category: "marketing", At: 1},
		{WAMID: "wamid.C", Status: "failed", ErrorCode: 131049, At: 5},
		{WAMID: "wamid.unknown", Status: "delivered", At: 2},
	}
	tr, err := b.store.Deliveries.Track(b.ctx, events)
	require.NoError(t, err)
	require.Equal(t, store.Tracked{Campaign: "c1", To: "441234567800", Known: true}, tr[0])
	require.False(t, tr[6].Known)

	counted, err := b.store.Deliveries.Record(b.ctx, events)
	require.NoError(t, err)
	require.Equal(t, []store.DeliveryResult{{Counted: true}, {}, {}, {Counted: true, Fallback: true}, {Counted: true}, {Counted: true}, {Unknown: true}}, counted)

	tr, err = b.store.Deliveries.Track(b.ctx, events[:1])
	require.NoError(t, err)
	require.True(t, tr[0].Seen)
	counted, err = b.store.Deliveries.Record(b.ctx, events) // the whole delivery again
	require.NoError(t, err)
	require.Equal(t, []store.DeliveryResult{{}, {}, {}, {}, {}, {}, {Unknown: true}}, counted, "nothing counts twice")

	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Counts.Delivered, "A (implied by read) and B")
	require.EqualValues(t, 1, st.Counts.Read)
	require.EqualValues(t, 1, st.Counts.Fallback, "B once, though two of its events said marketing")
	require.EqualValues(t, 1, st.Counts.Undelivered)
	require.Equal(t, map[string]int64{"131049": 1}, st.DeliveryErrors)
}

// A delivery's task (and its second, the callback) is enqueued in the step
// that records the event the first time, and never again: not when the
// event comes again, not even once the first task was consumed.
func TestDelivery_RecordEnqueuesItsTaskOnce(t *testing.T) {
	t.Parallel()
	b := sentAsA(t)
	results, callbacks := keyspace.New(b.r.Results), keyspace.New(b.r.Queue)
	rt := func(msg string) *store.ResultTask {
		return &store.ResultTask{Queue: b.r.Results, ID: "status:wamid.A:read", Msg: []byte(msg),
			Also: &store.ResultTask{Queue: b.r.Queue, ID: "cb:status:wamid.A:read", Msg: []byte("cb " + msg)}}
	}
	pending := func(k keyspace.Space) []string {
		ids, err := b.r.Client.LRange(b.ctx, k.AsynqPending(), 0, -1).Result()
		require.NoError(t, err)
		return ids
	}

	counted, err := b.store.Deliveries.Record(b.ctx, []store.Delivery{{WAMID: "wamid.A", Status: "read", At: 3, Task: rt("first")}})
	require.NoError(t, err)
	require.Equal(t, []store.DeliveryResult{{Counted: true}}, counted)
	require.Equal(t, []string{"status:wamid.A:read"}, pending(results))
	require.Equal(t, []string{"cb:status:wamid.A:read"}, pending(callbacks))
	msg, err := b.r.Client.HGet(b.ctx, results.AsynqTask("status:wamid.A:read"), "msg").Result()
	require.NoError(t, err)
	require.Equal(t, "first", msg)
	msg, err = b.r.Client.HGet(b.ctx, callbacks.AsynqTask("cb:status:wamid.A:read"), "msg").Result()
	require.NoError(t, err)
	require.Equal(t, "cb first", msg)

	// The consumer takes both tasks; the provider delivers the event again.
	require.NoError(t, b.r.Client.Del(b.ctx, results.AsynqPending(), results.AsynqTask("status:wamid.A:read"),
		callbacks.AsynqPending(), callbacks.AsynqTask("cb:status:wamid.A:read")).Err())
	counted, err = b.store.Deliveries.Record(b.ctx, []store.Delivery{{WAMID: "wamid.A", Status: "read", At: 3, Task: rt("again")},
		{WAMID: "wamid.A", Status: "read", At: 3, Task: rt("again")}})
	require.NoError(t, err)
	require.Equal(t, make([]store.DeliveryResult, 2), counted)
	require.Empty(t, pending(results), "an event recorded before is not emitted again")
	require.Empty(t, pending(callbacks))

	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Read)
}

// A status of a message whose campaign is gone (retired) is not counted,
// but its task is still emitted, once: the event is marked all the same.
func TestDelivery_RetiredCampaignEmitsOnce(t *testing.T) {
	t.Parallel()
	b := sentAsA(t)
	require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign("c1")).Err())
	results := keyspace.New(b.r.Results)
	d := store.Delivery{WAMID: "wamid.A", Status: "delivered", At: 2,
		Task: &store.ResultTask{Queue: b.r.Results, ID: "status:wamid.A:delivered", Msg: []byte("m")}}
	for i, want := range []int64{1, 0} { // then delivered again after the consumer took the task
		counted, err := b.store.Deliveries.Record(b.ctx, []store.Delivery{d})
		require.NoError(t, err)
		require.Equal(t, []store.DeliveryResult{{}}, counted, "not counted: the campaign is gone")
		n, err := b.r.Client.LLen(b.ctx, results.AsynqPending()).Result()
		require.NoError(t, err)
		require.Equal(t, want, n, "delivery %d", i+1)
		require.NoError(t, b.r.Client.Del(b.ctx, results.AsynqPending(), results.AsynqTask(d.Task.ID)).Err())
	}
}

// sentAsA has a campaign c1 whose one recipient was sent as wamid.A.
func sentAsA(t *testing.T) *bundle {
	t.Helper()
	b := setup(t)
	b.register(t, "c1", 1)
	_, err := b.store.Ledger.Settle(b.ctx, "c1", "441234567800", store.Outcome{Status: task.StatusSent, WAMID: "wamid.A"}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	return b
}

// The Always tasks (a webhook's relay tasks) are written whatever becomes
// of the event: counted, seen before, of a message mmlite does not know,
// of a campaign gone; each once while it is queued.
func TestDelivery_AlwaysTasksWhateverTheEvent(t *testing.T) {
	t.Parallel()
	b := sentAsA(t)
	// Queues of this test only: the shared server outlives a run.
	one, two := b.r.Queue+"-relay-one", b.r.Queue+"-relay-two"
	q1, q2 := keyspace.New(one), keyspace.New(two)
	t.Cleanup(func() {
		for _, q := range []keyspace.Space{q1, q2} {
			keys := []string{q.AsynqPending()}
			for n := range 4 {
				keys = append(keys, q.AsynqTask(fmt.Sprintf("relay:%d", n)))
			}
			b.r.Client.Del(context.Background(), keys...)
		}
		b.r.Client.SRem(context.Background(), keyspace.AsynqQueues, one, two)
	})
	always := func(n int) *store.ResultTask {
		id := fmt.Sprintf("relay:%d", n)
		return &store.ResultTask{Queue: one, ID: id, Msg: []byte("one " + id),
			Also: &store.ResultTask{Queue: two, ID: id, Msg: []byte("two " + id)}}
	}
	for n, d := range []store.Delivery{
		{WAMID: "wamid.A", Status: "delivered", At: 2}, // counted
		{WAMID: "wamid.A", Status: "delivered", At: 2}, // seen before
		{WAMID: "wamid.unknown", Status: "read", At: 3},
		{WAMID: "wamid.A", Status: "read", At: 3}, // its campaign gone (below)
	} {
		if n == 3 {
			require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign("c1")).Err())
		}
		d.Always = always(n)
		for i := range 2 { // the second time, the task is still queued: written once
			counted, err := b.store.Deliveries.Record(b.ctx, []store.Delivery{d, {WAMID: "wamid.A", Status: "sent", At: 1}})
			require.NoError(t, err)
			require.Equal(t, n == 0 && i == 0, counted[0].Counted, "event %d, time %d", n, i+1)
		}
		for _, q := range []keyspace.Space{q1, q2} {
			ids, err := b.r.Client.LRange(b.ctx, q.AsynqPending(), 0, -1).Result()
			require.NoError(t, err)
			require.Equal(t, fmt.Sprintf("relay:%d", n), ids[0], "event %d", n)
			require.Len(t, ids, n+1, "event %d: each task once", n)
			msg, err := b.r.Client.HGet(b.ctx, q.AsynqTask(ids[0]), "msg").Result()
			require.NoError(t, err)
			require.Contains(t, msg, ids[0])
		}
	}
}

// A campaign's undelivered count (and its delivery errors by code) says
// what the results export's "undelivered" selects: messages reported
// failed and never delivered. A failed status that comes after the
// message's delivered or read, or before a delivered delivered late, does
// not make it undelivered.
func TestDelivery_UndeliveredAgreesWithTheExport(t *testing.T) {
	t.Parallel()
	b := setup(t)
	wamids := []string{"wamid.A", "wamid.B", "wamid.C", "wamid.D", "wamid.E"}
	b.register(t, "c1", len(wamids))
	for i, w := range wamids {
		_, err := b.store.Ledger.Settle(b.ctx, "c1", fmt.Sprintf("4412345678%02d", i), store.Outcome{Status: task.StatusSent, WAMID: w},
			store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	for _, batch := range [][]store.Delivery{
		{{WAMID: "wamid.A", Status: "delivered", At: 2}, {WAMID: "wamid.A", Status: "failed", ErrorCode: 131026, At: 3}}, // delivered, then failed
		{{WAMID: "wamid.B", Status: "failed", ErrorCode: 131026, At: 3}},                                                 // failed...
		{{WAMID: "wamid.B", Status: "delivered", At: 2}},                                                                 // ...its delivered comes late
		{{WAMID: "wamid.C", Status: "failed", ErrorCode: 131049, At: 3}},                                                 // undelivered
		{{WAMID: "wamid.D", Status: "read", At: 4}, {WAMID: "wamid.D", Status: "failed", ErrorCode: 131026, At: 5}},      // read, then failed
		{{WAMID: "wamid.E", Status: "failed", At: 3}, {WAMID: "wamid.E", Status: "read", At: 4}},                         // failed without a code, then read
	} {
		_, err := b.store.Deliveries.Record(b.ctx, batch)
		require.NoError(t, err)
		_, err = b.store.Deliveries.Record(b.ctx, batch) // webhooks come at least once
		require.NoError(t, err)
	}
	states, err := b.store.Deliveries.States(b.ctx, wamids)
	require.NoError(t, err)
	var undelivered []string
	for i, s := range states {
		if s.Undelivered() {
			undelivered = append(undelivered, wamids[i])
		}
	}
	require.Equal(t, []string{"wamid.C"}, undelivered, "what the export's undelivered selects")
	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Undelivered, "the status counts what the export selects")
	require.Equal(t, map[string]int64{"131049": 1}, st.DeliveryErrors)
	require.EqualValues(t, 4, st.Counts.Delivered)
}
