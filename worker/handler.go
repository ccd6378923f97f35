package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/phone"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
)

// job is one send job with what it needs.
type job struct {
	id       string
	send     *task.Send
	sender   *sender.Sender
	campaign *campaign.Campaign
	retried  int // failed attempts so far (asynq's count)
	maxRetry int
	attempts int       // sends made so far, from the ledger
	delays   int       // per-recipient delays so far, from the ledger
	slot     time.Time // the rate-limit slot it took (zero: none)
	// place is the place in its messaging limit's window its claim took
	// (nil: none); refused, that the API refused the send, which reached no
	// one: its release or settle gives the place back (see
	// store.Ledger.WithPlace).
	place   *store.Place
	refused bool
}

func (j *job) log() slog.Attr {
	return slog.Group("job", slog.String("campaign", j.send.Campaign), slog.String("to", phone.Mask(j.send.To)),
		slog.String("sender", j.send.SenderID()))
}

// ProcessTask implements asynq.Handler for the send queue. A job that
// failed because Redis is unavailable returns once Redis answers again, so
// that asynq can put it back then (see outage.go).
func (w *Worker) ProcessTask(ctx context.Context, t *asynq.Task) error {
	err := w.process(ctx, t)
	if w.redisDown(ctx, err) {
		w.awaitRedis(ctx)
	}
	return err
}

// process runs one send job.
func (w *Worker) process(ctx context.Context, t *asynq.Task) error {
	if t.Type() == task.TypeTest {
		return w.test(ctx, t)
	}
	if t.Type() != task.TypeSend {
		w.m.badJobs.WithLabelValues(badType).Inc()
		w.log.Error("job of unknown type archived", "type", t.Type())
		return fmt.Errorf("worker: unknown task type %q: %w", t.Type(), asynq.SkipRetry)
	}
	j, err := w.load(ctx, t)
	if err != nil {
		return err
	}
	if j.send.Expired(time.Now()) {
		return w.expire(ctx, j)
	}
	// A cancelled campaign's jobs do not wait for a slot: the claim below
	// reports them cancelled.
	skipped := w.cancels.cancelled(ctx, j.send.Campaign)
	if !skipped {
		start, ok, retryIn := w.shares.take(j.sender.ID)
		if !ok {
			return w.reschedule(j, jitter(retryIn, retryIn/8), reasonShare, errors.New("sender holds its share of the worker's slots"))
		}
		w.m.slots.WithLabelValues(j.sender.ID).Inc()
		defer func() {
			w.shares.done(j.sender.ID, start)
			w.m.slots.WithLabelValues(j.sender.ID).Dec()
		}()
		if err := w.waitTurn(ctx, j); err != nil {
			return err
		}
	}
	if j.send.Expired(time.Now()) {
		w.giveBack(j)
		return w.expire(ctx, j)
	}
	// A job that skipped its wait only looks at the campaign: it must not
	// send without a slot should the campaign not be cancelled after all.
	cl, err := w.store.Ledger.Claim(ctx, j.send.Campaign, j.send.To, store.ClaimOptions{StaleAfter: w.staleAfter(),
		AtLeastOnce: w.cfg.AtLeastOnce, CheckOnly: skipped, Guard: w.claimGuard(ctx, j.sender)})
	if err != nil {
		return err
	}
	j.attempts, j.delays, j.place = cl.Attempts, cl.Delays, cl.Place
	if cl.Verdict != store.Claimed {
		w.giveBack(j)
	}
	switch cl.Verdict {
	case store.Claimed:
		return w.send(ctx, j)
	case store.Claimable: // not cancelled after all (Redis lost the cancel): back for a slot
		w.cancels.forget(j.send.Campaign)
		return w.reschedule(j, 100*time.Millisecond, reasonRateLimit, errors.New("campaign not cancelled after all: taking a rate-limit slot"))
	case store.Final:
		return w.reemit(ctx, j, cl.Prior)
	case store.Busy:
		return w.reschedule(j, jitter(cl.RetryIn, time.Second), reasonInFlight, errors.New("an earlier attempt may still be in flight"))
	case store.Stale:
		return w.finish(ctx, j, verdict{status: task.StatusUnknown, err: errStaleAttempt})
	case store.Paused:
		return w.park(j, cl.Reason)
	case store.Cancelled:
		return w.finish(ctx, j, verdict{status: task.StatusCancelled})
	case store.Suppressed, store.Cooldown, store.Limited:
		return w.held(ctx, j, cl)
	}
	return w.badJob(ctx, j.id, j.send, badCampaign, fmt.Errorf("campaign %s has no state in Redis", j.send.Campaign))
}

// load decodes the job and finds its sender and campaign.
func (w *Worker) load(ctx context.Context, t *asynq.Task) (*job, error) {
	id, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	s, err := task.DecodeSend(t.Payload())
	if err != nil {
		return nil, w.badJob(ctx, id, sendFromID(id), badPayload, err)
	}
	snd := w.senders[s.SenderID()]
	if snd == nil {
		return nil, w.badJob(ctx, id, s, badSender, fmt.Errorf("sender %q is not configured in this worker", s.SenderID()))
	}
	c, err := w.campaigns.get(ctx, s.Campaign)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, w.badJob(ctx, id, s, badCampaign, err)
	}
	if err != nil {
		return nil, err
	}
	return &job{id: id, send: s, sender: snd, campaign: c, retried: retried, maxRetry: maxRetry}, nil
}

// waitTurn waits for the sender's next slot, or puts the job back when the
// slot is further away than MaxWait, without spending a retry.
func (w *Worker) waitTurn(ctx context.Context, j *job) error {
	wait, ok, err := w.limiter.Reserve(ctx, j.sender.ID, w.cfg.MaxWait)
	if err != nil {
		return err
	}
	if !ok {
		return w.reschedule(j, jitter(wait, wait/2+100*time.Millisecond), reasonRateLimit, errors.New("sender at its rate limit"))
	}
	j.slot = time.Now().Add(wait) // the slot's own time, also for a slot given back earlier
	w.m.wait.WithLabelValues(j.sender.ID).Observe(max(wait, 0).Seconds())
	if wait <= 0 {
		return nil
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	// The provider may have throttled the sender while this job waited for
	// its slot: its Retry-After holds the job too.
	hold, err := w.limiter.Held(ctx, j.sender.ID)
	if err != nil {
		return err
	}
	if hold > 0 {
		return w.reschedule(j, jitter(hold, hold/2+100*time.Millisecond), reasonThrottled, errors.New("sender held after a throttle"))
	}
	return nil
}

// protectTimeout bounds the writes of a protection after an error answer.
const protectTimeout = 10 * time.Second

// giveBack returns the job's slot, which no send used, to the limiter: a
// job the claim holds (paused, suppressed, in cooldown, over the messaging
// limit, already final) costs the sender none of its rate.
func (w *Worker) giveBack(j *job) {
	if !j.slot.IsZero() {
		w.limiter.Unused(j.sender.ID, j.slot)
		j.slot = time.Time{}
	}
}

// answered reads the failure of a send (of a campaign or a test) as the
// API's answer, counts it, and applies what it says beyond this message
// (see protect). A failure that is no answer (the message could not even
// be built) is a permanent one: nothing was sent. The protection is
// written past the job's own end, as the outcome is; should it fail
// anyway, the send's outcome is still recorded: a refused send must not
// end unknown.
func (w *Worker) answered(ctx context.Context, j *job, err error) *mmapi.Error {
	var e *mmapi.Error
	if !errors.As(err, &e) {
		e = &mmapi.Error{Class: mmapi.ClassPermanent, Title: err.Error()}
	}
	w.m.requests.WithLabelValues(j.sender.ID, e.Class.String()).Inc()
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), protectTimeout)
	defer cancel()
	if err := w.persist(pctx, func() error { return w.protect(pctx, j, e) }); err != nil {
		w.m.protectFailed.Inc()
		w.log.Error("protection after an error answer not applied", j.log(), "code", e.Code, "err", err)
	}
	return e
}

// send calls the API once and acts on the outcome.
func (w *Worker) send(ctx context.Context, j *job) error {
	msg := j.campaign.Message(j.send.To, j.send.Components)
	start := time.Now()
	w.m.inflight.Inc()
	resp, err := w.client.Send(ctx, j.sender.Endpoint(), msg)
	w.m.inflight.Dec()
	w.m.duration.WithLabelValues(j.sender.ID).Observe(time.Since(start).Seconds())
	if err == nil {
		w.m.requests.WithLabelValues(j.sender.ID, mmapi.ClassOK.String()).Inc()
		return w.finish(ctx, j, verdict{status: task.StatusSent}, resp)
	}
	e := w.answered(ctx, j, err)
	if e.Class != mmapi.ClassAmbiguous { // refused: no message exists
		j.refused = true
	}
	v := w.decide(j, e)
	if v.throttle {
		w.m.throttled.WithLabelValues(j.sender.ID).Inc()
		w.limiter.Throttled(ctx, j.sender.ID, e.RetryAfter)
	}
	if v.fatal {
		return w.pauseCampaign(ctx, j, e)
	}
	if v.status != "" {
		return w.finish(ctx, j, v)
	}
	// Not sent: give the claim back so that the retry may send.
	if err := w.release(ctx, j, v.delays, e); err != nil {
		return err
	}
	if !v.retry.failure {
		w.m.rescheduled.WithLabelValues(j.sender.ID, v.retry.reason).Inc()
	}
	w.log.Debug("send will be retried", j.log(), "class", e.Class.String(), "code", e.Code, "in", v.retry.delay)
	return v.retry
}

// release gives the recipient's claim back: the message was not sent.
func (w *Worker) release(ctx context.Context, j *job, delays int, e *mmapi.Error) error {
	return w.persist(ctx, func() error {
		return w.store.Ledger.WithPlace(j.place, j.refused).Release(ctx, j.send.Campaign, j.send.To, j.attempts, delays, task.ErrorFrom(e))
	})
}

// reschedule puts the job back without spending a retry.
func (w *Worker) reschedule(j *job, d time.Duration, reason string, err error) error {
	w.m.rescheduled.WithLabelValues(j.sender.ID, reason).Inc()
	return &retryError{delay: d, reason: reason, err: err}
}

// park puts a job of a paused campaign aside without spending a retry: it
// sleeps in asynq's retry set until the campaign's expiry, and resume or
// cancel brings it back at once. It does not churn while it waits.
func (w *Worker) park(j *job, reason string) error {
	until := parkFor
	if j.send.ExpiresAt != 0 {
		until = time.Until(time.Unix(j.send.ExpiresAt, 0)) + time.Second
	}
	return w.reschedule(j, max(until, time.Second), reasonPaused, fmt.Errorf("campaign paused: %s", reason))
}

// parkFor is how long a paused job without expiry sleeps: longer than most
// campaigns live (see campaign.DefaultLifetime and Retention); one that
// wakes with its campaign still paused parks again.
const parkFor = 90 * 24 * time.Hour

// pauseCampaign stops a campaign after an error that every further send
// would hit too, instead of failing its remaining recipients: this
// recipient's claim is given back and its job parked with the rest. The
// operator fixes the cause and resumes. The claim is given back first, and
// the pause written as soon as Redis answers: a pause that cannot be
// written must not leave the refused recipient claimed, to be reported
// unknown (never sent) once its claim is stale; its job runs again instead.
func (w *Worker) pauseCampaign(ctx context.Context, j *job, e *mmapi.Error) error {
	if err := w.release(ctx, j, j.delays, e); err != nil {
		return err
	}
	reason := fmt.Sprintf("%s: code %d (HTTP %d): %s", campaign.PauseCampaignFatal, e.Code, e.HTTPStatus, e.Title)
	var tr store.Transition
	err := w.persist(ctx, func() (err error) {
		tr, err = w.store.Campaigns.PauseAutomatically(ctx, j.send.Campaign, reason, task.ErrorFrom(e))
		return err
	})
	if err != nil && !errors.Is(err, campaign.ErrState) {
		return err
	}
	if tr.Changed {
		w.m.paused.WithLabelValues(campaign.PauseCampaignFatal).Inc()
		w.log.Error("campaign paused: every further send would fail the same way; fix the cause and resume it",
			"campaign", j.send.Campaign, "sender", j.sender.ID, "code", e.Code, "http_status", e.HTTPStatus, "error", phone.MaskIn(e.Title))
		w.announce(ctx, j.send.Campaign)
	}
	if err == nil || tr.From == campaign.StatePaused {
		if err := w.store.Campaigns.Park(ctx, j.send.Campaign, j.send.To); err != nil {
			return err
		}
		return w.park(j, reason)
	}
	// Cancelled meanwhile: the recipient is reported as such.
	return w.finish(ctx, j, verdict{status: task.StatusCancelled})
}

// errStaleAttempt is the error of a recipient whose earlier attempt never
// settled.
var errStaleAttempt = &mmapi.Error{Class: mmapi.ClassAmbiguous,
	Title: "an earlier attempt did not finish (worker stopped or lease lost); the message may have been sent"}

// expire ends a job that comes up after its campaign's expires_at, before
// any claim: expired, with the attempts made and the last error when
// earlier attempts failed, or the outcome an earlier attempt left (one that
// may still be in flight is waited for, one that never settled is unknown).
func (w *Worker) expire(ctx context.Context, j *job) error {
	m, err := w.store.Ledger.Marker(ctx, j.send.Campaign, j.send.To)
	if err != nil {
		return err
	}
	j.attempts = m.Attempts
	switch {
	case m.Kind == 'F':
		return w.reemit(ctx, j, m.Outcome)
	case m.Kind == 'C' && time.Since(m.At) < w.staleAfter():
		return w.reschedule(j, jitter(w.staleAfter()-time.Since(m.At), time.Second), reasonInFlight, errors.New("an earlier attempt may still be in flight"))
	case m.Kind == 'C':
		return w.finish(ctx, j, verdict{status: task.StatusUnknown, err: errStaleAttempt})
	}
	return w.finish(ctx, j, verdict{status: task.StatusExpired, lastErr: m.LastError})
}

// staleAfter is how old a claim must be before it cannot still be in flight.
func (w *Worker) staleAfter() time.Duration { return w.cfg.HTTPTimeout + w.cfg.MaxWait + 5*time.Second }

// sendFromID recovers campaign and recipient from a task id "campaign:to".
func sendFromID(id string) *task.Send {
	c, to, ok := strings.Cut(id, ":")
	if !ok {
		return nil
	}
	return &task.Send{Campaign: c, To: to}
}
