package store_test

import (
	"testing"

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
	require.Equal(t, []store.DeliveryResult{{Counted: true}, {}, {}, {Counted: true, Fallback: true}, {Counted: true}, {Counted: true}, {}}, counted)

	tr, err = b.store.Deliveries.Track(b.ctx, events[:1])
	require.NoError(t, err)
	require.True(t, tr[0].Seen)
	counted, err = b.store.Deliveries.Record(b.ctx, events) // the whole delivery again
	require.NoError(t, err)
	require.Equal(t, make([]store.DeliveryResult, len(events)), counted, "nothing counts twice")

	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.EqualValues(t, 2, st.Counts.Delivered, "A (implied by read) and B")
	require.EqualValues(t, 1, st.Counts.Read)
	require.EqualValues(t, 1, st.Counts.Fallback, "B once, though two of its events said marketing")
	require.EqualValues(t, 1, st.Counts.Undelivered)
	require.Equal(t, map[string]int64{"131049": 1}, st.DeliveryErrors)
}
