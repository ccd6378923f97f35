package httpapi

import (
	"context"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/sender"
)

// The protections webhooks set off (see package guard): statuses act as
// guard.Guard.OnStatuses says; template, account and quality events pause
// and resume templates and senders and set messaging limits. Each is
// idempotent: a webhook delivered again does nothing more.

// resume is the guards' Resumer: the producer's resume, which brings the
// parked jobs back at the sender's rate.
func (s *Server) resume(ctx context.Context, id, pausedFor string) error {
	return s.cfg.Producer.ResumeFrom(ctx, id, pausedFor)
}

// guardStatuses does what the statuses of known messages set off (see
// guard.Status), before they are recorded.
func (s *Server) guardStatuses(ctx context.Context, senders *guard.Senders, sts []webhook.Status, tracked []store.Tracked) error {
	var gs []guard.Status
	for i, t := range tracked {
		if !t.Known {
			continue
		}
		st := sts[i]
		g := guard.Status{Campaign: t.Campaign, To: t.To, Status: st.Status, Category: st.PricingCategory, At: st.Timestamp,
			Seen: t.Seen, Priced: t.Priced}
		if st.Error != nil {
			g.Code, g.Title = st.Error.Code, st.Error.Title
		}
		gs = append(gs, g)
	}
	return s.guard.OnStatuses(ctx, senders, gs, s.log)
}

// guardEvents acts on template, account and quality events.
func (s *Server) guardEvents(ctx context.Context, senders *guard.Senders, ev *webhook.Events) error {
	if len(ev.Templates) == 0 && len(ev.Qualities) == 0 && len(ev.Accounts) == 0 {
		return nil
	}
	all, err := senders.Published(ctx)
	if err != nil {
		return err
	}
	for _, t := range ev.Templates {
		s.wm.events.WithLabelValues("template_update", templateLabel(t.Event)).Inc()
		if !templateActs(t.Event) {
			continue
		}
		newer, err := s.guard.TemplateEvent(ctx, t.WABAID, t.Name, t.Language, t.Time)
		if err != nil {
			return err
		}
		if !newer {
			s.log.Info("template event older than one acted on: ignored", "waba_id", t.WABAID, "template", t.Name, "event", t.Event)
			continue
		}
		switch t.Event {
		case "PAUSED", "DISABLED":
			reason := guard.ReasonTemplatePaused
			if t.Event == "DISABLED" {
				reason = guard.ReasonTemplateDisabled
			}
			if t.Reason != "" {
				reason += ": " + t.Reason
			}
			err = s.guard.PauseTemplateLogged(ctx, t.WABAID, t.Name, t.Language, reason, t.Time, s.log)
		case "REINSTATED", "APPROVED":
			var resumed []string
			resumed, err = s.guard.ResumeTemplate(ctx, t.WABAID, t.Name, t.Language, t.Time, s.resume)
			if len(resumed) > 0 {
				s.log.Info("template reinstated: campaigns resumed", "waba_id", t.WABAID, "template", t.Name, "language", t.Language, "campaigns", len(resumed))
			}
		}
		if err != nil {
			return err
		}
	}
	for _, a := range ev.Accounts {
		if !a.Stops() {
			continue
		}
		for _, id := range sender.IDs(all) {
			if all[id].Scope() != a.WABAID {
				continue
			}
			paused, err := s.guard.PauseSender(ctx, id, "account_update "+a.Event, 0, guard.SourceWebhook)
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
			set, err := s.guard.SetLimit(ctx, sc, limit, q.Time)
			if err != nil {
				return err
			}
			if set {
				s.log.Info("messaging limit updated", "scope", sc, "limit", limit, "tier", q.CurrentLimit, "max_daily", q.MaxDaily)
			}
		}
	}
	return nil
}

// templateActs says whether a template event pauses or resumes campaigns.
func templateActs(e string) bool {
	return e == "PAUSED" || e == "DISABLED" || e == "REINSTATED" || e == "APPROVED"
}

func templateLabel(e string) string {
	switch e {
	case "PAUSED", "DISABLED", "REINSTATED", "APPROVED", "REJECTED", "PENDING_DELETION":
		return e
	}
	return "other"
}
