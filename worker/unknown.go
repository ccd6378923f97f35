package worker

import (
	"context"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
)

// matchBatch is how many (number, recipient) pairs one housekeeping round
// matches at most.
const matchBatch = 500

// matchUnknowns resolves unknown outcomes whose message a status webhook
// showed sent (see store.Ledger.MatchUnknowns): the recipient is counted
// sent instead of unknown, an mmlite:status event "sent" says so, and the
// statuses of the message that came before are counted and emitted now,
// as they would have been had its wamid been known (see replayPending).
func (w *Worker) matchUnknowns(ctx context.Context) {
	m, err := w.store.Ledger.MatchUnknowns(ctx, matchBatch)
	w.m.unknowns.WithLabelValues(unknownAmbiguous).Add(float64(m.Ambiguous))
	w.m.unknowns.WithLabelValues(unknownExpired).Add(float64(m.Expired))
	if m.Ambiguous > 0 {
		w.log.Info("unknown outcomes left unknown: another attempt, or another message, to the same recipient in their window",
			"outcomes", m.Ambiguous)
	}
	for _, r := range m.Resolved {
		w.m.unknowns.WithLabelValues(unknownResolved).Inc()
		w.log.Info("unknown outcome resolved: a status webhook shows the message sent", "campaign", r.Campaign,
			"to", phone.Mask(r.To))
	}
	if err != nil {
		w.log.Warn("housekeeping: could not match unknown outcomes", "err", err)
	}
	w.replayPending(ctx)
}

// replayPending emits and counts the resolutions kept for it: this round's,
// those a worker that died mid-round (or a Redis error) left, and the
// statuses that came before their send was recorded (early replays, kept
// by the settle). Each stays kept until it is done.
func (w *Worker) replayPending(ctx context.Context) {
	rs, err := w.store.Ledger.Replays(ctx, matchBatch)
	if err != nil {
		w.log.Warn("housekeeping: could not read the resolutions to emit", "err", err)
		return
	}
	for _, r := range rs {
		if err := w.replay(ctx, r); err != nil {
			msg := "unknown outcome resolved, but its event or earlier statuses could not be emitted yet; the next round tries again"
			if r.Early {
				msg = "statuses that came before their send was recorded could not be counted and emitted yet; the next round tries again"
			}
			w.log.Warn(msg, "campaign", r.Campaign, "to", phone.Mask(r.To), "err", err)
			continue
		}
		if err := w.store.Ledger.Replayed(ctx, r); err != nil {
			w.log.Warn("housekeeping: could not drop a resolution emitted", "err", err)
		}
	}
}

// replay counts the statuses of the message kept so far, each once as
// webhooks are, sets off what they would have set off in the webhook
// (guard.Guard.OnStatuses: protections, the fallback guard, counted in
// mmlite_fallback_total), and emits them with the resolution's event, which stands
// for the message's "sent" (the resolution marked it sent); an early
// replay has no resolution, and emits its "sent" as the webhook would
// have. On a single Redis node, each task is written in the step that
// records its event, so a replay done again (a worker died before it
// dropped the resolution) emits nothing twice, even once the first tasks
// were consumed; in Cluster, where the results queue lives in another
// slot, the tasks are written first, and their ids keep a copy still
// queued single.
func (w *Worker) replay(ctx context.Context, r store.Resolution) error {
	var ds []store.Delivery
	var evs []*task.StatusEvent
	var resolved *task.StatusEvent
	if !r.Early {
		resolved = &task.StatusEvent{CampaignID: r.Campaign, To: r.To, WAMID: r.WAMID, Status: task.StatusSent,
			Timestamp: r.At.UTC().Truncate(time.Second), Resolved: true}
		ds = append(ds, store.Delivery{WAMID: r.WAMID, Status: store.StatusResolved, At: r.At.Unix()})
		evs = append(evs, resolved)
	}
	for _, d := range r.Statuses {
		if resolved != nil && resolved.PricingCategory == "" {
			// A message has one pricing category, which its sent
			// status, standing in the resolution's event, would say.
			resolved.PricingCategory = d.Category
		}
		var ev *task.StatusEvent // none for a resolution's "sent": its pricing is recorded, its event is the resolution's
		switch {
		case d.Status != task.StatusSent || resolved == nil:
			ev = &task.StatusEvent{CampaignID: r.Campaign, To: r.To, WAMID: r.WAMID, Status: d.Status,
				PricingCategory: d.Category, Timestamp: time.Unix(d.At, 0).UTC()}
			if d.ErrorCode != 0 {
				ev.Error = &task.Error{Code: d.ErrorCode}
			}
		case d.At > 0:
			resolved.Timestamp = time.Unix(d.At, 0).UTC()
		}
		ds, evs = append(ds, d), append(evs, ev)
	}
	for i, ev := range evs {
		switch {
		case ev == nil:
			continue
		case w.cluster:
			if err := w.emitter.Status(ctx, ev); err != nil {
				return err
			}
			continue
		}
		t, err := w.emitter.StatusTask(ctx, ev)
		if err != nil {
			return err
		}
		ds[i].Task = t
	}
	// What the statuses set off, before they are recorded (as the webhook
	// does): what failed is done again by the next round.
	tracked, err := w.store.Deliveries.Track(ctx, ds)
	if err != nil {
		return err
	}
	var gs []guard.Status
	for i, d := range ds {
		if d.Status != store.StatusResolved {
			g := guard.Status{Campaign: r.Campaign, To: r.To, Status: d.Status, Category: d.Category, Code: d.ErrorCode,
				Seen: tracked[i].Seen, Priced: tracked[i].Priced}
			if d.At > 0 {
				g.At = time.Unix(d.At, 0)
			}
			gs = append(gs, g)
		}
	}
	senders := w.guard.Senders()
	if err := w.guard.OnStatuses(ctx, senders, gs, w.log); err != nil {
		return err
	}
	counted, err := w.store.Deliveries.Record(ctx, ds)
	if err != nil {
		return err
	}
	if err := w.store.Deliveries.FreeFailed(ctx, ds, tracked); err != nil {
		return err
	}
	for _, c := range counted {
		if c.Fallback {
			w.m.fallback.WithLabelValues(senders.SenderOf(ctx, r.Campaign)).Inc()
		}
	}
	return nil
}
