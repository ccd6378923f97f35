package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
)

// Why a job is bad (the mmlite_bad_jobs_total reason).
const (
	badPayload  = "payload"
	badSender   = "sender"
	badCampaign = "campaign"
	badType     = "type"
)

// finish records a final outcome once, reports it, and tells asynq what to
// do with the job: failed jobs are archived for inspection, others are done.
func (w *Worker) finish(ctx context.Context, j *job, v verdict, resp ...*mmapi.Response) error {
	o := store.Outcome{Status: v.status, Attempts: j.attempts, FinishedAt: time.Now().UnixMilli(), Error: task.ErrorFrom(v.err),
		Components: j.send.Components, Metadata: j.send.Metadata, PhoneNumberID: j.sender.PhoneNumberID}
	if o.Error == nil {
		o.Error = v.lastErr
	}
	if len(resp) > 0 {
		o.WAMID, o.MessageStatus = resp[0].WAMID(), resp[0].MessageStatus()
	}
	if err := w.record(ctx, j.send, j.sender.ID, o, j.place, j.refused); err != nil {
		return err
	}
	return outcomeErr(o)
}

// reemit makes sure the result of an outcome an earlier run recorded is
// reported, once. On a single Redis node the settle enqueued it in the same
// step as the outcome, so there is nothing to do; in Cluster the result is
// enqueued apart, and the earlier run may have stopped in between: the
// emitter's marker keeps it single.
func (w *Worker) reemit(ctx context.Context, j *job, o *store.Outcome) error {
	if !w.cluster {
		w.log.Debug("job ran again after its outcome was recorded; its result was reported then", j.log(), "status", o.Status)
		return nil
	}
	w.log.Info("job ran again after its outcome was recorded; making sure its result is reported", j.log(), "status", o.Status)
	return w.emitResult(ctx, resultOf(j.send, j.sender.ID, *o))
}

// record settles an outcome once and reports it: its result task (written by
// the settle itself on a single Redis node, by the emitter in Cluster), its
// count and its log line. The settle gives place back when the send was
// refused, or keeps it with the message (see store.Ledger.WithPlace).
func (w *Worker) record(ctx context.Context, s *task.Send, senderID string, o store.Outcome, place *store.Place, refused bool) error {
	r := resultOf(s, senderID, o)
	var rt *store.ResultTask
	if !w.cluster {
		var err error
		if rt, err = w.emitter.ResultTask(r); err != nil {
			return err
		}
	}
	var settled store.Settled
	err := w.persist(ctx, func() (err error) {
		settled, err = w.store.Ledger.WithPlace(place, refused).Settle(ctx, s.Campaign, s.To, o, w.cfg.failurePolicy(), rt)
		return err
	})
	if err != nil {
		return err
	}
	if settled == store.Duplicate {
		w.log.Warn("outcome already recorded by another attempt; not counted again", "campaign", s.Campaign,
			"to", phone.Mask(s.To), "status", o.Status)
		if w.cluster {
			// The settle may be this one's, sent again after its answer was
			// lost; its result was not enqueued then. The marker keeps it single.
			return w.emitResult(ctx, r)
		}
		return nil
	}
	if rt == nil || settled == store.Gone {
		if err := w.emitResult(ctx, r); err != nil {
			return err
		}
	}
	w.count(s, senderID, o)
	w.settled(ctx, s.Campaign, settled)
	return nil
}

// count counts and logs a reported outcome.
func (w *Worker) count(s *task.Send, senderID string, o store.Outcome) {
	w.m.messages.WithLabelValues(senderID, o.Status).Inc()
	if o.Status == task.StatusSent && !w.log.Enabled(context.Background(), slog.LevelDebug) {
		return // the common case logs nothing: build no line for it
	}
	attrs := []any{"campaign", s.Campaign, "to", phone.Mask(s.To), "sender", senderID, "status", o.Status, "attempts", o.Attempts}
	if o.Error != nil {
		attrs = append(attrs, "class", o.Error.Class, "code", o.Error.Code, "http_status", o.Error.HTTPStatus, "error", phone.MaskIn(o.Error.Title))
	}
	if o.Status == task.StatusSent {
		w.log.Debug("send finished", attrs...)
	} else {
		w.log.Info("send finished", attrs...)
	}
}

func resultOf(s *task.Send, senderID string, o store.Outcome) *task.Result {
	return &task.Result{CampaignID: s.Campaign, To: s.To, Sender: senderID, Status: o.Status, WAMID: o.WAMID,
		MessageStatus: o.MessageStatus, Error: o.Error, Attempts: o.Attempts,
		FinishedAt: time.UnixMilli(o.FinishedAt).UTC(), Metadata: s.Metadata}
}

// emitResult emits a result once (see package emit), waiting for Redis
// while it is down.
func (w *Worker) emitResult(ctx context.Context, r *task.Result) error {
	return w.persist(ctx, func() error { return w.emitter.Result(ctx, r) })
}

// settled acts on what a settle did to the campaign as a whole.
func (w *Worker) settled(ctx context.Context, id string, s store.Settled) {
	switch s {
	case store.Completed:
		w.announce(ctx, id)
	case store.AutoPaused:
		w.m.paused.WithLabelValues(campaign.PauseFailureRatio).Inc()
		w.announce(ctx, id)
	}
}

// announce emits a campaign event: its final state once it has no
// outstanding recipient, or an automatic pause. A failure is only logged:
// the event waits in the announce set for the housekeeping.
func (w *Worker) announce(ctx context.Context, id string) {
	st, err := w.emitter.Announce(ctx, w.store.Campaigns, id)
	if err != nil {
		w.log.Error("could not announce the campaign's state; housekeeping will", "campaign", id, "err", err)
		return
	}
	if st == nil {
		return
	}
	if st.State == campaign.StatePaused {
		w.log.Warn("campaign paused", "campaign", id, "reason", phone.MaskIn(st.PausedReason))
		return
	}
	if st.FinishedAt == nil {
		// Nothing to announce: a pause resumed before it was announced, a
		// cancel whose last recipients are still settling.
		return
	}
	w.log.Info("campaign finished", "campaign", id, "state", st.State, "sent", st.Counts.Sent,
		"failed", st.Counts.Failed, "expired", st.Counts.Expired, "unknown", st.Counts.Unknown, "cancelled", st.Counts.Cancelled)
}

// outcomeErr archives failed jobs, so that asynqmon shows them with their
// error; every other final outcome simply completes the job.
func outcomeErr(o store.Outcome) error {
	if o.Status != task.StatusFailed {
		return nil
	}
	reason := "failed"
	if o.Error != nil {
		reason = fmt.Sprintf("failed: %s: code %d: %s", o.Error.Class, o.Error.Code, o.Error.Title)
	}
	return fmt.Errorf("%s: %w", reason, asynq.SkipRetry)
}

// badJob archives a job that can never be sent, and reports it as failed
// when it names a campaign and recipient.
func (w *Worker) badJob(ctx context.Context, id string, s *task.Send, reason string, cause error) error {
	w.m.badJobs.WithLabelValues(reason).Inc()
	w.log.Error("bad job archived", "reason", reason, "err", cause)
	if s != nil {
		senderID := "unknown"
		if w.senders[s.SenderID()] != nil {
			senderID = s.SenderID()
		}
		o := store.Outcome{Status: task.StatusFailed, FinishedAt: time.Now().UnixMilli(),
			Error:      &task.Error{Title: "bad job: " + cause.Error(), Class: task.ClassBadJob},
			Components: s.Components, Metadata: s.Metadata}
		if err := w.record(ctx, s, senderID, o, nil, false); err != nil {
			return err
		}
	}
	return fmt.Errorf("bad job (%s): %v: %w", reason, cause, asynq.SkipRetry)
}
