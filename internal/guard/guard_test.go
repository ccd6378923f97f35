package guard_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newGuard(t *testing.T) (*guard.Guard, *store.Store, *redistest.Redis) {
	t.Helper()
	r := redistest.New(t)
	st := store.New(r.Client, r.Keys, store.Options{})
	return guard.New(r.Client, st, guard.Config{Cooldown: time.Hour, LimitWindow: time.Hour}), st, r
}

// resumer is the guards' Resumer on the store alone (no jobs are parked
// in these tests).
func resumer(st *store.Store) guard.Resumer {
	return func(ctx context.Context, id, pausedFor string) error {
		_, err := st.Campaigns.ResumeFrom(ctx, id, pausedFor)
		return err
	}
}

func register(t *testing.T, st *store.Store, id, snd, template string) {
	t.Helper()
	_, err := st.Campaigns.Register(context.Background(), &campaign.Campaign{ID: id, Sender: snd,
		Template: mmapi.Template{Name: template, Language: mmapi.Language{Code: "en"}}})
	require.NoError(t, err)
}

func claim(t *testing.T, st *store.Store, id, to string, g *store.ClaimGuard) store.Claim {
	t.Helper()
	c, err := st.Ledger.Claim(context.Background(), id, to, store.ClaimOptions{StaleAfter: time.Minute, Guard: g})
	require.NoError(t, err)
	return c
}

// The claim sees every protection in its own step.
func TestClaim_Protections(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := newGuard(t)
	register(t, st, "c", "s", "t")
	cg := &store.ClaimGuard{Sender: "s", Scope: "W", LimitScope: "P", Limit: 2, Window: time.Hour, Cooldown: time.Hour}

	require.NoError(t, g.Suppress(ctx, "W", guard.Entry{To: "441", Reason: "stop", Code: 131050, Source: guard.SourceAnswer}))
	c := claim(t, st, "c", "441", cg)
	require.Equal(t, store.Suppressed, c.Verdict)
	e, err := guard.DecodeEntry("441", c.Entry)
	require.NoError(t, err)
	require.Equal(t, 131050, e.Code)
	require.Equal(t, "stop", e.Reason)
	require.Equal(t, store.Claimed, claim(t, st, "c", "441", nil).Verdict, "without a guard the list is not looked at")

	until, err := g.Cool(ctx, "W", "442")
	require.NoError(t, err)
	c = claim(t, st, "c", "442", cg)
	require.Equal(t, store.Cooldown, c.Verdict)
	require.WithinDuration(t, until, c.Until, time.Second)

	require.Equal(t, store.Claimed, claim(t, st, "c", "443", cg).Verdict)
	require.Equal(t, store.Claimed, claim(t, st, "c", "444", cg).Verdict)
	c = claim(t, st, "c", "445", cg)
	require.Equal(t, store.Limited, c.Verdict, "a third new recipient is beyond the limit of 2")
	require.True(t, c.Until.After(time.Now().Add(59*time.Minute)))
	use, err := g.Use(ctx, "P", 2)
	require.NoError(t, err)
	require.Equal(t, guard.Use{Limit: 2, Reached: 2}, use)
	register(t, st, "c2", "s", "t")
	require.Equal(t, store.Claimed, claim(t, st, "c2", "443", cg).Verdict, "a recipient reached in the window does not count again")
	set, err := g.SetLimit(ctx, "P", 0, time.Time{})
	require.NoError(t, err)
	require.True(t, set)
	limits, err := g.Limits(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{"P": 0}, limits, "a limit learnt from a webhook")
	use, err = g.Use(ctx, "P", 2)
	require.NoError(t, err)
	require.Zero(t, use.Limit, "the learnt limit wins over the senders file's")
	cg.Limit = 0
	require.Equal(t, store.Claimed, claim(t, st, "c", "445", cg).Verdict, "unlimited")

	_, err = st.Campaigns.Pause(ctx, "c2", campaign.PauseOperator+": by hand")
	require.NoError(t, err)
	_, err = g.PauseSender(ctx, "s", "code 131031: locked", 131031, guard.SourceAnswer)
	require.NoError(t, err)
	s, err := st.Campaigns.Status(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, s.State)
	register(t, st, "later", "s", "t")
	c = claim(t, st, "later", "446", cg)
	require.Equal(t, store.Paused, c.Verdict, "a campaign made after the pause pauses at its first claim")
	require.True(t, strings.HasPrefix(c.Reason, guard.ReasonSenderPaused), c.Reason)

	var resumed []string
	got, err := g.ResumeSender(ctx, "s", func(ctx context.Context, id, pausedFor string) error {
		resumed = append(resumed, id)
		_, err := st.Campaigns.ResumeFrom(ctx, id, pausedFor)
		return err
	})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"c", "later"}, got, "not the operator's pause")
	require.ElementsMatch(t, got, resumed)
}

func TestPauseTemplate_OnlyItsCampaigns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, r := newGuard(t)
	register(t, st, "a", "s", "t1")
	register(t, st, "b", "other", "t1") // another WABA's
	register(t, st, "c", "s", "t2")
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx,
		[]*sender.Sender{{ID: "s", Rate: 1, Burst: 1, WABAID: "W"}, {ID: "other", Rate: 1, Burst: 1, WABAID: "X"}}))
	paused, err := g.PauseTemplate(ctx, "W", "t1", "en", guard.ReasonTemplatePaused, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, paused)

	// A campaign registered while the template is paused is held, for
	// TemplatePauseTTL at most; another language's is not.
	later := &campaign.Campaign{ID: "later", Sender: "s", Template: mmapi.Template{Name: "t1", Language: mmapi.Language{Code: "en"}}}
	reg, err := st.Campaigns.Register(ctx, later, guard.TemplateHolds(r.Keys, "W", "t1", "en")...)
	require.NoError(t, err)
	require.Equal(t, guard.ReasonTemplatePaused, reg.Held)
	reg, err = st.Campaigns.Register(ctx, &campaign.Campaign{ID: "es", Sender: "s", Template: mmapi.Template{Name: "t1",
		Language: mmapi.Language{Code: "es"}}}, guard.TemplateHolds(r.Keys, "W", "t1", "es")...)
	require.NoError(t, err)
	require.False(t, reg.Paused)
	ttl := r.Client.TTL(ctx, r.Keys.TemplateGuard("W\x1ft1\x1fen")).Val()
	require.True(t, ttl > guard.TemplatePauseTTL-time.Minute && ttl <= guard.TemplatePauseTTL, "%s", ttl)

	resumed, err := g.ResumeTemplate(ctx, "W", "t1", "en", time.Time{}, resumer(st))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "later"}, resumed)
	reg, err = st.Campaigns.Register(ctx, &campaign.Campaign{ID: "after", Sender: "s", Template: mmapi.Template{Name: "t1",
		Language: mmapi.Language{Code: "en"}}}, guard.TemplateHolds(r.Keys, "W", "t1", "en")...)
	require.NoError(t, err)
	require.Equal(t, store.Registered{Created: true}, reg, "the pause is lifted")
}

func TestList_Pages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, _, _ := newGuard(t)
	var es []guard.Entry
	for i := range 300 {
		es = append(es, guard.Entry{To: "4412345" + string(rune('0'+i/100)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10)), Reason: "r"})
	}
	require.NoError(t, g.Suppress(ctx, "W", es...))
	seen := map[string]bool{}
	cursor := ""
	for range 100 {
		p, err := g.List(ctx, "W", cursor, 50)
		require.NoError(t, err)
		for _, e := range p.Entries {
			seen[e.To] = true
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	require.Len(t, seen, 300, "the pages cover the list")
	_, err := g.List(ctx, "nosuch", "", 10)
	require.ErrorIs(t, err, guard.ErrUnknownScope)
}

// An operator who pauses a campaign the guard paused keeps it paused when
// the guard lets go: the operator's pause takes over (found in review: it
// was dropped, and resuming the sender ran the campaign).
func TestResumeSender_KeepsAnOperatorsPause(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := newGuard(t)
	register(t, st, "c", "s", "t")
	paused, err := g.PauseSender(ctx, "s", "code 131031", 131031, "answer")
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, paused)
	_, err = st.Campaigns.Pause(ctx, "c", campaign.PauseOperator+": paused by the operator")
	require.NoError(t, err)
	_, err = g.ResumeSender(ctx, "s", resumer(st))
	require.NoError(t, err)
	s, err := st.Campaigns.Status(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, s.State, "the operator paused it: the sender's resume must not run it")
	require.True(t, strings.HasPrefix(s.PausedReason, campaign.PauseOperator), s.PausedReason)
}

// A campaign the sender guard paused, whose template Meta paused meanwhile
// (the template's scan passes over a paused campaign), is not run by the
// sender's resume: it waits for the template, whose reinstatement resumes
// it (found in review: the sender's resume ran it into the paused
// template).
func TestResumeSender_WaitsForAPausedTemplate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, r := newGuard(t)
	register(t, st, "c", "s", "t1")
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{{ID: "s", Rate: 1, Burst: 1, WABAID: "W"}}))
	resume := resumer(st)
	paused, err := g.PauseSender(ctx, "s", "code 131042", 131042, guard.SourceAnswer)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, paused)
	_, err = g.PauseTemplate(ctx, "W", "t1", "en", guard.ReasonTemplatePaused, time.Time{})
	require.NoError(t, err)

	resumed, err := g.ResumeSender(ctx, "s", resume)
	require.NoError(t, err)
	require.Empty(t, resumed)
	s, err := st.Campaigns.Status(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, s.State, "its template is still paused")
	require.True(t, strings.HasPrefix(s.PausedReason, guard.ReasonTemplatePaused), s.PausedReason)

	resumed, err = g.ResumeTemplate(ctx, "W", "t1", "en", time.Time{}, resume)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, resumed)
	s, err = st.Campaigns.Status(ctx, "c")
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, s.State)
}

// Meta reinstates a template while its campaigns are being paused, before
// the first is paused or just after: the pausing stops there, and no
// campaign stays paused with nothing left to resume it.
func TestPauseTemplate_ReinstatedMeanwhile(t *testing.T) {
	t.Parallel()
	for _, after := range []string{"zrange", "evalsha"} { // the scan's first read; the first campaign's pause
		t.Run("after "+after, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			g, st, r := newGuard(t)
			register(t, st, "a", "s", "t1")
			register(t, st, "b", "s", "t1")
			require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{{ID: "s", Rate: 1, Burst: 1, WABAID: "W"}}))
			resume := resumer(st)
			hooked := redisconn.Client(r.Opt)
			t.Cleanup(func() { _ = hooked.Close() })
			hooked.AddHook(&redistest.AfterFirst{Name: after, Arg: map[string]string{"evalsha": r.Keys.GuardPaused("template", "W\x1ft1\x1fen")}[after], Fn: func() {
				_, err := g.ResumeTemplate(ctx, "W", "t1", "en", time.Time{}, resume)
				require.NoError(t, err)
			}})
			_, err := guard.New(hooked, store.New(hooked, r.Keys, store.Options{}), g.Config()).
				PauseTemplate(ctx, "W", "t1", "en", guard.ReasonTemplatePaused, time.Time{})
			require.NoError(t, err)
			for _, id := range []string{"a", "b"} {
				s, err := st.Campaigns.Status(ctx, id)
				require.NoError(t, err)
				require.Equal(t, campaign.StateRunning, s.State, id)
			}
			require.Zero(t, r.Client.Exists(ctx, r.Keys.TemplateScanned("W\x1ft1\x1fen")).Val(), "no mark without its hold")
		})
	}
}

// A burst of answers 132015 (every send in flight gets one) scans the
// running campaigns once: the answers that follow while the template is
// held pause only their own campaign, such as one an operator resumed
// meanwhile; the others stay as they are until their own answer.
func TestPauseTemplateOf_ABurstScansOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, r := twoOfTemplate(t)
	scans := &redistest.Counter{Name: "zrange", Key: r.Keys.Campaigns()}
	r.Client.AddHook(scans)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var all []string
	for range 20 {
		wg.Go(func() {
			paused, err := g.PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.ReasonTemplatePaused)
			assert.NoError(t, err)
			mu.Lock()
			all = append(all, paused...)
			mu.Unlock()
		})
	}
	wg.Wait()
	require.ElementsMatch(t, []string{"a", "b"}, all, "each paused once")
	require.EqualValues(t, 1, scans.N.Load(), "one scan for the burst")

	for _, id := range []string{"a", "b"} { // an operator resumes both
		_, err := st.Campaigns.Resume(ctx, id)
		require.NoError(t, err)
	}
	paused, err := g.PauseTemplateOf(ctx, "b", "W", "t1", "en", guard.ReasonTemplatePaused)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, paused)
	require.EqualValues(t, 1, scans.N.Load())
	s, err := st.Campaigns.Status(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, campaign.StateRunning, s.State, "paused at its own next answer")

	// Lifted, then paused again: a scan.
	_, err = g.ResumeTemplate(ctx, "W", "t1", "en", time.Time{}, func(context.Context, string, string) error { return nil })
	require.NoError(t, err)
	paused, err = g.PauseTemplateOf(ctx, "b", "W", "t1", "en", guard.ReasonTemplatePaused)
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, paused, "b was paused already")
	require.EqualValues(t, 2, scans.N.Load())
}

// The first answer's scan fails (Redis answered an error): the next answer
// scans again, rather than pausing only its own campaign.
func TestPauseTemplateOf_AFailedScanIsDoneAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, _, r := twoOfTemplate(t)
	r.Client.AddHook(&redistest.FailFirst{Name: "zrange"})
	_, err := g.PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.ReasonTemplatePaused)
	require.ErrorIs(t, err, redistest.ErrInjected)
	paused, err := g.PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.ReasonTemplatePaused)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, paused)
}

// twoOfTemplate has campaigns a and b running on template t1 (en) of
// sender s, WABA W.
func twoOfTemplate(t *testing.T) (*guard.Guard, *store.Store, *redistest.Redis) {
	t.Helper()
	g, st, r := newGuard(t)
	for _, id := range []string{"a", "b"} {
		register(t, st, id, "s", "t1")
	}
	require.NoError(t, registry.New(r.Client, r.Keys).Publish(context.Background(),
		[]*sender.Sender{{ID: "s", Rate: 1, Burst: 1, WABAID: "W"}}))
	return g, st, r
}

// A template disabled (132016), then a late answer that says paused
// (132015, a send in flight): the template stays disabled, for the
// campaign of that answer and for those registered afterwards.
func TestPauseTemplateOf_DisabledStaysDisabled(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, r := twoOfTemplate(t)
	disabled := guard.TemplateReason(guard.CodeTemplateOff, "Template disabled")
	paused, err := g.PauseTemplateOf(ctx, "a", "W", "t1", "en", disabled)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, paused)
	_, err = st.Campaigns.Resume(ctx, "b") // an operator resumes it
	require.NoError(t, err)
	_, err = g.PauseTemplateOf(ctx, "b", "W", "t1", "en", guard.TemplateReason(132015, "Template paused"))
	require.NoError(t, err)
	s, err := st.Campaigns.Status(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, campaign.StatePaused, s.State)
	require.Equal(t, disabled, s.PausedReason)
	reg, err := st.Campaigns.Register(ctx, &campaign.Campaign{ID: "later", Sender: "s",
		Template: mmapi.Template{Name: "t1", Language: mmapi.Language{Code: "en"}}}, guard.TemplateHolds(r.Keys, "W", "t1", "en")...)
	require.NoError(t, err)
	require.Equal(t, disabled, reg.Held)
}

// The template is reinstated between an answer's hold and its scan: the
// answer pauses nothing and leaves no mark behind, so the template's next
// pause scans its campaigns again.
func TestPauseTemplateOf_ReinstatedBeforeTheScan(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, r := twoOfTemplate(t)
	hooked := redisconn.Client(r.Opt)
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(&redistest.AfterFirst{Name: "zrange", Fn: func() { // the hold is set, the scan starts
		_, err := g.ResumeTemplate(ctx, "W", "t1", "en", time.Time{}, func(context.Context, string, string) error { return nil })
		require.NoError(t, err)
	}})
	paused, err := guard.New(hooked, store.New(hooked, r.Keys, store.Options{}), g.Config()).
		PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.ReasonTemplatePaused)
	require.NoError(t, err)
	require.Empty(t, paused)
	require.Zero(t, r.Client.Exists(ctx, r.Keys.TemplateScanned("W\x1ft1\x1fen")).Val())

	paused, err = g.PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.ReasonTemplatePaused)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, paused)
	for _, id := range []string{"a", "b"} {
		s, err := st.Campaigns.Status(ctx, id)
		require.NoError(t, err)
		require.Equal(t, campaign.StatePaused, s.State, id)
	}
}

// suppressN puts n numbers on W's list.
func suppressN(t *testing.T, g *guard.Guard, n int) {
	t.Helper()
	es := make([]guard.Entry, n)
	for i := range es {
		es[i] = guard.Entry{To: fmt.Sprintf("4477009%05d", i), Reason: "asked"}
	}
	require.NoError(t, g.Suppress(context.Background(), "W", es...))
}

// A page holds at most limit entries, and its cursor goes on exactly where
// it stopped: paging through the list gives every entry once. HSCAN's COUNT
// is a hint (a small hash comes back whole), so a page may stop inside
// what one HSCAN gave. On real Redis too: 1,000 entries are a hash table
// that HSCAN answers a part at a time.
func TestList_PagesHonourTheLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for n, limits := range map[int][]int{50: {1, 7, 50, 500}, 1000: {7, 200, 500}} {
		g, _, _ := newGuard(t)
		suppressN(t, g, n)
		for _, limit := range limits {
			seen := map[string]int{}
			cursor := ""
			for pages := 0; ; pages++ {
				require.Less(t, pages, n+1, "the pages never end")
				p, err := g.List(ctx, "W", cursor, limit)
				require.NoError(t, err)
				require.LessOrEqual(t, len(p.Entries), limit, "n=%d limit=%d cursor %q", n, limit, cursor)
				for _, e := range p.Entries {
					seen[e.To]++
					require.Equal(t, 1, seen[e.To], "n=%d limit=%d: %s came twice", n, limit, e.To)
				}
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			require.Len(t, seen, n, "n=%d limit=%d: the pages cover the list", n, limit)
		}
	}
}

// Entries removed between pages (an export that deletes what it read)
// make no entry that stays on the list missed.
func TestList_RemovalsBetweenPagesMissNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, _, _ := newGuard(t)
	suppressN(t, g, 1000)
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 1000, "the pages never end")
		p, err := g.List(ctx, "W", cursor, 60)
		require.NoError(t, err)
		for _, e := range p.Entries {
			seen[e.To] = true
			_, _, err := g.Unsuppress(ctx, "W", e.To)
			require.NoError(t, err)
		}
		if cursor = p.NextCursor; cursor == "" {
			break
		}
	}
	require.Len(t, seen, 1000)
}

// A cursor no page gave is refused, a number that looks like one too
// (found in review: "12345" gave an empty page, as if the list ended), and
// a cursor of another scope's list.
func TestList_BadCursor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, _, _ := newGuard(t)
	for _, to := range []string{"447700900001", "447700900002", "447700900003"} {
		for _, scope := range []string{"W", "V"} {
			require.NoError(t, g.Suppress(ctx, scope, guard.Entry{To: to, Reason: "asked"}))
		}
	}
	p, err := g.List(ctx, "V", "", 1)
	require.NoError(t, err)
	require.NotEmpty(t, p.NextCursor)
	for _, c := range []string{"x", "1:x", "1:2:3:4", "-1", "1:2:", "12345", "0", p.NextCursor} {
		_, err := g.List(ctx, "W", c, 10)
		require.ErrorIs(t, err, guard.ErrBadCursor, c)
	}
	_, err = g.List(ctx, "V", p.NextCursor, 10)
	require.NoError(t, err, "its own list's")
}

// An answer 132015 to a send is a template event of its own time: a
// REINSTATED webhook sent before it and delivered late (Meta retries for
// days) is older, and does not resume the template's campaigns; a later
// one does.
func TestPauseTemplateOf_RecordsTheAnswersTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, _, _ := twoOfTemplate(t)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	g = g.WithClock(func() time.Time { return now })
	_, err := g.PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.TemplateReason(132015, "Template paused"))
	require.NoError(t, err)
	newer, err := g.TemplateEvent(ctx, "W", "t1", "en", now.Add(-10*time.Minute))
	require.NoError(t, err)
	require.False(t, newer, "a webhook from before the answer is older")
	newer, err = g.TemplateEvent(ctx, "W", "t1", "en", now.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, newer)
}

// Meta's webhooks say when an event happened in whole seconds; an answer
// 132015 counts as of its own second too. A REINSTATED sent after the
// answer in the same second says a time before the answer's millisecond,
// and is acted on all the same (found in review: it was older than the
// answer, and the campaigns the answer paused stayed paused with nothing
// left to resume them).
func TestPauseTemplateOf_AReinstatementOfTheSameSecond(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := twoOfTemplate(t)
	second := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	_, err := g.WithClock(func() time.Time { return second.Add(700 * time.Millisecond) }).
		PauseTemplateOf(ctx, "a", "W", "t1", "en", guard.TemplateReason(132015, "Template paused"))
	require.NoError(t, err)
	newer, err := g.TemplateEvent(ctx, "W", "t1", "en", second.Add(-time.Second))
	require.NoError(t, err)
	require.False(t, newer, "a REINSTATED of a second before the answer's is older")
	newer, err = g.TemplateEvent(ctx, "W", "t1", "en", second)
	require.NoError(t, err)
	require.True(t, newer, "a REINSTATED of the answer's second")
	resumed, err := g.ResumeTemplate(ctx, "W", "t1", "en", second, resumer(st))
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, resumed)
}

// templateScene: campaigns a and b of template t1 (en) of WABA W, which a
// PAUSED at t1 paused.
type templateScene struct {
	*testing.T
	ctx   context.Context
	g     *guard.Guard
	st    *store.Store
	r     *redistest.Redis
	t1    time.Time
	again string // the reason of the newer pause
}

func pausedTemplate(t *testing.T) *templateScene {
	s := &templateScene{T: t, ctx: context.Background(), t1: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC),
		again: guard.ReasonTemplatePaused + ": again"}
	s.g, s.st, s.r = twoOfTemplate(t)
	s.event(0)
	paused, err := s.g.PauseTemplate(s.ctx, "W", "t1", "en", guard.ReasonTemplatePaused, s.t1)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, paused)
	return s
}

// event records the newest template event, at t1 plus minutes.
func (s *templateScene) event(minutes int) time.Time {
	at := s.t1.Add(time.Duration(minutes) * time.Minute)
	newer, err := s.g.TemplateEvent(s.ctx, "W", "t1", "en", at)
	require.NoError(s, err)
	require.True(s, newer)
	return at
}

// pauseAgain is a newer PAUSED (t1+2m), acted on; it returns the
// campaigns its scan paused.
func (s *templateScene) pauseAgain() []string {
	paused, err := s.g.PauseTemplate(s.ctx, "W", "t1", "en", s.again, s.event(2))
	require.NoError(s, err)
	return paused
}

func (s *templateScene) resume(ctx context.Context, id, pausedFor string) error {
	_, err := s.st.Campaigns.ResumeFrom(ctx, id, pausedFor)
	return err
}

// requireWaitingForTheNext: both campaigns are paused for the newer pause
// and listed for the next REINSTATED (t1+3m), which resumes them.
func (s *templateScene) requireWaitingForTheNext() {
	for _, id := range []string{"a", "b"} {
		st, err := s.st.Campaigns.Status(s.ctx, id)
		require.NoError(s, err)
		require.Equal(s, campaign.StatePaused, st.State, "%s runs on a template paused again", id)
		require.Equal(s, s.again, st.PausedReason, id)
	}
	waiting, err := s.r.Client.SMembers(s.ctx, s.r.Keys.GuardPaused("template", "W\x1ft1\x1fen")).Result()
	require.NoError(s, err)
	require.ElementsMatch(s, []string{"a", "b"}, waiting, "both wait for the next reinstatement")

	resumed, err := s.g.ResumeTemplate(s.ctx, "W", "t1", "en", s.event(3), s.resume)
	require.NoError(s, err)
	require.ElementsMatch(s, []string{"a", "b"}, resumed)
	for _, id := range []string{"a", "b"} {
		st, err := s.st.Campaigns.Status(s.ctx, id)
		require.NoError(s, err)
		require.Equal(s, campaign.StateRunning, st.State, id)
	}
}

// Meta pauses a template again while its reinstatement resumes the
// campaigns: the first was resumed, and the new pause's scan pauses it
// again; the others are not resumed into the paused template. Both stay
// listed for the next reinstatement, which resumes them (found in review:
// the older reinstatement resumed the rest, and took the first off the
// template's list, so that nothing resumed it).
func TestResumeTemplate_PausedAgainMeanwhile(t *testing.T) {
	t.Parallel()
	s := pausedTemplate(t)
	var calls []string
	resumed, err := s.g.ResumeTemplate(s.ctx, "W", "t1", "en", s.event(1), func(ctx context.Context, id, pausedFor string) error {
		calls = append(calls, id)
		if err := s.resume(ctx, id, pausedFor); err != nil {
			return err
		}
		if len(calls) == 1 { // a newer PAUSED, acted on between two resumes
			require.Equal(t, []string{id}, s.pauseAgain(), "the scan pauses the one resumed")
		}
		return nil
	})
	require.NoError(t, err)
	require.Len(t, calls, 1, "nothing is resumed once the template is paused again")
	require.Empty(t, resumed, "the one resumed runs no more")
	s.requireWaitingForTheNext()
}

// A newer PAUSED acted on between a resume's check of the holds and the
// resume itself: its scan passed over the campaign, paused still, and the
// resume then ran it on the paused template. The campaign is paused again
// under the hold right after its resume, listed for the next REINSTATED
// (found in review).
func TestResumeTemplate_PausedBetweenItsCheckAndTheResume(t *testing.T) {
	t.Parallel()
	s := pausedTemplate(t)
	first := ""
	_, err := s.g.ResumeTemplate(s.ctx, "W", "t1", "en", s.event(1), func(ctx context.Context, id, pausedFor string) error {
		if first == "" { // after the check of the first campaign's holds
			first = id
			require.Empty(t, s.pauseAgain(), "both are paused still")
		}
		return s.resume(ctx, id, pausedFor)
	})
	require.NoError(t, err)
	s.requireWaitingForTheNext()
}

// An operator resumes a campaign a template's reinstatement is about to
// look at; the reinstatement reads it running, and a newer PAUSED then
// pauses and lists it again: the reinstatement leaves it listed for the
// next one (it took every campaign it did not resume off the list, this
// one too, so that nothing resumed it: found in review).
func TestResumeTemplate_KeepsACampaignListedAgainMeanwhile(t *testing.T) {
	t.Parallel()
	s := pausedTemplate(t)
	hooked := redisconn.Client(s.r.Opt)
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(&redistest.AfterFirst{Name: "smembers", Fn: func() {
		_, err := s.st.Campaigns.Resume(s.ctx, "a") // an operator
		require.NoError(t, err)
	}})
	hooked.AddHook(&redistest.AfterFirst{Name: "hgetall", Arg: s.r.Keys.Campaign("a"), Fn: func() {
		require.Contains(t, s.pauseAgain(), "a")
	}})
	hg := guard.New(hooked, store.New(hooked, s.r.Keys, store.Options{}), s.g.Config())
	_, err := hg.ResumeTemplate(s.ctx, "W", "t1", "en", s.event(1), s.resume)
	require.NoError(t, err)
	s.requireWaitingForTheNext()
}

// A campaign cancelled between a sender's resume reading its state and
// resuming it is skipped: the others are resumed (the resume stopped at
// its error, and left them paused: found in review).
func TestResumeSender_GoesOnPastACampaignCancelledMeanwhile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g, st, _ := newGuard(t)
	register(t, st, "a", "s", "t")
	register(t, st, "b", "s", "t")
	paused, err := g.PauseSender(ctx, "s", "code 131031", 131031, guard.SourceAnswer)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"a", "b"}, paused)
	first := ""
	resumed, err := g.ResumeSender(ctx, "s", func(ctx context.Context, id, pausedFor string) error {
		if first == "" {
			first = id
			_, err := st.Campaigns.Cancel(ctx, id) // an operator, just before the resume
			require.NoError(t, err)
		}
		_, err := st.Campaigns.ResumeFrom(ctx, id, pausedFor)
		return err
	})
	require.NoError(t, err)
	require.Len(t, resumed, 1)
	require.NotEqual(t, first, resumed[0])
}

// An operator pauses a campaign just after a sender's resume read it as
// paused by the guard: the resume leaves it paused, for the operator, and
// so does the check of its template's hold (the resume ran it, or the
// hold took it over, so that the template's reinstatement ran it: found
// in review).
func TestResumeSender_KeepsAnOperatorsPauseOfTheMoment(t *testing.T) {
	t.Parallel()
	for _, held := range []bool{false, true} {
		t.Run(fmt.Sprintf("template held %v", held), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			g, st, r := newGuard(t)
			register(t, st, "a", "s", "t")
			require.NoError(t, registry.New(r.Client, r.Keys).Publish(ctx, []*sender.Sender{{ID: "s", Rate: 1, Burst: 1, WABAID: "W"}}))
			paused, err := g.PauseSender(ctx, "s", "code 131031", 131031, guard.SourceAnswer)
			require.NoError(t, err)
			require.Equal(t, []string{"a"}, paused)
			if held {
				_, err := g.PauseTemplate(ctx, "W", "t", "en", guard.ReasonTemplatePaused, time.Time{})
				require.NoError(t, err)
			}
			hooked := redisconn.Client(r.Opt)
			t.Cleanup(func() { _ = hooked.Close() })
			hooked.AddHook(&redistest.AfterFirst{Name: "hgetall", Arg: r.Keys.Campaign("a"), Fn: func() {
				_, err := st.Campaigns.Pause(ctx, "a", campaign.PauseOperator+": hold on")
				require.NoError(t, err)
			}})
			hg := guard.New(hooked, store.New(hooked, r.Keys, store.Options{}), g.Config())
			resumed, err := hg.ResumeSender(ctx, "s", resumer(st))
			require.NoError(t, err)
			require.Empty(t, resumed)
			s, err := st.Campaigns.Status(ctx, "a")
			require.NoError(t, err)
			require.Equal(t, campaign.StatePaused, s.State)
			require.Equal(t, campaign.PauseOperator+": hold on", s.PausedReason)
		})
	}
}
