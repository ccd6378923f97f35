package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

const pnid = "106540352242922"

// unknownSetup is a store that keeps unknown outcomes for matching.
func unknownSetup(t *testing.T, window, grace time.Duration) *bundle {
	t.Helper()
	r := redistest.New(t)
	return &bundle{r: r, store: store.New(r.Client, r.Keys, store.Options{UnknownWindow: window, UnknownGrace: grace}),
		ctx: context.Background()}
}

// unknownOutcome claims a recipient, then settles it unknown from pnid.
func (b *bundle) unknownOutcome(t *testing.T, id, to string) {
	t.Helper()
	cl, err := b.store.Ledger.Claim(b.ctx, id, to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	require.Equal(t, store.Claimed, cl.Verdict)
	body, _ := mmapi.NewComponent(map[string]any{"type": "body", "parameters": []map[string]string{{"type": "text", "text": "Ana"}}})
	_, err = b.store.Ledger.Settle(b.ctx, id, to, store.Outcome{Status: task.StatusUnknown, Attempts: 1, PhoneNumberID: pnid,
		Error: &task.Error{Class: "ambiguous", Title: "timeout"}, Components: []mmapi.Component{body},
		Metadata: map[string]string{"crm_id": "7"}}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
}

func (b *bundle) keep(t *testing.T, to, wamid, status, category string, at time.Time) bool {
	t.Helper()
	kept, err := b.store.Deliveries.KeepUnmatched(b.ctx, []store.Unmatched{{PhoneNumberID: pnid, To: to,
		Delivery: store.Delivery{WAMID: wamid, Status: status, Category: category, At: at.Unix()}}})
	require.NoError(t, err)
	return kept[0] == store.Kept
}

func TestUnknown_ResolvedByTheStatusOfItsMessage(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	b.register(t, "c1", 1)
	to := "441234567890"
	// The webhooks come first (a dead worker's attempt is reported later).
	require.True(t, b.keep(t, to, "wamid.A", "sent", "marketing_lite", time.Now()))
	require.True(t, b.keep(t, to, "wamid.A", "delivered", "marketing_lite", time.Now()))
	require.True(t, b.keep(t, to, "wamid.A", "read", "", time.Now()), "a later status of a message kept")
	require.False(t, b.keep(t, to, "wamid.B", "sent", "utility", time.Now()), "not a marketing message: not ours")
	require.False(t, b.keep(t, to, "wamid.C", "read", "", time.Now()), "a read of a message never seen: not ours")
	b.unknownOutcome(t, "c1", to)

	m, err := b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Len(t, m.Resolved, 1)
	r := m.Resolved[0]
	require.Equal(t, "c1", r.Campaign)
	require.Equal(t, to, r.To)
	require.Equal(t, "wamid.A", r.WAMID)
	require.ElementsMatch(t, []string{"sent", "delivered", "read"}, []string{r.Statuses[0].Status, r.Statuses[1].Status, r.Statuses[2].Status})

	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Sent)
	require.Zero(t, st.Counts.Unknown)
	mk, err := b.store.Ledger.Marker(b.ctx, "c1", to)
	require.NoError(t, err)
	require.Equal(t, task.StatusSent, mk.Outcome.Status)
	require.Equal(t, "wamid.A", mk.Outcome.WAMID)
	require.Nil(t, mk.Outcome.Error)
	require.Positive(t, mk.Outcome.Resolved)
	require.Equal(t, map[string]string{"crm_id": "7"}, mk.Outcome.Metadata, "the recipient's own metadata stays")
	require.Len(t, mk.Outcome.Components, 1)
	tr, err := b.store.Deliveries.Track(b.ctx, []store.Delivery{{WAMID: "wamid.A", Status: "delivered"}})
	require.NoError(t, err)
	require.True(t, tr[0].Known, "the wamid maps to the recipient from now on")

	m, err = b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, store.Matching{}, m, "nothing left to match")

	// The resolution is kept until its event and statuses are emitted.
	rs, err := b.store.Ledger.Replays(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, []store.Resolution{r}, rs)
	require.NoError(t, b.store.Ledger.Replayed(b.ctx, r))
	rs, err = b.store.Ledger.Replays(b.ctx, 100)
	require.NoError(t, err)
	require.Empty(t, rs)
}

func TestUnknown_NeverGuessed(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	for _, id := range []string{"a", "b", "c", "d"} {
		b.register(t, id, 1)
	}
	// Two unknown attempts to one recipient (two campaigns), one message.
	b.unknownOutcome(t, "a", "441234567890")
	b.unknownOutcome(t, "b", "441234567890")
	b.keep(t, "441234567890", "wamid.A", "sent", "marketing_lite", time.Now())
	// One attempt, two messages after it.
	b.unknownOutcome(t, "c", "441234567891")
	b.keep(t, "441234567891", "wamid.C1", "sent", "marketing_lite", time.Now())
	b.keep(t, "441234567891", "wamid.C2", "sent", "marketing", time.Now())
	// One attempt, one message from well before it: another message.
	b.unknownOutcome(t, "d", "441234567892")
	b.keep(t, "441234567892", "wamid.D", "sent", "marketing_lite", time.Now().Add(-10*time.Minute))

	m, err := b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Empty(t, m.Resolved)
	require.Equal(t, 3, m.Ambiguous)
	for _, id := range []string{"a", "b", "c", "d"} {
		st, err := b.store.Campaigns.Status(b.ctx, id)
		require.NoError(t, err)
		require.EqualValues(t, 1, st.Counts.Unknown, id)
	}
	// The message of d's attempt comes later: it resolves it.
	b.keep(t, "441234567892", "wamid.D2", "delivered", "marketing_lite", time.Now())
	m, err = b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Len(t, m.Resolved, 1)
	require.Equal(t, "wamid.D2", m.Resolved[0].WAMID)
	// An ambiguous pair is done with: a later message changes nothing.
	b.keep(t, "441234567890", "wamid.A2", "sent", "marketing_lite", time.Now())
	m, err = b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, store.Matching{}, m)
}

// A status that came before its own send was recorded (the webhook beat the
// API's answer) is kept unmatched; once its send is recorded, its wamid is
// another campaign's message, never a candidate for an unknown attempt.
func TestUnknown_AnotherCampaignsMessageIsNoCandidate(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	b.register(t, "a", 1)
	b.register(t, "b", 1)
	to := "441234567890"
	b.unknownOutcome(t, "a", to)
	require.True(t, b.keep(t, to, "wamid.B", "sent", "marketing_lite", time.Now()))
	_, err := b.store.Ledger.Claim(b.ctx, "b", to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	_, err = b.store.Ledger.Settle(b.ctx, "b", to, store.Outcome{Status: task.StatusSent, WAMID: "wamid.B"}, store.FailurePolicy{}, nil)
	require.NoError(t, err)

	m, err := b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, store.Matching{}, m)
	st, err := b.store.Campaigns.Status(b.ctx, "a")
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Unknown, "b's message does not resolve a's attempt")
	tr, err := b.store.Deliveries.Track(b.ctx, []store.Delivery{{WAMID: "wamid.B", Status: "delivered"}})
	require.NoError(t, err)
	require.Equal(t, "b", tr[0].Campaign, "b's message stays b's")
}

func TestUnknown_GraceAndWindow(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, time.Hour)
	b.register(t, "c1", 1)
	b.unknownOutcome(t, "c1", "441234567890")
	b.keep(t, "441234567890", "wamid.A", "sent", "marketing_lite", time.Now())
	m, err := b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, store.Matching{}, m, "within its grace the attempt is not matched: another may still settle")

	b = unknownSetup(t, 300*time.Millisecond, 0)
	b.register(t, "c1", 1)
	b.unknownOutcome(t, "c1", "441234567890")
	m, err = b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, store.Matching{}, m, "no message yet: it waits")
	time.Sleep(400 * time.Millisecond)
	b.keep(t, "441234567890", "wamid.A", "sent", "marketing_lite", time.Now())
	m, err = b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, store.Matching{Expired: 1}, m, "past its window the attempt is dropped")

	// A sender without its phone number id keeps nothing to match.
	b.register(t, "c2", 1)
	_, err = b.store.Ledger.Claim(b.ctx, "c2", "441234567899", store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	_, err = b.store.Ledger.Settle(b.ctx, "c2", "441234567899", store.Outcome{Status: task.StatusUnknown}, store.FailurePolicy{}, nil)
	require.NoError(t, err)
	n, err := b.r.Client.Exists(b.ctx, b.r.Keys.Unknown(pnid, "441234567899"), b.r.Keys.Unknown("", "441234567899")).Result()
	require.NoError(t, err)
	require.Zero(t, n)
}

// A campaign's rate counts its sends (not its expired or cancelled
// recipients) over the last minute.
func TestStatus_Rate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c1", 30)
	for i := range 30 {
		st := []string{task.StatusSent, task.StatusFailed, task.StatusExpired}[i%3]
		_, err := b.store.Ledger.Settle(b.ctx, "c1", fmt.Sprint(441234567800+i), store.Outcome{Status: st}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	st, err := b.store.Campaigns.Status(b.ctx, "c1")
	require.NoError(t, err)
	// 20 sends, over the second or so the campaign has lived.
	require.Greater(t, st.Rate, 10.0)
	require.LessOrEqual(t, st.Rate, 20.0)
}

// A page reads a bounded part of the index: a filter that matches nothing
// among the first campaigns ends the page early, with a cursor to go on.
func TestList_BoundedWork(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "old-paused", 1)
	_, err := b.store.Campaigns.Pause(b.ctx, "old-paused", "operator: test")
	require.NoError(t, err)
	// The list orders by creation to the millisecond, and "old-paused"
	// would come first among campaigns created in the same one.
	time.Sleep(5 * time.Millisecond)
	for i := range 25 {
		b.register(t, fmt.Sprintf("c%02d", i), 1)
	}
	page, err := b.store.Campaigns.List(b.ctx, store.ListOptions{State: "paused", Limit: 1})
	require.NoError(t, err)
	require.Empty(t, page.Campaigns, "20 read, none paused")
	require.NotEmpty(t, page.NextCursor)
	var found []string
	for pages := 0; page.NextCursor != ""; pages++ {
		require.Less(t, pages, 3)
		page, err = b.store.Campaigns.List(b.ctx, store.ListOptions{State: "paused", Limit: 1, Cursor: page.NextCursor})
		require.NoError(t, err)
		for _, st := range page.Campaigns {
			found = append(found, st.ID)
		}
	}
	require.Equal(t, []string{"old-paused"}, found)
	_, err = b.store.Campaigns.List(b.ctx, store.ListOptions{Cursor: "!!"})
	require.ErrorIs(t, err, store.ErrBadCursor)
}

// What a webhook carried reaches the replay as it came, separators and all.
func TestUnknown_ReplayKeepsOddValues(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	b.register(t, "c1", 1)
	to := "441234567890"
	require.True(t, b.keep(t, to, "wamid.\tA", "sent", "marketing_lite", time.Now()))
	require.True(t, b.keep(t, to, "wamid.\tA", "delivered", "odd\tcategory|x", time.Now()))
	b.unknownOutcome(t, "c1", to)
	m, err := b.store.Ledger.MatchUnknowns(b.ctx, 100)
	require.NoError(t, err)
	require.Len(t, m.Resolved, 1)
	rs, err := b.store.Ledger.Replays(b.ctx, 100)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	require.Equal(t, "wamid.\tA", rs[0].WAMID)
	cats := map[string]string{}
	for _, d := range rs[0].Statuses {
		cats[d.Status] = d.Category
	}
	require.Equal(t, map[string]string{"sent": "marketing_lite", "delivered": "odd\tcategory|x"}, cats)
}

// A resolved message is marked sent (at its sent status's time, else the
// resolution's): the resolution's event stands for its "sent", so a sent
// webhook that comes later, or again, is seen before and emits nothing.
func TestUnknown_ResolutionMarksTheMessageSent(t *testing.T) {
	t.Parallel()
	for _, keptSent := range []bool{true, false} {
		t.Run(fmt.Sprintf("sent kept %v", keptSent), func(t *testing.T) {
			t.Parallel()
			b := unknownSetup(t, time.Hour, 0)
			b.register(t, "c1", 1)
			to := "441234567890"
			at := time.Now().Truncate(time.Second)
			if keptSent {
				require.True(t, b.keep(t, to, "wamid.A", "sent", "marketing_lite", at))
			}
			require.True(t, b.keep(t, to, "wamid.A", "delivered", "marketing_lite", at.Add(time.Second)))
			b.unknownOutcome(t, "c1", to)
			m, err := b.store.Ledger.MatchUnknowns(b.ctx, 100)
			require.NoError(t, err)
			require.Len(t, m.Resolved, 1)

			sent, err := b.r.Client.HGet(b.ctx, b.r.Keys.WAMID("wamid.A"), "sent").Int64()
			require.NoError(t, err)
			if keptSent {
				require.Equal(t, at.Unix(), sent)
			} else {
				require.InDelta(t, m.Resolved[0].At.Unix(), sent, 1)
			}
			later := store.Delivery{WAMID: "wamid.A", Status: "sent", At: time.Now().Unix(),
				Task: &store.ResultTask{Queue: b.r.Results, ID: "status:wamid.A:sent", Msg: []byte("m")}}
			tr, err := b.store.Deliveries.Track(b.ctx, []store.Delivery{later})
			require.NoError(t, err)
			require.True(t, tr[0].Seen)
			counted, err := b.store.Deliveries.Record(b.ctx, []store.Delivery{later})
			require.NoError(t, err)
			require.False(t, counted[0].Counted)
			n, err := b.r.Client.LLen(b.ctx, keyspace.New(b.r.Results).AsynqPending()).Result()
			require.NoError(t, err)
			require.Zero(t, n, "no second sent event")
		})
	}
}

// A status whose wamid was unknown when its webhook looked it up, but whose
// send is recorded before it is kept, is not kept: the caller looks it up
// again and records it (see httpapi's keepUnmatched).
func TestUnknown_KeepAfterTheSettleSaysKnown(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	b.register(t, "c1", 1)
	to := "441234567890"
	b.sentSettled(t, "c1", to, "wamid.A")
	kept, err := b.store.Deliveries.KeepUnmatched(b.ctx, []store.Unmatched{{PhoneNumberID: pnid, To: to,
		Delivery: store.Delivery{WAMID: "wamid.A", Status: "delivered", Category: "marketing_lite", At: time.Now().Unix()}}})
	require.NoError(t, err)
	require.Equal(t, []store.Keeping{store.KnownNow}, kept)
	require.Zero(t, b.r.Client.Exists(b.ctx, b.r.Keys.Unmatched(pnid, to)).Val(), "nothing kept")
}

// The settle that maps a wamid takes the statuses kept for it before, for
// the housekeeping to count and emit (see worker's replay): a replay with
// no resolution.
func TestUnknown_SettleTakesTheStatusesKeptBefore(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	b.register(t, "c1", 1)
	to := "441234567890"
	at := time.Now().Add(-time.Second).Truncate(time.Second)
	require.True(t, b.keep(t, to, "wamid.A", "sent", "marketing_lite", at))
	require.True(t, b.keep(t, to, "wamid.A", "delivered", "marketing_lite", at.Add(time.Second)))
	require.True(t, b.keep(t, to, "wamid.B", "sent", "marketing_lite", at), "another message to the same recipient")
	b.sentSettled(t, "c1", to, "wamid.A")

	rs, err := b.store.Ledger.Replays(b.ctx, 100)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	r := rs[0]
	require.True(t, r.Early)
	require.Equal(t, "c1", r.Campaign)
	require.Equal(t, to, r.To)
	require.Equal(t, "wamid.A", r.WAMID)
	require.ElementsMatch(t, []store.Delivery{
		{WAMID: "wamid.A", Status: "sent", Category: "marketing_lite", At: at.Unix()},
		{WAMID: "wamid.A", Status: "delivered", Category: "marketing_lite", At: at.Unix() + 1},
	}, r.Statuses)
	left, err := b.r.Client.HKeys(b.ctx, b.r.Keys.Unmatched(pnid, to)).Result()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"wamid.B", "wamid.B\nsent"}, left, "only the other message stays kept")
	require.NoError(t, b.store.Ledger.Replayed(b.ctx, r))
	require.Zero(t, b.r.Client.HLen(b.ctx, b.r.Keys.Replays()).Val())
}

// A replay's statuses come in the order of a message's life, whatever the
// order they were kept in: a read recorded before its delivered would
// count the delivered and leave it no event.
func TestUnknown_ReplayInLifeOrder(t *testing.T) {
	t.Parallel()
	b := unknownSetup(t, time.Hour, 0)
	b.register(t, "c1", 1)
	to := "441234567890"
	for _, st := range []string{"delivered", "read", "sent"} {
		require.True(t, b.keep(t, to, "wamid.A", st, "marketing_lite", time.Now()), st)
	}
	b.sentSettled(t, "c1", to, "wamid.A")
	rs, err := b.store.Ledger.Replays(b.ctx, 10)
	require.NoError(t, err)
	require.Len(t, rs, 1)
	var order []string
	for _, d := range rs[0].Statuses {
		order = append(order, d.Status)
	}
	require.Equal(t, []string{"sent", "delivered", "read"}, order)
}

// sentSettled claims a recipient, then settles it sent as wamid from pnid.
func (b *bundle) sentSettled(t *testing.T, id, to, wamid string) {
	t.Helper()
	_, err := b.store.Ledger.Claim(b.ctx, id, to, store.ClaimOptions{StaleAfter: time.Minute})
	require.NoError(t, err)
	_, err = b.store.Ledger.Settle(b.ctx, id, to, store.Outcome{Status: task.StatusSent, WAMID: wamid, PhoneNumberID: pnid},
		store.FailurePolicy{}, nil)
	require.NoError(t, err)
}
