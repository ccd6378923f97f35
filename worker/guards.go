package worker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
)

// The protections on the send path (see package guard): the claim looks at
// them in its own round trip, and the answers of the API set them off.

// claimGuard names the sender's protections for its claims.
func (w *Worker) claimGuard(ctx context.Context, s *sender.Sender) *store.ClaimGuard {
	return &store.ClaimGuard{Sender: s.ID, Scope: s.Scope(), LimitScope: s.LimitScope(), Limit: w.limits.of(ctx, s),
		Window: w.guard.Config().LimitWindow, Cooldown: w.guard.Config().Cooldown}
}

// limitMemo keeps the messaging limits learnt from webhooks for a few
// seconds, so that a claim does not read them: a new limit counts within
// limitRefresh.
type limitMemo struct {
	g  *guard.Guard
	mu sync.Mutex
	at time.Time
	m  map[string]int
}

const limitRefresh = 5 * time.Second

// of is the sender's limit: the learnt one, else the senders file's.
func (l *limitMemo) of(ctx context.Context, s *sender.Sender) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time.Since(l.at) > limitRefresh {
		if m, err := l.g.Limits(ctx); err == nil {
			l.m, l.at = m, time.Now()
		}
	}
	if n, ok := l.m[s.LimitScope()]; ok {
		return n
	}
	return int(s.MessagingLimit)
}

// held ends or puts back a job that a protection kept from its send: a
// suppressed recipient is final, one in cooldown or beyond the messaging
// limit waits until then (no retry spent), or expires first. Its rate slot
// was given back already (see giveBack).
func (w *Worker) held(ctx context.Context, j *job, cl store.Claim) error {
	if cl.Verdict == store.Suppressed {
		e, err := guard.DecodeEntry(j.send.To, cl.Entry)
		if err != nil {
			return err
		}
		w.m.suppressed.WithLabelValues(j.sender.ID, e.Source).Inc()
		title := "suppressed: " + e.Reason
		return w.finish(ctx, j, verdict{status: task.StatusSuppressed,
			lastErr: &task.Error{Code: e.Code, Title: title, Class: task.StatusSuppressed}})
	}
	reason, what := reasonCooldown, "recipient in cooldown after 131049 (per-user marketing cap) until"
	if cl.Verdict == store.Limited {
		reason, what = reasonLimit, fmt.Sprintf("messaging limit of %s reached; a place frees at", j.sender.LimitScope())
	}
	msg := fmt.Sprintf("%s %s", what, cl.Until.UTC().Format(time.RFC3339))
	if j.send.Expired(cl.Until) {
		return w.finish(ctx, j, verdict{status: task.StatusExpired, lastErr: &task.Error{Title: msg, Class: reason}})
	}
	return w.reschedule(j, jitter(max(time.Until(cl.Until), 0), time.Second), reason, errors.New(msg))
}

// protect acts on what an error answer says beyond the one message: it
// suppresses the recipient, puts it in cooldown, or pauses the sender or
// the template across campaigns. The job's own fate is decide's.
func (w *Worker) protect(ctx context.Context, j *job, e *mmapi.Error) error {
	cfg := w.guard.Config()
	if e.Code != 0 && cfg.Suppresses(e.Code) {
		err := w.guard.Suppress(ctx, j.sender.Scope(), guard.Entry{To: j.send.To, Reason: e.Title, Code: e.Code, Source: guard.SourceAnswer})
		if err == nil {
			w.log.Info("recipient suppressed", "to", phone.Mask(j.send.To), "sender", j.sender.ID, "code", e.Code)
		}
		return err
	}
	switch mmapi.GuardOf(e.Code, e.HTTPStatus) {
	case mmapi.GuardCooldown:
		_, err := w.guard.Cool(ctx, j.sender.Scope(), j.send.To)
		return err
	case mmapi.GuardSender:
		reason := fmt.Sprintf("code %d (HTTP %d): %s", e.Code, e.HTTPStatus, e.Title)
		paused, err := w.guard.PauseSenderOf(ctx, j.campaign.ID, j.sender.ID, reason, e.Code, guard.SourceAnswer)
		if err == nil && len(paused) > 0 {
			w.log.Error("sender paused: the account cannot send; fix the cause and resume the sender (mmlite sender resume)",
				"sender", j.sender.ID, "code", e.Code, "http_status", e.HTTPStatus, "campaigns_paused", len(paused))
			for _, id := range paused {
				w.announce(ctx, id)
			}
		}
		return err
	case mmapi.GuardTemplate:
		reason := guard.TemplateReason(e.Code, e.Title)
		paused, err := w.guard.PauseTemplateOf(ctx, j.campaign.ID, j.sender.Scope(), j.campaign.Template.Name, j.campaign.Template.Language.Code, reason)
		for _, id := range paused {
			w.announce(ctx, id)
		}
		return err
	}
	return nil
}
