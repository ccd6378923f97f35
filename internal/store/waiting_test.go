package store_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// waiting registers the campaigns of TestWaiting_*, each paused on a
// different list of waiting campaigns: "onboarding" for WABA W's
// onboarding, "template" under a paused template, "sender" by its sender's
// pause at its first claim, "guard" under the sender's hold by a guard's
// scan. It returns the lists.
func (b *bundle) waiting(t *testing.T) []string {
	t.Helper()
	tmpl := store.Hold{Key: b.r.Keys.TemplateGuard("W\x1fspring_sale\x1fpt_BR"), Set: b.r.Keys.GuardPaused("template", "W\x1fspring_sale\x1fpt_BR")}
	snd := store.Hold{Key: b.r.Keys.SenderGuard("default"), Set: b.r.Keys.GuardPaused("sender", "default")}
	require.NoError(t, b.r.Client.Set(b.ctx, tmpl.Key, "template_paused: LOW_QUALITY", time.Hour).Err())

	c := valid()
	c.ID = "onboarding"
	c.Normalize()
	r, err := b.store.Campaigns.RegisterAwaitingOnboarding(b.ctx, &c, "W", campaign.PauseOnboarding+": waiting", tmpl)
	require.NoError(t, err)
	require.True(t, r.Paused)
	c.ID = "template"
	r, err = b.store.Campaigns.Register(b.ctx, &c, tmpl)
	require.NoError(t, err)
	require.NotEmpty(t, r.Held)

	b.register(t, "sender", 1)
	b.register(t, "guard", 1)
	require.NoError(t, b.r.Client.HSet(b.ctx, snd.Key, "paused_reason", "test").Err())
	cl, err := b.store.Ledger.Claim(b.ctx, "sender", "441234567800", store.ClaimOptions{Guard: &store.ClaimGuard{Sender: "default", Scope: "W", LimitScope: "W"}})
	require.NoError(t, err)
	require.Equal(t, store.Paused, cl.Verdict)
	tr, err := b.store.Campaigns.PauseUnder(b.ctx, "guard", "sender_paused: test", nil, snd)
	require.NoError(t, err)
	require.True(t, tr.Changed)

	lists := []string{b.r.Keys.Onboarding("W"), tmpl.Set, snd.Set}
	for _, l := range lists {
		n, err := b.r.Client.SCard(b.ctx, l).Result()
		require.NoError(t, err)
		require.NotZero(t, n, "%s lists its campaigns", l)
	}
	return lists
}

// requireUnlisted says that no list holds any of the campaigns ids.
func (b *bundle) requireUnlisted(t *testing.T, lists []string, ids ...string) {
	t.Helper()
	for _, l := range lists {
		for _, id := range ids {
			in, err := b.r.Client.SIsMember(b.ctx, l, id).Result()
			require.NoError(t, err)
			require.False(t, in, "%s still lists %s", l, id)
		}
	}
}

// A cancel takes the campaign off every list of waiting campaigns in the
// step that cancels it, whatever put it there: nothing else empties a list
// until its condition lifts, if ever, and the lift must not find it.
func TestWaiting_CancelUnlists(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lists := b.waiting(t)
	ids := []string{"onboarding", "template", "sender", "guard"}
	for _, id := range ids {
		tr, err := b.store.Campaigns.Cancel(b.ctx, id)
		require.NoError(t, err)
		require.True(t, tr.Changed, id)
	}
	b.requireUnlisted(t, lists, ids...)
	n, err := b.r.Client.Exists(b.ctx, b.r.Keys.WaitLists()).Result()
	require.NoError(t, err)
	require.Zero(t, n, "the index of lists forgets the lists emptied")
}

// A campaign resumed (by an operator, or by the lift of one of its
// conditions) is off every list: it may then complete, and only a new
// pause lists it again.
func TestWaiting_ResumeUnlists(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lists := b.waiting(t)
	ids := []string{"onboarding", "template", "sender", "guard"}
	for _, id := range ids {
		_, err := b.store.Campaigns.Resume(b.ctx, id)
		require.NoError(t, err)
	}
	b.requireUnlisted(t, lists, ids...)
}

// A campaign still paused when its keys expire (its condition never
// lifted) leaves the lists when it is retired.
func TestWaiting_RetireUnlists(t *testing.T) {
	t.Parallel()
	b := setup(t)
	lists := b.waiting(t)
	ids := []string{"onboarding", "template", "sender", "guard"}
	for _, id := range ids {
		require.NoError(t, b.r.Client.Del(b.ctx, b.r.Keys.Campaign(id), b.r.Keys.Ledger(id)).Err())
		require.NoError(t, b.r.Client.ZAdd(b.ctx, b.r.Keys.Retire(), redis.Z{Score: 1, Member: id}).Err()) // expired long ago
	}
	n, err := b.store.Campaigns.Retire(b.ctx, 100)
	require.NoError(t, err)
	require.Equal(t, len(ids), n)
	b.requireUnlisted(t, lists, ids...)
}

// Rehold pauses a running campaign under the first hold that is on, with
// the reason that hold holds when it acts (a reason read before, in a step
// of its own, could be one the hold no longer says: found in review), and
// lists it there; with no hold on, it leaves the campaign running.
func TestRehold_TakesTheHoldsReasonInItsStep(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	off := store.Hold{Key: b.r.Keys.TemplateGuard("W\x1ft\x1fen"), Set: b.r.Keys.GuardPaused("template", "W\x1ft\x1fen")}
	on := store.Hold{Key: b.r.Keys.TemplateGuard("W\x1ft\x1f"), Set: b.r.Keys.GuardPaused("template", "W\x1ft\x1f")}

	paused, err := b.store.Campaigns.Rehold(b.ctx, "c", off, on)
	require.NoError(t, err)
	require.False(t, paused, "no hold on")

	require.NoError(t, b.r.Client.Set(b.ctx, on.Key, "template_disabled: code 132016", time.Hour).Err())
	paused, err = b.store.Campaigns.Rehold(b.ctx, "c", off, on)
	require.NoError(t, err)
	require.True(t, paused)
	st, err := b.store.Campaigns.Status(b.ctx, "c")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, st.State)
	require.Equal(t, "template_disabled: code 132016", st.PausedReason)
	listed, err := b.r.Client.SIsMember(b.ctx, on.Set, "c").Result()
	require.NoError(t, err)
	require.True(t, listed, "the hold's lifting resumes it")

	paused, err = b.store.Campaigns.Rehold(b.ctx, "c", off, on)
	require.NoError(t, err)
	require.True(t, paused, "paused already")
	_, err = b.store.Campaigns.Cancel(b.ctx, "c")
	require.NoError(t, err)
	paused, err = b.store.Campaigns.Rehold(b.ctx, "c", off, on)
	require.NoError(t, err)
	require.False(t, paused, "cancelled")
}

// Hold moves a campaign paused for one reason (its sender's pause, here)
// under a hold that is on, and announces the change as a pause of its own:
// the consumer of campaign events, told it was paused for its sender,
// learns that it now waits for its template (found in review: the reason
// changed silently). A Hold that finds no hold on changes nothing.
func TestHold_AnnouncesTheNewReason(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	tmpl := store.Hold{Key: b.r.Keys.TemplateGuard("W\x1ft\x1fen"), Set: b.r.Keys.GuardPaused("template", "W\x1ft\x1fen")}
	_, err := b.store.Campaigns.PauseAutomatically(b.ctx, "c", "sender_paused: test", nil)
	require.NoError(t, err)
	before, err := b.store.Campaigns.Status(b.ctx, "c")
	require.NoError(t, err)
	require.NoError(t, b.store.Campaigns.Announced(b.ctx, "c", before))

	held, err := b.store.Campaigns.Hold(b.ctx, "c", "sender_paused", tmpl)
	require.NoError(t, err)
	require.Empty(t, held, "no hold on")
	ids, err := b.store.Campaigns.ToAnnounce(b.ctx)
	require.NoError(t, err)
	require.Empty(t, ids)

	require.NoError(t, b.r.Client.Set(b.ctx, tmpl.Key, "template_paused: LOW_QUALITY", time.Hour).Err())
	held, err = b.store.Campaigns.Hold(b.ctx, "c", "sender_paused", tmpl)
	require.NoError(t, err)
	require.Equal(t, "template_paused: LOW_QUALITY", held)
	st, err := b.store.Campaigns.Status(b.ctx, "c")
	require.NoError(t, err)
	require.Equal(t, "template_paused: LOW_QUALITY", st.PausedReason)
	require.True(t, st.PausedAt.After(*before.PausedAt), "a pause of its own: its event is not the first one's")
	ids, err = b.store.Campaigns.ToAnnounce(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, ids, "the new reason is announced")
}
