package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// A campaign's hash tells its state, counts, rate and slots (see Status).
// Why a running campaign with recipients left sends nothing takes a few
// more reads, bounded whatever the queue's size: whether any worker serves
// the send queue, whether the provider throttled the sender, and, once
// every slot of the campaign has passed, where its remaining jobs are among
// the first probeScan of asynq's lists and sets (a job further back is not
// looked for: the status then says less rather than cost more).

// probeScan is how many entries of an asynq list or set a probe reads.
const probeScan = 1000

// Probe reads what statuses need beyond their campaigns' hashes, each
// thing once: one probe serves a whole list of campaigns. It is not safe
// for concurrent use.
type Probe struct {
	s      Campaigns
	now    time.Time
	served *bool
	holds  map[string]time.Time
	lists  map[string][]string  // asynq list -> its first ids
	read   map[string]bool      // what was read
	byKey  map[string][]redis.Z // asynq sorted set -> its first entries by time
	// published are the published senders, once read (see limitWait).
	published map[string]sender.Published
}

// NewProbe returns a probe for statuses read now.
func (s Campaigns) NewProbe() *Probe {
	return &Probe{s: s, now: s.now(), holds: map[string]time.Time{}, lists: map[string][]string{}, read: map[string]bool{}}
}

// Live is a campaign's status with everything it can say of why it waits.
func (s Campaigns) Live(ctx context.Context, id string) (*campaign.Status, error) {
	return s.NewProbe().Status(ctx, id)
}

// LiveWithRates is Live with the campaign's rate history (see
// rateHistory), from the same read of its hash.
func (s Campaigns) LiveWithRates(ctx context.Context, id string) (*campaign.Status, []RatePoint, error) {
	p := s.NewProbe()
	st, h, err := p.status(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return st, rateHistory(h, p.now), nil
}

// Status is the campaign's live status.
func (p *Probe) Status(ctx context.Context, id string) (*campaign.Status, error) {
	st, _, err := p.status(ctx, id)
	return st, err
}

// status is Status with the campaign's hash it was read from.
func (p *Probe) status(ctx context.Context, id string) (*campaign.Status, map[string]string, error) {
	h, err := p.s.rdb.HGetAll(ctx, p.s.keys.Campaign(id)).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("campaign: status %s: %w", id, err)
	}
	st, sl, err := statusOf(id, h, p.now)
	if err == nil {
		err = limitWait(ctx, st, p.senders)
	}
	if err != nil {
		return nil, nil, err
	}
	return st, h, p.refine(ctx, st, sl)
}

// refine adds to a running campaign with recipients left what its hash
// cannot tell: no worker, a throttled sender, a retry backoff.
func (p *Probe) refine(ctx context.Context, st *campaign.Status, sl slots) error {
	if st.State != campaign.StateRunning || st.Counts.Enqueued-st.Counts.Final() <= 0 {
		return nil
	}
	served, err := p.servedQueue(ctx)
	if err != nil {
		return err
	}
	if !served {
		st.Waiting = &campaign.Waiting{Reason: campaign.WaitNoWorkers,
			Detail: "no worker serves the send queue " + p.s.keys.Queue() + ": start mmlite worker"}
		st.ETA = nil
		return nil
	}
	hold, err := p.hold(ctx, st.Sender)
	if err != nil {
		return err
	}
	if hold.After(p.now) && (st.Waiting == nil || st.Waiting.Until == nil || hold.After(*st.Waiting.Until)) {
		st.Waiting = &campaign.Waiting{Reason: campaign.WaitThrottled, Until: utc(hold),
			Detail: fmt.Sprintf("the provider throttled the sender %s; it sends again after its Retry-After", st.Sender)}
		st.NextSendAt = utc(hold)
	}
	if st.Waiting == nil && (sl.last.IsZero() || sl.last.Before(p.now)) {
		if err := p.locate(ctx, st); err != nil {
			return err
		}
	}
	st.ETA = eta(st, sl, p.now)
	return nil
}

// locate looks for the campaign's remaining jobs once all its slots have
// passed: due (pending or running) means it sends; else the earliest in
// the retry set is when it sends next.
func (p *Probe) locate(ctx context.Context, st *campaign.Status) error {
	for _, list := range []string{p.s.keys.AsynqActive(), p.s.keys.AsynqPending()} {
		ids, err := p.list(ctx, list)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if task.IsSendOf(id, st.ID) {
				st.NextSendAt = utc(p.now)
				return nil
			}
		}
	}
	for _, set := range []string{p.s.keys.AsynqRetry(), p.s.keys.AsynqScheduled()} {
		zs, err := p.set(ctx, set)
		if err != nil {
			return err
		}
		for _, z := range zs {
			id, _ := z.Member.(string)
			if !task.IsSendOf(id, st.ID) {
				continue
			}
			at := time.Unix(int64(z.Score), 0)
			if at.Before(p.now) {
				at = p.now
			}
			st.NextSendAt = utc(at)
			if set == p.s.keys.AsynqRetry() && at.After(p.now.Add(time.Second)) {
				st.Waiting = &campaign.Waiting{Reason: campaign.WaitRetryBackoff, Until: utc(at),
					Detail: "the recipients left wait to be retried (a transient error's backoff, or a per-recipient delay such as a 131049 cooldown)"}
			}
			return nil
		}
	}
	return nil
}

// servedQueue reports whether a live asynq server (a worker) serves the
// send queue.
func (p *Probe) servedQueue(ctx context.Context) (bool, error) {
	if p.served != nil {
		return *p.served, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	ins := asynq.NewInspectorFromRedisClient(p.s.rdb)
	srvs, err := ins.Servers()
	if err != nil {
		return false, fmt.Errorf("campaign: list workers: %w", err)
	}
	served := false
	for _, s := range srvs {
		if _, ok := s.Queues[p.s.keys.Queue()]; ok && s.Status != "closed" {
			served = true
		}
	}
	p.served = &served
	return served, nil
}

// hold is the time before which the provider's throttling holds a sender.
// Hold is when a sender's throttle (the provider's Retry-After) ends; zero
// when it was never throttled.
func (p *Probe) Hold(ctx context.Context, sender string) (time.Time, error) {
	return p.hold(ctx, sender)
}

func (p *Probe) hold(ctx context.Context, sender string) (time.Time, error) {
	if t, ok := p.holds[sender]; ok {
		return t, nil
	}
	v, err := p.s.rdb.HGet(ctx, p.s.keys.Backoff(sender), "hold").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return time.Time{}, fmt.Errorf("campaign: read the backoff of %s: %w", sender, err)
	}
	var t time.Time
	if ms, _ := strconv.ParseInt(v, 10, 64); ms > 0 {
		t = time.UnixMilli(ms)
	}
	p.holds[sender] = t
	return t, nil
}

func (p *Probe) list(ctx context.Context, key string) ([]string, error) {
	if p.read[key] {
		return p.lists[key], nil
	}
	ids, err := p.s.rdb.LRange(ctx, key, 0, probeScan-1).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: read %s: %w", key, err)
	}
	p.lists[key], p.read[key] = ids, true
	return ids, nil
}

func (p *Probe) set(ctx context.Context, key string) ([]redis.Z, error) {
	if p.read[key] {
		return p.byKey[key], nil
	}
	zs, err := p.s.rdb.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: key, ByScore: true, Start: "-inf", Stop: "+inf",
		Count: probeScan}).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: read %s: %w", key, err)
	}
	if p.byKey == nil {
		p.byKey = map[string][]redis.Z{}
	}
	p.byKey[key], p.read[key] = zs, true
	return zs, nil
}
