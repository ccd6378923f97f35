package producer_test

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/results"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
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
	require.ErrorContains(t, err, `statuses[0]: "delivered" cannot be followed up`)
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

// followSource is a sealed, finished campaign whose three recipients
// failed with 131026; a producer that writes one job per Redis call.
func followSource(t *testing.T) (*bundle, *campaign.Campaign) {
	t.Helper()
	b := setup(t)
	p, err := producer.New(producer.Config{Client: b.r.Client, Queue: b.r.Queue, BatchSize: 1, Concurrency: 1})
	require.NoError(t, err)
	b.p = p
	c := b.campaign(t, nil)
	_, err = b.p.Enqueue(b.ctx, c, producer.NewCSVSource(strings.NewReader("to,meta.k\n441234567801,a\n441234567802,b\n441234567803,c\n")), producer.Options{})
	require.NoError(t, err)
	for _, to := range []string{"441234567801", "441234567802", "441234567803"} {
		_, err := b.p.Store().Ledger.Settle(b.ctx, c.ID, to, store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}},
			store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	_, err = b.p.Seal(b.ctx, c.ID)
	require.NoError(t, err)
	return b, c
}

// A follow-up that failed part-way (Redis answered an error to one of its
// enqueue batches) is finished by asking again with the same definition:
// what is missing is enqueued, what was is a duplicate, and it is sealed.
func TestFollowUp_AskedAgainAfterAFailurePartWayFinishes(t *testing.T) {
	t.Parallel()
	b, c := followSource(t)
	b.r.Client.AddHook(&redistest.FailFirst{Name: "evalsha", Arg: task.SendID("fu", "441234567802")})
	f := producer.FollowUp{ID: "fu", Statuses: []string{"failed"}, Codes: []int{131026}}
	first, err := b.p.FollowUp(b.ctx, c.ID, f)
	require.ErrorIs(t, err, redistest.ErrInjected)
	st, err := b.p.Status(b.ctx, "fu")
	require.NoError(t, err)
	require.False(t, st.Sealed, "not sealed: its list is not whole")
	require.Less(t, first.Accepted, int64(3))

	// The same request, its fields in another order.
	again, err := b.p.FollowUp(b.ctx, c.ID, producer.FollowUp{ID: "fu", Statuses: []string{"failed", "failed"}, Codes: []int{131026}})
	require.NoError(t, err)
	require.EqualValues(t, 3-first.Accepted, again.Accepted, "what the first pass missed")
	require.EqualValues(t, first.Accepted, again.Duplicates, "what the first pass enqueued")
	st, err = b.p.Status(b.ctx, "fu")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Counts.Enqueued)
	require.True(t, st.Sealed)

	// Once finished, the same request again changes nothing.
	again, err = b.p.FollowUp(b.ctx, c.ID, f)
	require.NoError(t, err)
	require.EqualValues(t, 0, again.Accepted)
	require.EqualValues(t, 3, again.Duplicates)
	_, err = b.p.FollowUp(b.ctx, c.ID, producer.FollowUp{ID: "fu", Statuses: []string{"failed"}, Codes: []int{131049, 131026}})
	require.ErrorIs(t, err, campaign.ErrConflict)
	require.ErrorContains(t, err, "fu exists: it is a follow-up of spring-sale-2026 (statuses failed, codes 131026): choose another id")
}

// A follow-up under the id of an existing campaign is refused, saying
// why, unless it is the same follow-up (source, outcomes, codes, template
// and times).
func TestFollowUp_AnotherUnderTheSameIDIsAConflict(t *testing.T) {
	t.Parallel()
	b, c := followSource(t)
	f := producer.FollowUp{ID: "fu", Statuses: []string{"failed"}}
	_, err := b.p.FollowUp(b.ctx, c.ID, f)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		f    producer.FollowUp
		want string
	}{
		{"other outcomes", producer.FollowUp{ID: "fu", Statuses: []string{"failed", "expired"}}, "fu exists: it is a follow-up of spring-sale-2026 (statuses failed): choose another id"},
		{"codes", producer.FollowUp{ID: "fu", Statuses: []string{"failed"}, Codes: []int{131026}}, "fu exists: it is a follow-up of spring-sale-2026 (statuses failed): choose another id"},
		{"template", producer.FollowUp{ID: "fu", Statuses: []string{"failed"}, Template: &mmapi.Template{Name: "spring_reminder", Language: mmapi.Language{Code: "pt_BR"}}},
			"fu exists and is not this follow-up (another campaign, or a follow-up of spring-sale-2026 with another template, send_at or expires_at): choose another id"},
		{"not a follow-up", producer.FollowUp{ID: c.ID, Statuses: []string{"failed"}}, "spring-sale-2026 exists: a follow-up makes a new campaign"},
	} {
		_, err := b.p.FollowUp(b.ctx, c.ID, tc.f)
		require.ErrorIs(t, err, campaign.ErrConflict, tc.name)
		require.ErrorContains(t, err, tc.want, tc.name)
	}
	// From another source.
	other := b.campaign(t, func(c *campaign.Campaign) { c.ID = "other" })
	_, err = b.p.Enqueue(b.ctx, other, producer.NewCSVSource(strings.NewReader("to\n441234567801\n")), producer.Options{})
	require.NoError(t, err)
	_, err = b.p.Store().Ledger.Settle(b.ctx, other.ID, "441234567801", store.Outcome{Status: task.StatusFailed}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	_, err = b.p.Seal(b.ctx, other.ID)
	require.NoError(t, err)
	_, err = b.p.FollowUp(b.ctx, other.ID, f)
	require.ErrorIs(t, err, campaign.ErrConflict)
	require.ErrorContains(t, err, "fu exists: it is a follow-up of spring-sale-2026 (statuses failed): choose another id")
}

// A status a follow-up cannot take says why, once: "bogus" and "suppressed"
// were both said to have had their message accepted, "bogus" twice over.
// The error names the follow-up, whose field statuses is: it said
// "campaign: statuses: ...", a field no campaign has.
func TestFollowUp_StatusRefusalsSayWhy(t *testing.T) {
	t.Parallel()
	for status, want := range map[string]string{
		"bogus":          `follow-up: statuses[0]: "bogus" is not an outcome (want failed, expired, cancelled, undelivered, or unknown with include_unknown)`,
		"failed,expired": `follow-up: statuses[0]: "failed,expired" is not an outcome (want failed, expired, cancelled, undelivered, or unknown with include_unknown)`,
		"suppressed":     `follow-up: statuses[0]: "suppressed" cannot be followed up: the recipient is on a suppression list`,
		"delivered":      `follow-up: statuses[0]: "delivered" cannot be followed up: its message was accepted`,
		"sent":           `follow-up: statuses[0]: "sent" cannot be followed up: its message was accepted`,
	} {
		err := producer.FollowUp{ID: "f", Statuses: []string{status}}.Validate()
		require.EqualError(t, err, want, status)
	}
}
