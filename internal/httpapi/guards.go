package httpapi

import (
	"context"
	"errors"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
)

// The protections webhooks set off (see package guard): a failed status's
// code suppresses its recipient, puts it in cooldown or pauses its
// template; template, account and quality events pause and resume
// templates and senders and set messaging limits; a fallback-priced status
// may pause its campaign. Each is idempotent: a webhook delivered again
// does nothing more.

// resume is the guards' Resumer: the producer's resume, which brings the
// parked jobs back at the sender's rate.
func (s *Server) resume(ctx context.Context, id string) error {
	_, err := s.cfg.Producer.Resume(ctx, id)
	return err
}

// senderLookup finds tracked messages' campaigns and their senders'
// published settings, each read once per webhook.
type senderLookup struct {
	s     *Server
	all   map[string]sender.Published
	camps map[string]*campaign.Campaign // nil: gone
}

func (s *Server) senderLookup() *senderLookup {
	return &senderLookup{s: s, camps: map[string]*campaign.Campaign{}}
}

// of returns the campaign and its sender (the campaign's sender id alone
// when none is published); ok is false when the campaign is gone (retired
// meanwhile: nothing to act on).
func (l *senderLookup) of(ctx context.Context, id string) (c *campaign.Campaign, p sender.Published, ok bool, err error) {
	c, seen := l.camps[id]
	if !seen {
		if c, err = l.s.store().Campaigns.Get(ctx, id); err != nil && !errors.Is(err, campaign.ErrNotFound) {
			return nil, p, false, err // Redis failed: the provider delivers the webhook again
		}
		l.camps[id] = c
	}
	if c == nil {
		return nil, p, false, nil
	}
	all, err := l.published(ctx)
	if err != nil {
		return nil, p, false, err
	}
	return c, registry.Lookup(all, c.Sender), true, nil
}

// published returns the senders the workers published, read once per
// webhook.
func (l *senderLookup) published(ctx context.Context) (map[string]sender.Published, error) {
	if l.all == nil {
		all, err := l.s.senders.All(ctx)
		if err != nil {
			return nil, err
		}
		l.all = all
	}
	return l.all, nil
}

// guardStatuses acts on the failed statuses of known messages.
func (s *Server) guardStatuses(ctx context.Context, senders *senderLookup, sts []webhook.Status, tracked []store.Tracked) error {
	for i, t := range tracked {
		st := sts[i]
		if !t.Known || t.Seen || st.Status != "failed" || st.Error == nil {
			continue
		}
		code := st.Error.Code
		g := mmapi.GuardOf(code, 0)
		if !s.guard.Config().Suppresses(code) && g != mmapi.GuardCooldown && g != mmapi.GuardTemplate {
			continue
		}
		c, p, ok, err := senders.of(ctx, t.Campaign)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		switch {
		case s.guard.Config().Suppresses(code):
			err = s.guard.Suppress(ctx, p.Scope(), guard.Entry{To: t.To, Reason: st.Error.Title, Code: code, Source: guard.SourceWebhook})
			s.log.Info("recipient suppressed after a failed status", "to", phone.Mask(t.To), "sender", p.ID, "code", code)
		case g == mmapi.GuardCooldown:
			_, err = s.guard.Cool(ctx, p.Scope(), t.To)
		case g == mmapi.GuardTemplate:
			err = s.pauseTemplate(ctx, p.Scope(), c.Template.Name, c.Template.Language.Code, guard.TemplateReason(code, st.Error.Title))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pauseOnFallback pauses, for a sender with on_fallback: pause, the
// campaign of a message the first status of which is priced as a Cloud API
// marketing message.
func (s *Server) pauseOnFallback(ctx context.Context, senders *senderLookup, sts []webhook.Status, tracked []store.Tracked) error {
	for i, t := range tracked {
		if !t.Known || t.Priced || sts[i].PricingCategory != fallbackCategory {
			continue
		}
		c, p, ok, err := senders.of(ctx, t.Campaign)
		if err != nil {
			return err
		}
		if !ok || p.OnFallback != sender.FallbackPause {
			continue
		}
		paused, err := s.guard.PauseCampaign(ctx, t.Campaign, guard.ReasonFallback+
			": Meta charged a message as a Cloud API marketing message (pricing category marketing), not MM Lite")
		if err != nil {
			return err
		}
		if paused {
			s.log.Warn("campaign paused: a message fell back to Cloud API pricing", "campaign", t.Campaign, "sender", c.Sender)
		}
	}
	return nil
}

// fallbackCategory is the pricing category of a message Meta sent through
// the Cloud API instead of MM Lite.
const fallbackCategory = "marketing"

// countFallback counts a message that fell back, by its campaign's sender.
func (s *Server) countFallback(ctx context.Context, senders *senderLookup, t store.Tracked) {
	c, _, ok, _ := senders.of(ctx, t.Campaign)
	if !ok {
		s.wm.fallback.WithLabelValues("unknown").Inc()
		return
	}
	s.wm.fallback.WithLabelValues(c.Sender).Inc()
}

// guardEvents acts on template, account and quality events.
func (s *Server) guardEvents(ctx context.Context, senders *senderLookup, ev *webhook.Events) error {
	if len(ev.Templates) == 0 && len(ev.Qualities) == 0 && len(ev.Accounts) == 0 {
		return nil
	}
	all, err := senders.published(ctx)
	if err != nil {
		return err
	}
	for _, t := range ev.Templates {
		s.wm.events.WithLabelValues("template_update", templateLabel(t.Event)).Inc()
		switch t.Event {
		case "PAUSED", "DISABLED":
			reason := guard.ReasonTemplatePaused
			if t.Event == "DISABLED" {
				reason = guard.ReasonTemplateDisabled
			}
			if t.Reason != "" {
				reason += ": " + t.Reason
			}
			err = s.pauseTemplate(ctx, t.WABAID, t.Name, t.Language, reason)
		case "REINSTATED", "APPROVED":
			var resumed []string
			resumed, err = s.guard.ResumeTemplate(ctx, t.WABAID, t.Name, t.Language, s.resume)
			if len(resumed) > 0 {
				s.log.Info("template reinstated: campaigns resumed", "waba_id", t.WABAID, "template", t.Name, "language", t.Language, "campaigns", len(resumed))
			}
		}
		if err != nil {
			return err
		}
	}
	for _, a := range ev.Accounts {
		if !accountStops(a.Event) {
			continue
		}
		for _, id := range sender.IDs(all) {
			if all[id].Scope() != a.WABAID {
				continue
			}
			paused, err := s.guard.PauseSender(ctx, id, "account_update "+a.Event, guard.SourceWebhook)
			if err != nil {
				return err
			}
			s.log.Error("sender paused: its WhatsApp Business Account cannot send (account_update); resume it once resolved",
				"sender", id, "waba_id", a.WABAID, "event", a.Event, "campaigns_paused", len(paused))
		}
	}
	for _, q := range ev.Qualities {
		s.wm.events.WithLabelValues("quality_update", "quality_update").Inc()
		limit, ok := q.Limit()
		if !ok {
			continue
		}
		scopes := map[string]bool{}
		for _, p := range all {
			if p.Scope() == q.WABAID {
				scopes[p.LimitScope()] = true
			}
		}
		for sc := range scopes {
			if err := s.guard.SetLimit(ctx, sc, limit); err != nil {
				return err
			}
			s.log.Info("messaging limit updated", "scope", sc, "limit", limit, "tier", q.CurrentLimit)
		}
	}
	return nil
}

// pauseTemplate pauses every campaign of the WABA that uses the template.
func (s *Server) pauseTemplate(ctx context.Context, waba, name, language, reason string) error {
	paused, err := s.guard.PauseTemplate(ctx, waba, name, language, reason)
	if len(paused) > 0 {
		s.log.Warn("template paused by Meta: its campaigns are paused", "waba_id", waba, "template", name, "language", language,
			"reason", reason, "campaigns", len(paused))
	}
	return err
}

// accountStops says whether an account_update event stops the account.
func accountStops(e string) bool {
	return e == "ACCOUNT_VIOLATION" || e == "DISABLED_UPDATE" || e == "ACCOUNT_DELETED"
}

func templateLabel(e string) string {
	switch e {
	case "PAUSED", "DISABLED", "REINSTATED", "APPROVED", "REJECTED", "PENDING_DELETION":
		return e
	}
	return "other"
}
