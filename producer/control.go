package producer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Pause stops a campaign's new sends across the fleet at once (workers check
// the state when they claim a recipient). Its waiting jobs are put aside as
// they come due, without churn, until Resume or Cancel.
func (p *Producer) Pause(ctx context.Context, id string) (*campaign.Status, error) {
	tr, err := p.store.Campaigns.Pause(ctx, id, campaign.PauseOperator+": paused by the operator")
	if err != nil {
		return nil, err
	}
	if tr.Changed {
		p.paused.WithLabelValues(campaign.PauseOperator).Inc()
		p.cfg.Logger.Info("campaign paused", "campaign", id)
	}
	return p.store.Campaigns.Status(ctx, id)
}

// Resume lets a paused campaign send again, where it stopped: the jobs put
// aside while it was paused get new slots at the sender's rate after those
// already reserved, so that nothing bursts, nothing is skipped and nothing
// is sent twice; retry backoffs and per-recipient delays keep their times.
// It converges: after a failure at any step, calling it again finishes the
// work (the workers' housekeeping does too, within seconds).
func (p *Producer) Resume(ctx context.Context, id string) (*campaign.Status, error) {
	return p.resume(ctx, id, "")
}

// ResumeFrom is Resume of a campaign paused for a reason that starts with
// pausedFor, checked in the step that resumes it: the guards' Resumer (see
// guard.Resumer), which never runs a campaign an operator paused meanwhile.
func (p *Producer) ResumeFrom(ctx context.Context, id, pausedFor string) error {
	_, err := p.resume(ctx, id, pausedFor)
	return err
}

func (p *Producer) resume(ctx context.Context, id, pausedFor string) (*campaign.Status, error) {
	c, err := p.store.Campaigns.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	tr, err := p.store.Campaigns.ResumeFrom(ctx, id, pausedFor)
	if err != nil {
		return nil, err
	}
	s, err := p.sender(ctx, c.Sender)
	if err != nil {
		return nil, err
	}
	// Jobs that saw the campaign paused just before the resume are on their
	// way to the retry set: wait for them, so that they are brought back too.
	// Jobs still running after the wait (a worker that died with them holds
	// their leases) stay listed, and the workers' housekeeping brings them
	// back once they are parked.
	var inFlight *InFlightError
	if err := p.settleParking(ctx, id); err != nil && !errors.As(err, &inFlight) {
		return nil, err
	} else if err != nil {
		p.cfg.Logger.Warn("campaign resumed while some of its jobs still run", "campaign", id, "error", err)
	}
	u, err := p.store.Campaigns.Unpark(ctx, id, store.Pace{Interval: time.Duration(float64(time.Second) / s.Rate),
		Clock: p.keys.Clock(c.Sender), IdleTTL: clockIdleTTL, Expiry: c.ExpiresUnix()})
	if err != nil {
		return nil, err
	}
	if tr.Changed || u.Moved > 0 {
		p.cfg.Logger.Info("campaign resumed", "campaign", id, "jobs_rescheduled", u.Moved)
	}
	return p.finishIfDone(ctx, id)
}

// Cancel stops a campaign for good, and seals it. When it returns, no send
// of the campaign is in flight (every job a worker was running when the
// state changed has finished) and none will start; every remaining
// recipient is then reported cancelled by the workers, at once rather than
// at its slot. Like Resume, it can be repeated after a failure. A campaign
// waiting for its WABA's onboarding, a paused template or a paused sender
// leaves that wait in the step that cancels it.
//
// When sends are still in flight after Config.CancelWait, the cancel has
// taken effect all the same: Cancel returns the cancelled status with an
// *InFlightError that counts them.
func (p *Producer) Cancel(ctx context.Context, id string) (*campaign.Status, error) {
	if _, err := p.store.Campaigns.Cancel(ctx, id); err != nil {
		return nil, err
	}
	// Even when some jobs still run past the wait, the rest are moved, so
	// that they are reported cancelled; the caller then learns that a send
	// may still be in flight.
	settled := p.settleParking(ctx, id)
	var inFlight *InFlightError
	if settled != nil && !errors.As(settled, &inFlight) {
		return nil, settled
	}
	// Should this stop part-way (or jobs run still), the workers'
	// housekeeping finishes it.
	if _, err := p.store.Campaigns.FinishCancel(ctx, id); err != nil {
		return nil, err
	}
	if inFlight != nil {
		p.cfg.Logger.Warn("campaign cancelled while sends of it are still in flight", "campaign", id, "in_flight", inFlight.Jobs,
			"waited", inFlight.Wait)
		st, err := p.store.Campaigns.Status(ctx, id)
		if err != nil {
			return nil, err
		}
		return st, inFlight
	}
	p.cfg.Logger.Info("campaign cancelled", "campaign", id)
	return p.finishIfDone(ctx, id)
}

// Seal closes a campaign to new recipients: from now on rows for
// recipients it does not have are rejected ("campaign is sealed") while
// duplicates stay harmless, and it completes, once, when every recipient it
// has is final. Sealing again is a no-op.
func (p *Producer) Seal(ctx context.Context, id string) (*campaign.Status, error) {
	sl, err := p.store.Campaigns.Seal(ctx, id)
	if err != nil {
		return nil, err
	}
	if sl.Changed {
		p.cfg.Logger.Info("campaign sealed", "campaign", id)
	}
	if sl.Ended {
		return p.announce(ctx, id)
	}
	return p.store.Campaigns.Status(ctx, id)
}

// InFlightError is a cancel (or resume) that took effect while sends of
// the campaign were still in flight when MMLITE_CANCEL_WAIT ran out: each
// ends with its own outcome (a worker claimed it before the state changed);
// nothing of the campaign starts after them.
type InFlightError struct {
	Campaign string
	Jobs     int           // sends still in flight
	Wait     time.Duration // how long they were waited for
}

// Detail says what the cancel did and what becomes of the sends, for a
// person.
func (e *InFlightError) Detail() string {
	sends, each := "sends of it were", "each"
	if e.Jobs == 1 {
		sends, each = "send of it was", "it"
	}
	return fmt.Sprintf("campaign %s is cancelled; %d %s still in flight after %s: %s ends with its own outcome, "+
		"and nothing of the campaign is sent after it", e.Campaign, e.Jobs, sends, e.Wait, each)
}

func (e *InFlightError) Error() string {
	return fmt.Sprintf("producer: %d jobs of %s still running after %s", e.Jobs, e.Campaign, e.Wait)
}

// settleParking waits until the campaign's jobs that a worker was running
// when its state changed have finished, that is, left asynq's active list
// (jobs whose lease ran out belong to a dead worker and send nothing more).
// After a cancel this means no send is in flight. After a pause, a job that
// saw the campaign paused is put aside (into the retry set) only after its
// handler returns; without this wait, a resume or cancel could look for it
// just before it got there, and it would sleep until the campaign expires.
func (p *Producer) settleParking(ctx context.Context, id string) error {
	// Workers write their leases on their own clocks; a lease counts as run
	// out only well past its time, so that a clock behind ours cannot end
	// the wait while that worker still sends.
	const leaseSkew = 5 * time.Second
	active := func() (map[string]bool, error) {
		ids, err := p.rdb.LRange(ctx, p.keys.AsynqActive(), 0, -1).Result()
		if err != nil {
			return nil, fmt.Errorf("producer: read active jobs: %w", err)
		}
		out := map[string]bool{}
		for _, t := range ids {
			if task.IsSendOf(t, id) {
				out[t] = true
			}
		}
		if len(out) == 0 {
			return out, nil
		}
		leases, err := p.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: p.keys.AsynqLease(), ByScore: true,
			Start: "-inf", Stop: strconv.FormatInt(p.now().Add(-leaseSkew).Unix(), 10)}).Result()
		if err != nil {
			return nil, fmt.Errorf("producer: read leases: %w", err)
		}
		for _, l := range leases {
			delete(out, l.Member.(string))
		}
		return out, nil
	}
	before, err := active()
	if err != nil {
		return err
	}
	deadline := p.now().Add(p.cfg.CancelWait)
	for len(before) > 0 {
		if p.now().After(deadline) {
			return &InFlightError{Campaign: id, Jobs: len(before), Wait: p.cfg.CancelWait}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		now, err := active()
		if err != nil {
			return err
		}
		for t := range before {
			if !now[t] {
				delete(before, t)
			}
		}
	}
	return nil
}

// finishIfDone returns the campaign's status, announcing it when a resume or
// cancel found nothing left to send.
func (p *Producer) finishIfDone(ctx context.Context, id string) (*campaign.Status, error) {
	done, err := p.store.Campaigns.FinishIfDone(ctx, id)
	if err != nil {
		return nil, err
	}
	if done {
		return p.announce(ctx, id)
	}
	return p.store.Campaigns.Status(ctx, id)
}

// announce emits the campaign's event for its new state. A failure is only
// logged: the event waits in the announce set for the workers' housekeeping.
func (p *Producer) announce(ctx context.Context, id string) (*campaign.Status, error) {
	st, err := p.emit.Announce(ctx, p.store.Campaigns, id)
	if err != nil {
		p.cfg.Logger.Error("could not announce the campaign's state; the workers will", "campaign", id, "err", err)
		return p.store.Campaigns.Status(ctx, id)
	}
	return st, nil
}

// Onboarded records a WABA's MM_LITE_TERMS_SIGNED and resumes the campaigns
// that were waiting for it (one whose template Meta paused meanwhile waits
// for the template instead). A campaign leaves the WABA's waiting list only
// once it is resumed, so a webhook delivered again after a failure resumes
// what the first delivery did not.
func (p *Producer) Onboarded(ctx context.Context, waba string, at time.Time) (resumed []string, err error) {
	if _, err := p.senders.SetOnboarded(ctx, waba, at); err != nil {
		return nil, err
	}
	key := p.keys.Onboarding(waba)
	ids, err := p.rdb.SMembers(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("producer: list campaigns waiting for WABA %s: %w", waba, err)
	}
	for _, id := range ids {
		st, err := p.store.Campaigns.Status(ctx, id)
		switch {
		case errors.Is(err, campaign.ErrNotFound):
		case err != nil:
			return resumed, err
		case st.State == campaign.StatePaused && strings.HasPrefix(st.PausedReason, campaign.PauseOnboarding+":"):
			// The WABA is its sender's scope; a campaign whose template is
			// paused waits for its REINSTATED.
			runs, err := guard.ResumeUnlessHeld(ctx, p.store, waba, id, campaign.PauseOnboarding+":", p.ResumeFrom)
			if err != nil {
				return resumed, err
			}
			if runs {
				resumed = append(resumed, id)
			}
		}
		if err := p.rdb.SRem(ctx, key, id).Err(); err != nil {
			return resumed, fmt.Errorf("producer: %w", err)
		}
	}
	return resumed, nil
}
