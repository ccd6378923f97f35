package worker

import (
	"context"
	"time"

	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
)

// The fleet's housekeeping makes every control converge without a second
// call: it announces the campaign events a crash or a Redis error left
// unannounced, brings back the parked jobs of campaigns that run again (or
// were cancelled) but still have some (a resume cut short, a job parked just
// after the resume looked), makes the remaining jobs of cancelled campaigns
// due (a cancel cut short, a job retried after the cancel looked), and takes
// retired campaigns out of the index.
// Every step can run any number of times; a lock keeps it to one worker
// per round.

// housekeep runs a round every HousekeepingInterval until ctx ends.
func (w *Worker) housekeep(ctx context.Context) {
	t := time.NewTicker(w.cfg.HousekeepingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.housekeepOnce(ctx)
	}
}

// housekeepOnce runs one round if no other worker holds this round's lock.
func (w *Worker) housekeepOnce(ctx context.Context) {
	ok, err := w.rdb.SetNX(ctx, w.keys.Janitor(), w.id, w.cfg.HousekeepingInterval*9/10).Result()
	if err != nil || !ok {
		return
	}
	w.announcePending(ctx)
	w.bringBackParked(ctx)
	w.finishCancels(ctx)
	if _, err := w.store.Campaigns.Retire(ctx, 1000); err != nil {
		w.log.Warn("housekeeping: could not retire expired campaigns", "err", err)
	}
	w.matchUnknowns(ctx)
}

func (w *Worker) announcePending(ctx context.Context) {
	ids, err := w.store.Campaigns.ToAnnounce(ctx)
	if err != nil {
		w.log.Warn("housekeeping: could not list campaigns to announce", "err", err)
		return
	}
	for _, id := range ids {
		w.announce(ctx, id)
	}
}

// finishCancels makes the remaining jobs of cancelled campaigns due, until
// none can be left (see store.Campaigns.FinishCancel), and ends a campaign
// that has nothing left.
func (w *Worker) finishCancels(ctx context.Context) {
	ids, err := w.store.Campaigns.Cancelling(ctx)
	if err != nil {
		w.log.Warn("housekeeping: could not list cancelled campaigns", "err", err)
		return
	}
	for _, id := range ids {
		done, err := w.store.Campaigns.FinishCancel(ctx, id)
		if err != nil {
			w.log.Warn("housekeeping: could not make a cancelled campaign's jobs due", "campaign", id, "err", err)
			continue
		}
		if !done {
			continue
		}
		if ended, err := w.store.Campaigns.FinishIfDone(ctx, id); err != nil {
			w.log.Warn("housekeeping: could not end a cancelled campaign", "campaign", id, "err", err)
		} else if ended {
			w.announce(ctx, id)
		}
	}
}

func (w *Worker) bringBackParked(ctx context.Context) {
	ids, err := w.store.Campaigns.Parking(ctx)
	if err != nil {
		w.log.Warn("housekeeping: could not list campaigns with parked jobs", "err", err)
		return
	}
	var published map[string]sender.Published
	for _, id := range ids {
		st, err := w.store.Campaigns.State(ctx, id)
		if err != nil {
			w.log.Warn("housekeeping: could not read a campaign's state", "campaign", id, "err", err)
			continue
		}
		var pace store.Pace
		switch st {
		case campaign.StatePaused:
			continue
		case campaign.StateRunning, campaign.StateCompleted:
			c, err := w.campaigns.get(ctx, id)
			if err != nil {
				continue
			}
			if published == nil {
				if published, err = registry.New(w.rdb, w.keys).All(ctx); err != nil {
					return
				}
			}
			rate := published[c.Sender].Rate
			if s := w.senders[c.Sender]; s != nil {
				rate = s.Rate
			}
			if rate <= 0 {
				rate = sender.DefaultRate
			}
			pace = store.Pace{Interval: time.Duration(float64(time.Second) / rate), Clock: w.keys.Clock(c.Sender), IdleTTL: time.Hour,
				Expiry: c.ExpiresUnix()}
		}
		u, err := w.store.Campaigns.Unpark(ctx, id, pace)
		if err != nil {
			w.log.Warn("housekeeping: could not bring back parked jobs", "campaign", id, "err", err)
			continue
		}
		if u.Moved > 0 {
			w.log.Info("housekeeping: brought back the parked jobs of a campaign that runs again", "campaign", id, "jobs", u.Moved)
		}
	}
}
