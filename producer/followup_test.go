package producer_test

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A follow-up takes the recipients whose outcome matches, unknown ones only
// when asked, and never one whose message was delivered; a recipient whose
// message was accepted, then reported failed, is "undelivered".
func TestFollowUp_WhoIsTaken(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.campaign(t, nil)
	sum, err := b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to,meta.k\n"+
		"441234567801,failed\n441234567802,unknown\n441234567803,undelivered\n441234567804,delivered\n441234567805,read\n441234567806,sent\n")),
		producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, 6, sum.Accepted)
	st := b.p.Store()
	settle := func(to, status, wamid string) {
		t.Helper()
		_, err := st.Ledger.Settle(b.ctx, c.ID, to, store.Outcome{Status: status, WAMID: wamid, Metadata: map[string]string{"k": "v" + to[10:]}},
			store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	settle("441234567801", task.StatusFailed, "")
	settle("441234567802", task.StatusUnknown, "")
	settle("441234567803", task.StatusSent, "wamid.3")
	settle("441234567804", task.StatusSent, "wamid.4")
	settle("441234567805", task.StatusSent, "wamid.5")
	settle("441234567806", task.StatusSent, "wamid.6")
	_, err = st.Deliveries.Record(b.ctx, []store.Delivery{{WAMID: "wamid.3", Status: "failed", ErrorCode: 131049, At: 1},
		{WAMID: "wamid.4", Status: "delivered", At: 1}, {WAMID: "wamid.5", Status: "failed", ErrorCode: 131049, At: 1},
		{WAMID: "wamid.5", Status: "read", At: 2}})
	require.NoError(t, err)
	_, err = b.p.FollowUp(b.ctx, c.ID, producer.FollowUp{ID: "early", Statuses: []string{"failed"}})
	require.ErrorIs(t, err, campaign.ErrState, "not sealed: still open")
	_, err = b.p.Seal(b.ctx, c.ID)
	require.NoError(t, err)

	taken := func(id string, f producer.FollowUp) []string {
		t.Helper()
		f.ID = id
		_, err := b.p.FollowUp(b.ctx, c.ID, f)
		require.NoError(t, err)
		var tos []string
		ids, err := b.r.Client.ZRange(b.ctx, b.r.Keys.AsynqScheduled(), 0, -1).Result()
		require.NoError(t, err)
		pending, err := b.r.Client.LRange(b.ctx, b.r.Keys.AsynqPending(), 0, -1).Result()
		require.NoError(t, err)
		for _, tid := range append(ids, pending...) {
			if to, ok := strings.CutPrefix(tid, id+":"); ok {
				tos = append(tos, to)
			}
		}
		return tos
	}
	require.ElementsMatch(t, []string{"441234567801", "441234567803"}, taken("f1", producer.FollowUp{Statuses: []string{"failed", "undelivered"}}))
	require.ElementsMatch(t, []string{"441234567801", "441234567802"}, taken("f2", producer.FollowUp{Statuses: []string{"failed"}, IncludeUnknown: true}))
	require.ElementsMatch(t, []string{"441234567803"}, taken("f3", producer.FollowUp{Statuses: []string{"undelivered"}, Codes: []int{131049}}))

	_, err = b.p.FollowUp(b.ctx, c.ID, producer.FollowUp{ID: "f4", Statuses: []string{"delivered"}})
	require.ErrorContains(t, err, `statuses: "delivered" cannot be followed up`)
	_, err = b.p.FollowUp(b.ctx, c.ID, producer.FollowUp{ID: "f4", Statuses: []string{"unknown"}})
	require.ErrorContains(t, err, "set include_unknown")
	_, err = b.p.FollowUp(b.ctx, c.ID, producer.FollowUp{ID: "f4", Statuses: []string{"expired"}})
	require.ErrorIs(t, err, producer.ErrNoMatch)
	_, err = b.p.Status(b.ctx, "f4")
	require.ErrorIs(t, err, campaign.ErrNotFound, "nothing registered")

	// The delivery filters of an export.
	f, err := results.ParseFilter([]string{"delivered"}, nil)
	require.NoError(t, err)
	var got []string
	require.NoError(t, results.Each(b.ctx, st, c.ID, f, false, func(items []results.Item) error {
		for _, it := range items {
			got = append(got, it.To)
		}
		return nil
	}))
	require.ElementsMatch(t, []string{"441234567804", "441234567805"}, got, "a read counts as delivered")
}
