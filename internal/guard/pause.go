package guard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Why a guard paused a campaign: the first word of its paused_reason.
const (
	ReasonSenderPaused     = campaign.PauseSender
	ReasonTemplatePaused   = campaign.PauseTemplate
	ReasonTemplateDisabled = campaign.PauseTemplateDisabled
	ReasonFallback         = campaign.PauseFallback
)

// templatePrefix starts both template reasons, paused and disabled.
const templatePrefix = "template_"

// Resumer resumes a campaign a guard paused, if it is still paused for a
// reason that starts with pausedFor, checked in the step that resumes it
// (campaign.ErrState otherwise): producer.Producer.ResumeFrom, whose
// parked jobs come back at the sender's rate. Its resume takes the
// campaign off the guards' lists (see store.Campaigns.Resume).
type Resumer func(ctx context.Context, id, pausedFor string) error

// SenderState is a sender's guard state.
type SenderState struct {
	Paused   bool       `json:"paused"`
	Reason   string     `json:"paused_reason,omitempty"`
	PausedAt *time.Time `json:"paused_at,omitempty"`
	PausedBy string     `json:"paused_by,omitempty"` // api, answer, webhook
}

// Sender reads a sender's guard state.
func (g *Guard) Sender(ctx context.Context, id string) (SenderState, error) {
	h, err := g.rdb.HGetAll(ctx, g.keys.SenderGuard(id)).Result()
	if err != nil {
		return SenderState{}, fmt.Errorf("guard: read sender %s: %w", id, err)
	}
	if h["paused_reason"] == "" {
		return SenderState{}, nil
	}
	ms, _ := strconv.ParseInt(h["paused_at"], 10, 64)
	at := time.UnixMilli(ms).UTC()
	return SenderState{Paused: true, Reason: h["paused_reason"], PausedAt: &at, PausedBy: h["paused_by"]}, nil
}

// PauseSender pauses a sender: every running campaign of it now, and any
// other at its next claim (see store.ClaimGuard), so that at most the
// sends already in flight reach the provider after the condition is known.
// It returns the campaigns it paused. Pausing a paused sender keeps the
// first reason and does nothing more.
func (g *Guard) PauseSender(ctx context.Context, id, reason, by string) ([]string, error) {
	key := g.keys.SenderGuard(id)
	ok, err := g.rdb.HSetNX(ctx, key, "paused_reason", reason).Result()
	if err != nil {
		return nil, fmt.Errorf("guard: pause sender %s: %w", id, err)
	}
	if !ok {
		// Already paused: its campaigns were, or pause at their next claim.
		return nil, nil
	}
	if err := g.rdb.HSet(ctx, key, "paused_at", g.now().UnixMilli(), "paused_by", by).Err(); err != nil {
		return nil, fmt.Errorf("guard: pause sender %s: %w", id, err)
	}
	paused, err := g.pauseWhere(ctx, store.Hold{Key: key, Set: g.keys.GuardPaused("sender", id)}, ReasonSenderPaused+": "+reason,
		func(c *campaign.Campaign) bool { return c.Sender == id })
	if by == SourceAPI {
		g.counted(campaign.PauseOperator, len(paused))
	} else {
		g.counted(ReasonSenderPaused, len(paused))
	}
	return paused, err
}

// PauseSenderOf is PauseSender for an answer to a send of campaign id
// (131031, 131042, ...): when the sender is paused already (every send in
// flight gets the answer, and the first one's pause may not have reached
// this campaign yet), it pauses the campaign under the sender's hold, with
// the reason in force, as that pause would: resuming the sender resumes it.
func (g *Guard) PauseSenderOf(ctx context.Context, id, sender, reason, by string) ([]string, error) {
	paused, err := g.PauseSender(ctx, sender, reason, by)
	if err != nil || len(paused) > 0 {
		return paused, err
	}
	st, err := g.Sender(ctx, sender)
	if err != nil || !st.Paused {
		return nil, err
	}
	ok, _, err := g.pauseUnder(ctx, id, ReasonSenderPaused+": "+st.Reason,
		store.Hold{Key: g.keys.SenderGuard(sender), Set: g.keys.GuardPaused("sender", sender)})
	if err != nil || !ok {
		return nil, err
	}
	g.counted(ReasonSenderPaused, 1)
	return []string{id}, nil
}

// ResumeSender lets a sender send again and resumes the campaigns the guard
// paused (never one an operator paused); one whose template Meta paused
// meanwhile waits for the template instead (the template's pause passed
// over it, paused already). It returns those it resumed.
func (g *Guard) ResumeSender(ctx context.Context, id string, resume Resumer) ([]string, error) {
	if err := g.rdb.Del(ctx, g.keys.SenderGuard(id)).Err(); err != nil {
		return nil, fmt.Errorf("guard: resume sender %s: %w", id, err)
	}
	all, err := registry.New(g.rdb, g.keys).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("guard: resume sender %s: %w", id, err)
	}
	scope := registry.Lookup(all, id).Scope()
	return g.resumeSet(ctx, g.keys.GuardPaused("sender", id), ReasonSenderPaused, func(ctx context.Context, cid string) (bool, error) {
		return ResumeUnlessHeld(ctx, g.store, scope, cid, ReasonSenderPaused, resume)
	})
}

// ResumeUnlessHeld resumes a campaign paused for another reason (its
// sender, its WABA's onboarding, a template's pause now lifted) unless Meta
// paused its template (in its language or in every one, of the WABA scope,
// its sender's): then it stays paused under the template's hold, whose
// lifting resumes it. A pause of the template acted on while it resumes
// (whose scan passed over it, paused still) pauses it again under that
// hold once the resume is done. pausedFor is the start of the reason it is
// paused for: one paused for another reason meanwhile (an operator's
// pause) is left alone, and so is one cancelled or gone meanwhile. It says
// whether the campaign runs.
func ResumeUnlessHeld(ctx context.Context, st *store.Store, scope, id, pausedFor string, resume Resumer) (bool, error) {
	gone := func(err error) bool { return errors.Is(err, campaign.ErrState) || errors.Is(err, campaign.ErrNotFound) }
	c, err := st.Campaigns.Get(ctx, id)
	if gone(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	holds := TemplateHolds(st.Campaigns.Keys(), scope, c.Template.Name, c.Template.Language.Code)
	if held, err := st.Campaigns.Hold(ctx, id, pausedFor, holds...); err != nil || held != "" {
		return false, err
	}
	if err := resume(ctx, id, pausedFor); gone(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	paused, err := st.Campaigns.Rehold(ctx, id, holds...)
	return !paused, err
}

// templateID names a template of a WABA.
func templateID(waba, name, language string) string { return waba + "\x1f" + name + "\x1f" + language }

// TemplatePauseTTL is how long a template's pause holds new campaigns of
// it (see TemplateHolds) when nothing lifts it before: Meta pauses a
// template for 3 hours, then 6. Past it, the first answer 132015 or 132016
// pauses such a campaign.
const TemplatePauseTTL = 6 * time.Hour

// PauseTemplate pauses every running campaign of the WABA's senders (as
// the workers published them: sender.Published.Scope) that uses the
// template (name and language; "" matches every language), reason
// ReasonTemplatePaused or ReasonTemplateDisabled (see TemplateReason), and
// holds those registered from now on, for TemplatePauseTTL at most. It
// returns those it paused. at is the time of the event that says so (see
// TemplateEvent): when a later one was recorded meanwhile, it does
// nothing, so that a REINSTATED acted on first is not undone.
func (g *Guard) PauseTemplate(ctx context.Context, waba, name, language, reason string, at time.Time) ([]string, error) {
	tid := templateID(waba, name, language)
	reason, _, err := g.holdTemplate(ctx, tid, reason, at)
	if err != nil || reason == "" {
		return nil, err
	}
	paused, err := g.scanTemplate(ctx, tid, waba, name, language, reason)
	g.counted(reason, len(paused))
	return paused, err
}

// PauseTemplateOf is PauseTemplate for an answer to a send of campaign id
// (132015, 132016): the first answer pauses every campaign of the
// template; those that follow while it is held (every send in flight gets
// one) pause only their own campaign. The others were paused by the scan,
// are held at registration, or (resumed by an operator meanwhile) pause at
// their own next answer. A scan that fails is done again by the next
// answer. The answer is a template event of its own time (see
// TemplateEvent), in whole seconds as Meta's webhooks say theirs: a
// webhook from before it, delivered late, does not undo the pause; one of
// the same second, which may have been sent after it, does. It pauses all
// the same when a later event was recorded: the API's answer is the
// template's state now.
func (g *Guard) PauseTemplateOf(ctx context.Context, id, waba, name, language, reason string) ([]string, error) {
	if _, err := g.TemplateEvent(ctx, waba, name, language, g.now().Truncate(time.Second)); err != nil {
		return nil, err
	}
	tid := templateID(waba, name, language)
	reason, first, err := g.holdTemplate(ctx, tid, reason, time.Time{})
	if err != nil {
		return nil, err
	}
	if first {
		all, err := g.scanTemplate(ctx, tid, waba, name, language, reason)
		g.counted(reason, len(all))
		return all, err
	}
	paused, _, err := g.pauseUnder(ctx, id, reason, templateHold(g.keys, tid))
	if err != nil || !paused {
		return nil, err
	}
	g.counted(reason, 1)
	return []string{id}, nil
}

// holdScript holds a template (KEYS[1]) for ARGV[2] ms with a reason
// (ARGV[1]), unless it is held as disabled (a reason starting with ARGV[3])
// and the new one is not: a late answer to a send in flight only extends
// the hold. It marks the template scanned (KEYS[2]) unless it is, and
// returns the reason in force and whether it marked it. Hold and mark are
// set and lifted together: a mark never outlives its hold. It does
// nothing, and returns an empty reason, when an event of the template
// later than ARGV[4] is recorded at KEYS[3] (see laterLua).
var holdScript = redis.NewScript(laterLua + `
if later(KEYS[3], ARGV[4]) then return {'', 0} end
local reason = ARGV[1]
local cur = redis.call('GET', KEYS[1])
if cur and string.sub(cur, 1, #ARGV[3]) == ARGV[3] and string.sub(reason, 1, #ARGV[3]) ~= ARGV[3] then reason = cur end
redis.call('SET', KEYS[1], reason, 'PX', ARGV[2])
if redis.call('SET', KEYS[2], 1, 'NX', 'PX', ARGV[2]) then return {reason, 1} end
return {reason, 0}
`)

// holdTemplate holds the template's campaigns for TemplatePauseTTL from
// now, before its running ones are read (a campaign registered meanwhile
// is either among them or held), in one step with its scanned mark (see
// holdScript). first says that no scan was done or under way: the caller
// is to scan. inForce is "" when an event of the template later than at
// (zero: none is) was recorded: nothing is held.
func (g *Guard) holdTemplate(ctx context.Context, tid, reason string, at time.Time) (inForce string, first bool, err error) {
	v, err := holdScript.Run(ctx, g.rdb, []string{g.keys.TemplateGuard(tid), g.keys.TemplateScanned(tid), g.keys.GuardEvent(templateSubject(tid))},
		reason, TemplatePauseTTL.Milliseconds(), ReasonTemplateDisabled, eventMillis(at)).Slice()
	if err != nil {
		return "", false, fmt.Errorf("guard: pause template: %w", err)
	}
	if len(v) != 2 {
		return "", false, fmt.Errorf("guard: pause template: unexpected answer %v", v)
	}
	inForce, _ = v[0].(string)
	n, _ := v[1].(int64)
	return inForce, n == 1, nil
}

// scanTemplate pauses the running campaigns of the template (id tid)
// under its hold; when that fails, it drops the scanned mark, so that the
// next answer scans again.
func (g *Guard) scanTemplate(ctx context.Context, tid, waba, name, language, reason string) ([]string, error) {
	all, err := registry.New(g.rdb, g.keys).All(ctx)
	var paused []string
	if err != nil {
		err = fmt.Errorf("guard: pause template: %w", err)
	} else {
		paused, err = g.pauseWhere(ctx, templateHold(g.keys, tid), reason, func(c *campaign.Campaign) bool {
			return registry.Lookup(all, c.Sender).Scope() == waba && c.Template.Name == name && (language == "" || c.Template.Language.Code == language)
		})
	}
	if err != nil {
		_ = g.rdb.Del(context.WithoutCancel(ctx), g.keys.TemplateScanned(tid)).Err()
	}
	return paused, err
}

// templateHold is the hold of a template's pause (see store.Hold).
func templateHold(keys keyspace.Space, tid string) store.Hold {
	return store.Hold{Key: keys.TemplateGuard(tid), Set: keys.GuardPaused("template", tid)}
}

// TemplateReason is the pause reason of an error answer or a failed status
// that says the template is paused (132015) or disabled (CodeTemplateOff).
func TemplateReason(code int, title string) string {
	reason := ReasonTemplatePaused
	if code == CodeTemplateOff {
		reason = ReasonTemplateDisabled
	}
	return reason + ": " + codeReason(code, title) // a status kept for its send's settle keeps no title
}

// liftScript lifts a template's hold (KEYS[1]) and its scanned mark
// (KEYS[2]) unless an event of the template later than ARGV[1] is
// recorded at KEYS[3] (see laterLua); it returns whether it did.
var liftScript = redis.NewScript(laterLua + `
if later(KEYS[3], ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`)

// ResumeTemplate lifts the template's pause: it resumes the campaigns
// PauseTemplate paused or held for it. at is the time of the event that
// says so (see TemplateEvent): when a later one was recorded meanwhile (a
// PAUSED, an answer 132015), it does nothing. One whose template is held
// again when its turn comes (a newer pause acted on meanwhile, or a pause
// of every language) stays paused under that hold (see ResumeUnlessHeld).
func (g *Guard) ResumeTemplate(ctx context.Context, waba, name, language string, at time.Time, resume Resumer) ([]string, error) {
	id := templateID(waba, name, language)
	lifted, err := liftScript.Run(ctx, g.rdb, []string{g.keys.TemplateGuard(id), g.keys.TemplateScanned(id), g.keys.GuardEvent(templateSubject(id))},
		eventMillis(at)).Int()
	if err != nil {
		return nil, fmt.Errorf("guard: resume template: %w", err)
	}
	if lifted == 0 {
		return nil, nil
	}
	return g.resumeSet(ctx, g.keys.GuardPaused("template", id), templatePrefix, func(ctx context.Context, cid string) (bool, error) {
		return ResumeUnlessHeld(ctx, g.store, waba, cid, templatePrefix, resume)
	})
}

// TemplateHolds are the holds of a campaign of the WABA (its sender's
// scope) on the template: its pause in that language or in every one (see
// store.Hold).
func TemplateHolds(keys keyspace.Space, waba, name, language string) []store.Hold {
	var out []store.Hold
	for _, l := range []string{language, ""} {
		out = append(out, templateHold(keys, templateID(waba, name, l)))
	}
	return out
}

// PauseCampaign pauses one running campaign for a guard's reason (the
// fallback guard); false when it was not running.
func (g *Guard) PauseCampaign(ctx context.Context, id, reason string) (bool, error) {
	tr, err := g.store.Campaigns.PauseAutomatically(ctx, id, reason, &task.Error{Title: reason})
	if errors.Is(err, campaign.ErrState) || errors.Is(err, campaign.ErrNotFound) {
		return false, nil
	}
	if tr.Changed {
		g.counted(reason, 1)
	}
	return tr.Changed, err
}

// pauseWhere pauses every running campaign that match picks under the
// guard's hold (see store.Campaigns.PauseUnder); it stops when the hold is
// lifted meanwhile: the campaigns after it run on.
func (g *Guard) pauseWhere(ctx context.Context, hold store.Hold, reason string, match func(*campaign.Campaign) bool) ([]string, error) {
	running, err := g.store.Campaigns.Running(ctx)
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	var paused []string
	for _, c := range running {
		if !match(c) {
			continue
		}
		ok, lifted, err := g.pauseUnder(ctx, c.ID, reason, hold)
		switch {
		case err != nil:
			return paused, err
		case lifted:
			return paused, nil
		case ok:
			paused = append(paused, c.ID)
		}
	}
	return paused, nil
}

// pauseUnder pauses one running campaign under a guard's hold (see
// store.Campaigns.PauseUnder): paused when it was running, lifted when the
// hold is gone. A campaign not running or gone is neither.
func (g *Guard) pauseUnder(ctx context.Context, id, reason string, hold store.Hold) (paused, lifted bool, err error) {
	tr, err := g.store.Campaigns.PauseUnder(ctx, id, reason, &task.Error{Title: reason}, hold)
	switch {
	case errors.Is(err, campaign.ErrState) || errors.Is(err, campaign.ErrNotFound):
		return false, false, nil
	case err != nil:
		return false, false, fmt.Errorf("guard: pause campaign %s: %w", id, err)
	}
	return tr.Changed, tr.Lifted, nil
}

// resumeSet resumes (with resume, which says whether the campaign runs)
// the campaigns of set that are paused for a reason starting with prefix.
// It takes off the set only those whose keys are gone. The others stay:
// a resume takes a campaign off every list in its own step (see
// store.Campaigns.Resume), one kept paused is listed for what keeps it, and
// one found otherwise (resumed or paused by an operator, cancelled) leaves
// the lists at its next resume, its cancel or its retirement. So a campaign
// a newer pause listed here again, at any moment, is never taken off.
func (g *Guard) resumeSet(ctx context.Context, set, prefix string, resume func(context.Context, string) (bool, error)) ([]string, error) {
	ids, err := g.rdb.SMembers(ctx, set).Result()
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	var resumed []string
	for _, id := range ids {
		st, err := g.store.Campaigns.Status(ctx, id)
		switch {
		case errors.Is(err, campaign.ErrNotFound):
			if err := g.rdb.SRem(ctx, set, id).Err(); err != nil {
				return resumed, fmt.Errorf("guard: %w", err)
			}
		case err != nil:
			return resumed, err
		case st.State == campaign.StatePaused && strings.HasPrefix(st.PausedReason, prefix):
			runs, err := resume(ctx, id)
			if err != nil {
				return resumed, err
			}
			if runs {
				resumed = append(resumed, id)
			}
		}
	}
	return resumed, nil
}

// Use is a limit scope's messaging limit and the unique recipients it
// reached in the window.
type Use struct {
	Limit   int   `json:"limit"` // 0 unlimited
	Reached int64 `json:"reached"`
}

// Use reads a limit scope's use; configured is the senders file's limit.
func (g *Guard) Use(ctx context.Context, scope string, configured int) (Use, error) {
	u := Use{Limit: configured}
	s, err := g.rdb.HGet(ctx, g.keys.Limits(), scope).Result()
	if err == nil {
		u.Limit, _ = strconv.Atoi(s)
	}
	// After now - window, as the claim counts: a new place's score is a
	// claim's millisecond + 0.5.
	from := "(" + strconv.FormatInt(g.now().Add(-g.cfg.LimitWindow).UnixMilli(), 10)
	if u.Reached, err = g.rdb.ZCount(ctx, g.keys.Reach(scope), from, "+inf").Result(); err != nil {
		return u, fmt.Errorf("guard: read the reach of %s: %w", scope, err)
	}
	return u, nil
}

// Limits reads the messaging limits learnt from webhooks, by limit scope.
func (g *Guard) Limits(ctx context.Context) (map[string]int, error) {
	h, err := g.rdb.HGetAll(ctx, g.keys.Limits()).Result()
	if err != nil {
		return nil, fmt.Errorf("guard: read the messaging limits: %w", err)
	}
	out := make(map[string]int, len(h))
	for k, v := range h {
		n, err := strconv.Atoi(v)
		if err == nil {
			out[k] = n
		}
	}
	return out, nil
}
