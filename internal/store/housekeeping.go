package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

// unparkScript brings a campaign's parked jobs back from their sleep in
// asynq's retry set: consecutive slots on the sender's clock, or, with an
// interval of 0, now. A parked job that is not in the retry set any more
// left the list: it ran, or was never put aside; one still running (on its
// way to the retry set) stays listed for the next pass. The campaign
// leaves the parking set once its list is empty. It returns the jobs moved
// and the jobs still running.
//
// The campaign's last slot (slot_last) moves with the jobs brought back,
// and its first (slot_first) to theirs once the slots before have passed.
// A job whose slot would come at or after the campaign's expiry takes none:
// it is due at the expiry (reported expired then), and the sender's time
// past the expiry is left to its other campaigns. A cancelled campaign's
// jobs are all due now, whatever the pace (a resume racing the cancel):
// they are reported cancelled, without a send, and take no slot.
//
// KEYS: 1 parked, 2 asynq retry set, 3 pacing clock, 4 parking set, 5 campaign.
// ARGV: 1 now (ms), 2 ms between two sends (0: all now, clock untouched),
// 3 idle clock TTL (ms), 4 asynq task key prefix, 5 campaign id, 6 the
// campaign's expiry (ms, whole seconds; 0 for none), then recipients.
var unparkScript = redis.NewScript(LuaSlots + `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
if redis.call('HGET', KEYS[5], 'state') == 'cancelled' then interval = 0 end
local expiry = tonumber(ARGV[6])
local at, before = now, false
if interval > 0 then
  before = redis.call('GET', KEYS[3])
  at = math.max(now, tonumber(before or '0'))
end
local k, moved, running = 0, 0, 0
for i = 7, #ARGV do
  local tid = ARGV[5] .. ':' .. ARGV[i]
  if redis.call('ZSCORE', KEYS[2], tid) then
    local when = at + k * interval
    if expiry > 0 and when >= expiry then
      when = expiry
    else
      k = k + 1
    end
    redis.call('ZADD', KEYS[2], 'XX', math.floor(when / 1000), tid)
    redis.call('ZREM', KEYS[1], ARGV[i])
    moved = moved + 1
  elseif redis.call('HGET', ARGV[4] .. tid, 'state') == 'active' then
    running = running + 1
  else
    redis.call('ZREM', KEYS[1], ARGV[i])
  end
end
if k > 0 and interval > 0 then
  local nxt = at + k * interval
  local after = string.format('%.3f', nxt)
  redis.call('SET', KEYS[3], after, 'PX', math.floor(nxt - now) + tonumber(ARGV[3]))
  if redis.call('EXISTS', KEYS[5]) == 1 then
    slots(KEYS[5], at, math.floor(nxt - interval), now)
    reserved(KEYS[5], KEYS[3], before, at, after)
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[4], ARGV[5]) end
return {moved, running}
`)

// LuaSlots defines slots(ck, at, last, now), which keeps in the campaign
// hash ck when its next and last sends are due (slot_first, slot_last:
// unix ms, for its status's next_send_at and eta) as jobs get slots from
// at to last: slot_last moves on, and slot_first is at once the slots
// before have passed. For the scripts that give jobs slots: the enqueue
// and unparkScript.
//
// It also defines reserved(ck, clock, before, at, after), which keeps in
// the campaign hash the run of slots it holds at the end of the pacing
// clock (a key) it just moved from before (its value then, or false) to
// after (its value now), with slots from at: the clock's key, its value
// after (clock_end) and where the run began (clock_run). The run goes on
// while no other campaign moves the clock in between. A cancel gives the
// run back (see Campaigns.FinishCancel).
const LuaSlots = `
local function slots(ck, at, last, now)
  local prev = tonumber(redis.call('HGET', ck, 'slot_last') or '0')
  if prev < now then redis.call('HSET', ck, 'slot_first', string.format('%d', math.floor(at))) end
  if last > prev then redis.call('HSET', ck, 'slot_last', string.format('%d', last)) end
end
local function reserved(ck, clock, before, at, after)
  local r = redis.call('HMGET', ck, 'clock', 'clock_end', 'clock_run')
  local run = string.format('%.3f', at)
  if before and r[1] == clock and r[2] == before and r[3] then run = r[3] end
  redis.call('HSET', ck, 'clock', clock, 'clock_end', after, 'clock_run', run)
end
`

// Pace says when brought-back jobs are due: one every Interval on the
// sender's Clock (a key of keyspace.Clock), after the slots already
// reserved; a zero Interval makes them all due now.
type Pace struct {
	Interval time.Duration
	Clock    string
	IdleTTL  time.Duration // how long an idle clock is kept
	// Expiry is the campaign's expires_at in unix seconds, as its jobs carry
	// it (campaign.Campaign.ExpiresUnix; 0 for none): a job whose slot
	// would come at or after it takes none, and is due at the expiry.
	Expiry int64
}

// Unparked is what Unpark did.
type Unparked struct {
	Moved   int64 // jobs brought back
	Running int64 // jobs still running on their way to being parked: the next pass brings them
}

// Unpark brings back the jobs a paused campaign put aside (and only those:
// retry backoffs and per-recipient delays keep their times). It can be run
// any number of times, by anyone: a job is moved once.
func (s Campaigns) Unpark(ctx context.Context, id string, p Pace) (Unparked, error) {
	var out Unparked
	key := s.keys.Parked(id)
	keys := []string{key, s.keys.AsynqRetry(), p.Clock, s.keys.Parking(), s.keys.Campaign(id)}
	if p.Clock == "" {
		keys[2] = key
	}
	for start := int64(0); ; {
		tos, err := s.rdb.ZRange(ctx, key, start, start+499).Result()
		if err != nil {
			return out, fmt.Errorf("campaign: read parked jobs of %s: %w", id, err)
		}
		if len(tos) == 0 {
			if start == 0 { // nothing parked: make sure the campaign leaves the parking set
				err = unparkScript.Run(ctx, s.rdb, keys, s.nowMS(), 0, 0, s.keys.AsynqTaskPrefix(), id, 0).Err()
			}
			return out, err
		}
		args := []any{s.nowMS(), strconv.FormatFloat(float64(p.Interval.Microseconds())/1000, 'f', 3, 64),
			p.IdleTTL.Milliseconds(), s.keys.AsynqTaskPrefix(), id, p.Expiry * 1000}
		for _, to := range tos {
			args = append(args, to)
		}
		n, err := unparkScript.Run(ctx, s.rdb, keys, args...).Int64Slice()
		if err != nil {
			return out, fmt.Errorf("campaign: bring back parked jobs of %s: %w", id, err)
		}
		out.Moved += n[0]
		out.Running += n[1]
		start += n[1] // the ones still running stay at the front
	}
}

// Park lists a recipient among its campaign's parked jobs, for a job put
// aside otherwise than by a claim (the attempt that met the error that
// paused the campaign).
func (s Campaigns) Park(ctx context.Context, id, to string) error {
	keys := []string{s.keys.Campaign(id), s.keys.Parked(id), s.keys.Parking()}
	if err := parkScript.Run(ctx, s.rdb, keys, s.nowMS(), to, id).Err(); err != nil {
		return fmt.Errorf("campaign: park a job of %s: %w", id, err)
	}
	return nil
}

// parkScript lists a parked job as the claim script does for a paused
// campaign. KEYS: 1 campaign, 2 parked, 3 parking. ARGV: 1 now (ms), 2
// recipient, 3 campaign id.
var parkScript = redis.NewScript(`
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('SADD', KEYS[3], ARGV[3])
return 1
`)

// Parking lists the campaigns that have parked jobs.
func (s Campaigns) Parking(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.keys.Parking()).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: list parking campaigns: %w", err)
	}
	return ids, nil
}

// ToAnnounce lists the campaigns whose new state waits to be announced.
func (s Campaigns) ToAnnounce(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, s.keys.Announce()).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: list campaigns to announce: %w", err)
	}
	return ids, nil
}

// announcedScript takes a campaign off the announce set, unless its state
// changed since it was announced. KEYS: 1 campaign, 2 announce set.
// ARGV: 1 id, 2 the state announced, 3 its paused_at ("" unless paused).
var announcedScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'paused_at')
if h[1] and (h[1] ~= ARGV[2] or (ARGV[2] == 'paused' and (h[2] or '') ~= ARGV[3])) then return 0 end
return redis.call('SREM', KEYS[2], ARGV[1])
`)

// Announced takes a campaign off the announce set once the event of st
// (nil when the campaign is gone) was emitted; a campaign whose state
// changed since stays, so that its new state is announced too.
func (s Campaigns) Announced(ctx context.Context, id string, st *campaign.Status) error {
	state, pausedAt := "", ""
	if st != nil {
		state = string(st.State)
		if st.State == campaign.StateScheduled {
			state = string(campaign.StateRunning)
		}
		if st.PausedAt != nil {
			pausedAt = strconv.FormatInt(st.PausedAt.UnixMilli(), 10)
		}
	}
	if err := announcedScript.Run(ctx, s.rdb, []string{s.keys.Campaign(id), s.keys.Announce()}, id, state, pausedAt).Err(); err != nil {
		return fmt.Errorf("campaign: mark %s announced: %w", id, err)
	}
	return nil
}

// retireScript takes campaigns whose keys have expired out of the index,
// and off the lists of waiting campaigns: one paused when its keys expired
// waited for a condition that never lifted (see luaWait). A campaign
// registered again meanwhile, due later, stays. It returns how many it
// took. KEYS: 1 campaigns index, 2 retire index, 3 the index of waiting
// lists. ARGV: 1 now (ms), then the ids.
var retireScript = redis.NewScript(luaUnwait + `
local ids = {}
for i = 2, #ARGV do
  local due = redis.call('ZSCORE', KEYS[2], ARGV[i])
  if due and tonumber(due) <= tonumber(ARGV[1]) then ids[#ids + 1] = ARGV[i] end
end
if #ids == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(ids))
redis.call('ZREM', KEYS[2], unpack(ids))
unwait(KEYS[3], ids)
return #ids
`)

// Retire takes campaigns whose keys have expired out of the index (and
// off the lists of waiting campaigns), up to limit at a time, and returns
// how many it took.
func (s Campaigns) Retire(ctx context.Context, limit int64) (int, error) {
	now := s.nowMS()
	ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.Retire(), ByScore: true, Start: "-inf",
		Stop: strconv.FormatInt(now, 10), Count: limit}).Result()
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	args := make([]any, 0, len(ids)+1)
	args = append(args, now)
	for _, id := range ids {
		args = append(args, id)
	}
	n, err := retireScript.Run(ctx, s.rdb, []string{s.keys.Campaigns(), s.keys.Retire(), s.keys.WaitLists()}, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("campaign: retire campaigns: %w", err)
	}
	return n, nil
}
