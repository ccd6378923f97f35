package guard

import (
	"context"
	"fmt"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

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
	paused, _, err := g.pauseUnder(ctx, id, reason, 0, templateHold(g.keys, tid))
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
		paused, err = g.pauseWhere(ctx, templateHold(g.keys, tid), reason, 0, func(c *campaign.Campaign) bool {
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
