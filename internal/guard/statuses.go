package guard

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
)

// What a known message's statuses set off, wherever they are recorded:
// the api's webhooks, and the housekeeping's replay of statuses that came
// before their send was recorded (or while its outcome was unknown). A
// failed status's code suppresses its recipient, puts it in cooldown or
// pauses its template; the first status priced as a Cloud API marketing
// message pauses its campaign when the sender says on_fallback: pause.
// Each is idempotent: statuses delivered again do nothing more.

// Status is a status of a known message, as the protections read it.
type Status struct {
	Campaign, To string
	Status       string // sent, delivered, read, failed
	Category     string // the pricing category: "marketing" is a fallback to the Cloud API
	Code         int    // a failed status's error code, and its title ("" when not known)
	Title        string
	At           time.Time // when Meta says it happened; zero when not known
	Seen         bool      // this (message, status) was recorded before: what it sets off was done then
	Priced       bool      // the message's pricing was recorded before
}

// FallbackCategory is the pricing category of a message Meta sent through
// the Cloud API instead of MM Lite.
const FallbackCategory = "marketing"

// Senders finds campaigns and their senders' published settings, each read
// once per batch of statuses (a webhook, a replay).
type Senders struct {
	g     *Guard
	all   map[string]sender.Published
	camps map[string]*campaign.Campaign // nil: gone
}

// Senders returns an empty lookup.
func (g *Guard) Senders() *Senders {
	return &Senders{g: g, camps: map[string]*campaign.Campaign{}}
}

// Of returns the campaign and its sender (the campaign's sender id alone
// when none is published); ok is false when the campaign is gone (retired
// meanwhile: nothing to act on).
func (l *Senders) Of(ctx context.Context, id string) (c *campaign.Campaign, p sender.Published, ok bool, err error) {
	c, seen := l.camps[id]
	if !seen {
		if c, err = l.g.store.Campaigns.Get(ctx, id); err != nil && !errors.Is(err, campaign.ErrNotFound) {
			return nil, p, false, err // Redis failed: the statuses are acted on again
		}
		l.camps[id] = c
	}
	if c == nil {
		return nil, p, false, nil
	}
	all, err := l.Published(ctx)
	if err != nil {
		return nil, p, false, err
	}
	return c, registry.Lookup(all, c.Sender), true, nil
}

// SenderOf is the campaign's sender id, or "unknown" when the campaign is
// gone or cannot be read: a metric label.
func (l *Senders) SenderOf(ctx context.Context, id string) string {
	if c, _, ok, _ := l.Of(ctx, id); ok {
		return c.Sender
	}
	return "unknown"
}

// Published returns the senders the workers published, read once.
func (l *Senders) Published(ctx context.Context) (map[string]sender.Published, error) {
	if l.all == nil {
		all, err := registry.New(l.g.rdb, l.g.keys).All(ctx)
		if err != nil {
			return nil, err
		}
		l.all = all
	}
	return l.all, nil
}

// OnStatuses does what the statuses set off (see above), before they are
// recorded: one that failed is acted on again when they come again.
func (g *Guard) OnStatuses(ctx context.Context, l *Senders, sts []Status, log *slog.Logger) error {
	for _, st := range sts {
		if err := g.onFailed(ctx, l, st, log); err != nil {
			return err
		}
		if err := g.onFallback(ctx, l, st, log); err != nil {
			return err
		}
	}
	return nil
}

// onFailed acts on a failed status's code.
func (g *Guard) onFailed(ctx context.Context, l *Senders, st Status, log *slog.Logger) error {
	if st.Seen || st.Status != "failed" || st.Code == 0 {
		return nil
	}
	kind := mmapi.GuardOf(st.Code, 0)
	if !g.cfg.Suppresses(st.Code) && kind == mmapi.GuardNone {
		return nil
	}
	c, p, ok, err := l.Of(ctx, st.Campaign)
	if err != nil || !ok {
		return err
	}
	switch {
	case g.cfg.Suppresses(st.Code):
		err = g.Suppress(ctx, p.Scope(), Entry{To: st.To, Reason: st.Title, Code: st.Code, Source: SourceWebhook})
		log.Info("recipient suppressed after a failed status", "to", phone.Mask(st.To), "sender", p.ID, "code", st.Code)
	case kind == mmapi.GuardCooldown:
		_, err = g.Cool(ctx, p.Scope(), st.To)
	case kind == mmapi.GuardTemplate:
		// Older than a template event acted on (a REINSTATED since), it
		// says nothing of the template now.
		var newer bool
		if newer, err = g.TemplateEvent(ctx, p.Scope(), c.Template.Name, c.Template.Language.Code, st.At); newer {
			err = g.PauseTemplateLogged(ctx, p.Scope(), c.Template.Name, c.Template.Language.Code, TemplateReason(st.Code, st.Title), st.At, log)
		}
	case kind == mmapi.GuardSender:
		var paused []string
		paused, err = g.PauseSender(ctx, p.ID, codeReason(st.Code, st.Title), st.Code, SourceWebhook)
		if len(paused) > 0 {
			log.Error("sender paused: a failed status says the account cannot send; fix the cause and resume the sender (mmlite sender resume)",
				"sender", p.ID, "code", st.Code, "campaigns_paused", len(paused))
		}
	}
	return err
}

// codeReason is a pause's reason from a status's error: "code 131042:
// Business eligibility payment issue" (the code alone when the title is
// not known).
func codeReason(code int, title string) string {
	if title == "" {
		return "code " + strconv.Itoa(code)
	}
	return "code " + strconv.Itoa(code) + ": " + title
}

// onFallback pauses, for a sender with on_fallback: pause, the campaign of
// a message the first priced status of which says it fell back.
func (g *Guard) onFallback(ctx context.Context, l *Senders, st Status, log *slog.Logger) error {
	if st.Priced || st.Category != FallbackCategory {
		return nil
	}
	c, p, ok, err := l.Of(ctx, st.Campaign)
	if err != nil || !ok || p.OnFallback != sender.FallbackPause {
		return err
	}
	paused, err := g.PauseCampaign(ctx, st.Campaign, ReasonFallback+
		": Meta charged a message as a Cloud API marketing message (pricing category marketing), not MM Lite")
	if paused {
		log.Warn("campaign paused: a message fell back to Cloud API pricing", "campaign", st.Campaign, "sender", c.Sender)
	}
	return err
}

// PauseTemplateLogged pauses every campaign of the WABA that uses the
// template (see PauseTemplate), and logs those it paused.
func (g *Guard) PauseTemplateLogged(ctx context.Context, waba, name, language, reason string, at time.Time, log *slog.Logger) error {
	paused, err := g.PauseTemplate(ctx, waba, name, language, reason, at)
	if len(paused) > 0 {
		log.Warn("template paused by Meta: its campaigns are paused", "waba_id", waba, "template", name, "language", language,
			"reason", reason, "campaigns", len(paused))
	}
	return err
}
