package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// FinishCancel makes the remaining jobs of a cancelled campaign due now,
// so that the workers report them cancelled in seconds rather than at
// their slots: those it put aside while paused (see Unpark), and those
// waiting in asynq's scheduled and retry sets; and gives back the slots
// of the sender it will not use (see giveBackSlots). The cancel lists the
// campaign (keyspace.Cancelling) in the step that cancels it, and
// FinishCancel lets it go once no job of it is in flight, checked before
// the sets are read: from then on a job of it can only be pending (whose
// claim reports it cancelled) or done; one that comes back to a set is an
// attempt that may have sent (busy: see Ledger.Claim), due by itself.
// Until then it can be run again, by anyone (the producer's Cancel, then
// the workers' housekeeping), so that a cancel cut short after its state
// changed still ends. It says whether the campaign was let go; a campaign
// not cancelled (or gone) is let go at once.
func (s Campaigns) FinishCancel(ctx context.Context, id string) (done bool, err error) {
	state, err := s.State(ctx, id)
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		return true, s.letGo(ctx, id)
	case err != nil:
		return false, err
	case state != campaign.StateCancelled:
		return true, s.letGo(ctx, id)
	}
	running, err := s.running(ctx, id)
	if err != nil {
		return false, err
	}
	if _, err := s.Unpark(ctx, id, Pace{}); err != nil {
		return false, err
	}
	for _, set := range []string{s.keys.AsynqScheduled(), s.keys.AsynqRetry()} {
		if err := s.makeDue(ctx, id, set); err != nil {
			return false, err
		}
	}
	if err := s.giveBackSlots(ctx, id); err != nil {
		return false, err
	}
	if running {
		return false, nil
	}
	return true, s.letGo(ctx, id)
}

// Cancelling lists the cancelled campaigns whose remaining jobs may still
// wait at their slots (see FinishCancel).
func (s Campaigns) Cancelling(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.keys.Cancelling()).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: list cancelling campaigns: %w", err)
	}
	return ids, nil
}

func (s Campaigns) letGo(ctx context.Context, id string) error {
	if err := s.rdb.SRem(ctx, s.keys.Cancelling(), id).Err(); err != nil {
		return fmt.Errorf("campaign: %w", err)
	}
	return nil
}

// running says whether a job of the campaign is in asynq's active list: a
// worker runs it, or ran it and died (asynq's recoverer then moves it to
// the retry set).
func (s Campaigns) running(ctx context.Context, id string) (bool, error) {
	ids, err := s.rdb.LRange(ctx, s.keys.AsynqActive(), 0, -1).Result()
	if err != nil {
		return false, fmt.Errorf("campaign: read active jobs: %w", err)
	}
	for _, t := range ids {
		if task.IsSendOf(t, id) {
			return true, nil
		}
	}
	return false, nil
}

// makeDue gives the campaign's jobs in an asynq sorted set (scheduled or
// retry) the time now, in batches.
func (s Campaigns) makeDue(ctx context.Context, id, set string) error {
	var cursor uint64
	for {
		members, next, err := s.rdb.ZScan(ctx, set, cursor, id+":*", 1000).Result()
		if err != nil {
			return fmt.Errorf("campaign: scan %s: %w", set, err)
		}
		args := []any{s.now().Unix()}
		for i := 0; i < len(members); i += 2 { // ZSCAN returns member, score pairs
			if task.IsSendOf(members[i], id) { // not a test send of a campaign named test
				args = append(args, members[i])
			}
		}
		if len(args) > 1 {
			if err := dueScript.Run(ctx, s.rdb, []string{set}, args...).Err(); err != nil {
				return fmt.Errorf("campaign: make jobs due: %w", err)
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// dueScript gives members of an asynq sorted set the time now, skipping
// those that left it meanwhile. KEYS: 1 the set. ARGV: 1 now (unix s), then
// the members.
var dueScript = redis.NewScript(`
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[i])
end
return 0
`)

// giveBackSlots gives a cancelled campaign's run of slots at the end of
// its sender's pacing clock back to the sender (see LuaSlots): the clock
// goes back to where the run began, or to now when it began earlier, so
// that the next campaign of the sender does not wait for the slots no job
// of the cancelled one will use (its jobs are due at once and reported
// cancelled, without a rate-limit slot). When another campaign reserved
// slots after the run, the clock is left alone: they are its own. Once
// tried, it is not tried again: the campaign forgets its run (a cancelled
// campaign reserves no slot), so that the housekeeping's later passes of
// FinishCancel cost one read.
func (s Campaigns) giveBackSlots(ctx context.Context, id string) error {
	ck := s.keys.Campaign(id)
	clock, err := s.rdb.HGet(ctx, ck, "clock").Result()
	if errors.Is(err, redis.Nil) || clock == "" {
		return nil
	}
	if err == nil {
		err = giveBackScript.Run(ctx, s.rdb, []string{ck, clock}, s.nowMS()).Err()
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("campaign: give back the slots of %s: %w", id, err)
	}
	return nil
}

// giveBackScript: KEYS: 1 campaign, 2 its pacing clock. ARGV: 1 now (ms).
var giveBackScript = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'clock', 'clock_end', 'clock_run')
if r[1] ~= KEYS[2] or not r[2] or not r[3] then return 0 end
redis.call('HDEL', KEYS[1], 'clock', 'clock_end', 'clock_run')
local c = redis.call('GET', KEYS[2])
if c ~= r[2] then return 0 end
local to = math.max(tonumber(ARGV[1]), tonumber(r[3]))
local back = tonumber(c) - to
local ttl = redis.call('PTTL', KEYS[2])
if back <= 0 or ttl <= 0 then return 0 end
redis.call('SET', KEYS[2], string.format('%.3f', to), 'PX', math.max(1, math.floor(ttl - back)))
return 1
`)
