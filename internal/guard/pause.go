package guard

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
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
	PausedBy string     `json:"paused_by,omitempty"` // api, cli, console, answer, webhook
	// Code is Meta's code that paused it, 0 for none (an operator, an
	// account event): its campaigns' error.code (see store.PauseError).
	// Its reason names it already.
	Code int `json:"-"`
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
	code, _ := strconv.Atoi(h["code"])
	return SenderState{Paused: true, Reason: h["paused_reason"], PausedAt: &at, PausedBy: h["paused_by"], Code: code}, nil
}

// PauseSender pauses a sender: every running campaign of it now, and any
// other at its next claim (see store.ClaimGuard), so that at most the
// sends already in flight reach the provider after the condition is known.
// code is Meta's code that says the account cannot send, 0 for none (an
// operator's pause, an account event): its campaigns' error.code. It
// returns the campaigns it paused. Pausing a paused sender keeps the first
// reason and code, and does nothing more.
func (g *Guard) PauseSender(ctx context.Context, id, reason string, code int, by string) ([]string, error) {
	key := g.keys.SenderGuard(id)
	ok, err := g.rdb.HSetNX(ctx, key, "paused_reason", reason).Result()
	if err != nil {
		return nil, fmt.Errorf("guard: pause sender %s: %w", id, err)
	}
	if !ok {
		// Already paused: its campaigns were, or pause at their next claim.
		return nil, nil
	}
	if err := g.rdb.HSet(ctx, key, "paused_at", g.now().UnixMilli(), "paused_by", by, "code", code).Err(); err != nil {
		return nil, fmt.Errorf("guard: pause sender %s: %w", id, err)
	}
	paused, err := g.pauseWhere(ctx, store.Hold{Key: key, Set: g.keys.GuardPaused("sender", id)}, ReasonSenderPaused+": "+reason, code,
		func(c *campaign.Campaign) bool { return c.Sender == id })
	if byOperator(by) {
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
// the reason and code in force, as that pause would: resuming the sender
// resumes it.
func (g *Guard) PauseSenderOf(ctx context.Context, id, sender, reason string, code int, by string) ([]string, error) {
	paused, err := g.PauseSender(ctx, sender, reason, code, by)
	if err != nil || len(paused) > 0 {
		return paused, err
	}
	st, err := g.Sender(ctx, sender)
	if err != nil || !st.Paused {
		return nil, err
	}
	ok, _, err := g.pauseUnder(ctx, id, ReasonSenderPaused+": "+st.Reason, st.Code,
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

// PauseCampaign pauses one running campaign for a guard's reason (the
// fallback guard); false when it was not running.
func (g *Guard) PauseCampaign(ctx context.Context, id, reason string) (bool, error) {
	tr, err := g.store.Campaigns.PauseAutomatically(ctx, id, reason, store.PauseError(reason, 0))
	if errors.Is(err, campaign.ErrState) || errors.Is(err, campaign.ErrNotFound) {
		return false, nil
	}
	if tr.Changed {
		g.counted(reason, 1)
	}
	return tr.Changed, err
}

// pauseWhere pauses every running campaign that match picks under the
// guard's hold (see store.Campaigns.PauseUnder), for reason and Meta's
// code (see pauseUnder); it stops when the hold is lifted meanwhile: the
// campaigns after it run on.
func (g *Guard) pauseWhere(ctx context.Context, hold store.Hold, reason string, code int, match func(*campaign.Campaign) bool) ([]string, error) {
	running, err := g.store.Campaigns.Running(ctx)
	if err != nil {
		return nil, fmt.Errorf("guard: %w", err)
	}
	var paused []string
	for _, c := range running {
		if !match(c) {
			continue
		}
		ok, lifted, err := g.pauseUnder(ctx, c.ID, reason, code, hold)
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
// store.Campaigns.PauseUnder), its error Meta's code (a template's by its
// reason when 0: see store.PauseError): paused when it was running, lifted
// when the hold is gone. A campaign not running or gone is neither.
func (g *Guard) pauseUnder(ctx context.Context, id, reason string, code int, hold store.Hold) (paused, lifted bool, err error) {
	tr, err := g.store.Campaigns.PauseUnder(ctx, id, reason, store.PauseError(reason, code), hold)
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
