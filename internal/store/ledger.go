package store

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// The ledger holds one marker per recipient who has been tried:
//
//	C|attempts|claimed_at_ms|delays          claimed: a send is (or was) in flight
//	R|attempts|released_at_ms|delays|error   released: known not sent, may be tried again
//	F{json Outcome}                          final: the outcome, reported once
//
// A worker claims the marker before it calls the API and settles it after,
// both atomically with the campaign's state and counts. A released marker
// keeps the last error, for the result of a recipient that expires later.

// Verdict is what a claim found.
type Verdict string

// Verdicts of Claim.
const (
	Claimed    Verdict = "claimed"    // go ahead and send
	Final      Verdict = "final"      // already has an outcome (Prior)
	Busy       Verdict = "busy"       // another attempt may still be in flight; look again after RetryIn
	Stale      Verdict = "stale"      // an earlier attempt never settled: the outcome is unknown
	Paused     Verdict = "paused"     // the campaign is paused (Reason)
	Cancelled  Verdict = "cancelled"  // the campaign is cancelled
	NoCampaign Verdict = "nocampaign" // the campaign's state is gone
	Claimable  Verdict = "claimable"  // with ClaimOptions.CheckOnly: it would be Claimed; nothing was taken
	Suppressed Verdict = "suppressed" // the recipient is on the suppression list (Entry)
	Cooldown   Verdict = "cooldown"   // the recipient is in cooldown until Until
	Limited    Verdict = "limit"      // the messaging limit is reached: a place frees at Until
)

// Claim is the answer of Store.Claim.
type Claim struct {
	Verdict  Verdict
	Attempts int           // sends made so far, including this one when Claimed
	Delays   int           // per-recipient delays so far (the worker's count of 131056 delays and 131049 cooldowns)
	Prior    *Outcome      // when Final
	Reason   string        // when Paused
	RetryIn  time.Duration // when Busy
	Entry    []byte        // when Suppressed: the suppression entry (JSON, see package guard)
	Until    time.Time     // when Cooldown or Limited
	// Place, when Claimed, is the place in its limit's window the claim
	// took for a recipient new to it (see ClaimGuard), nil when the
	// recipient was in the window already or no guard was looked at. A send
	// the API refuses gives it back (see Ledger.WithPlace).
	Place *Place
}

// Outcome is a recipient's final outcome, as kept in the ledger.
type Outcome struct {
	Status        string      `json:"st"`
	Attempts      int         `json:"a"`
	FinishedAt    int64       `json:"t"` // unix ms
	WAMID         string      `json:"w,omitempty"`
	MessageStatus string      `json:"ms,omitempty"`
	Error         *task.Error `json:"e,omitempty"`
	// Components and Metadata are the recipient's own (those of its send
	// job, gone once the job is done), kept for results exports and
	// follow-up campaigns until the retention; left out when it had none.
	Components []mmapi.Component `json:"p,omitempty"`
	Metadata   map[string]string `json:"m,omitempty"`
	// Resolved is when a status webhook resolved an unknown outcome to
	// sent (unix ms), 0 otherwise.
	Resolved int64 `json:"rv,omitempty"`
	// PhoneNumberID is the business number the attempt went from: an
	// unknown outcome is kept for matching status webhooks against (see
	// keyspace.Unknown). Not stored.
	PhoneNumberID string `json:"-"`
}

// claimScript checks the campaign's state and the sender's protections,
// and takes the recipient's marker, in one step. A paused campaign's
// recipient is listed among its parked jobs, so that a resume brings back
// exactly those; a running campaign of a sender the guard paused is paused
// first (see package guard), with the error of the sender's pause (its
// code field: see PauseError), so that a new campaign meets the sender's
// pause at its first claim. Before the marker is taken the recipient's
// suppression entry, cooldown and the messaging limit are looked at (see
// ClaimGuard): a recipient new to the limit's rolling window takes a place
// in it, or waits for the oldest to fall out.
// KEYS: 1 campaign, 2 ledger, 3 parked, 4 parking, 5 sender guard, 6 the
// sender guard's paused campaigns, 7 announce, 8 suppressed, 9 cooldown,
// 10 reach, 11 the index of waiting lists (see luaWait), 12 the limit's
// waiting jobs (see keyspace.LimitWaiters). ARGV: 1
// recipient, 2 now (ms), 3 stale after (ms), 4 at least once, 5 check only,
// 6 campaign id, 7 guard on, 8 limit (0 unlimited), 9 window (ms), 10
// cooldown (ms), 11 the claim's token.
//
// The marker it writes ends with the claim's token (a random one per call
// of Claim): a claim run again with the same arguments, as go-redis sends
// a command (or pipeline) again when its reply timed out, finds its own
// marker and answers claimed again, with the place in the limit's window
// it took; it would have found the recipient busy, and the recipient,
// never sent, would have ended unknown. It does so whatever the campaign's
// state since: a pause or cancel between the two runs came after the claim
// (answered paused, or busy, its job was put aside, and the recipient
// ended unknown all the same).
var claimScript = redis.NewScript(luaWait + `
local c = redis.call('HMGET', KEYS[1], 'state', 'paused_reason')
if not c[1] then return {'nocampaign'} end
-- again: this very claim, run again, finds its own marker m (it ends with
-- its token) and is answered claimed again, whatever the campaign's state
-- since: it was claimed before a pause or cancel, as any claim in flight
-- then. The place in the limit's window it took has its score (see fresh).
local token = '|' .. ARGV[11]
local function again(m)
  if #ARGV[11] == 0 or string.sub(m or '', 1, 1) ~= 'C' or string.sub(m, -#token) ~= token then return nil end
  local a, _, d = string.match(m, '^C|(%d+)|(%d+)|(%d+)')
  local r = ARGV[7] == '1' and redis.call('ZSCORE', KEYS[10], ARGV[1])
  if r and tonumber(r) == tonumber(ARGV[2]) + 0.5 then return {'claimed', a, d, '1'} end
  return {'claimed', a, d, '0'}
end
-- inflight: an attempt in flight (its marker m claimed, its outcome not
-- recorded) may have sent. It is busy while it may still settle, then
-- stale (its outcome unknown), unless a new attempt may take it over.
local function inflight(m, takeOver)
  local a, t, d = string.match(m or '', '^C|(%d+)|(%d+)|(%d+)')
  if not a then return nil end
  local age = tonumber(ARGV[2]) - tonumber(t)
  if age < tonumber(ARGV[3]) then return {'busy', tostring(tonumber(ARGV[3]) - age), a} end
  if not takeOver then return {'stale', a, d} end
  return nil
end
-- A cancelled campaign sends nothing more, at least once or not; its
-- recipient keeps the count of the attempts made.
if c[1] == 'cancelled' then
  local m = redis.call('HGET', KEYS[2], ARGV[1]) or ''
  local v = again(m) or inflight(m, false)
  if v then return v end
  local a, _, d = string.match(m, '^R|(%d+)|(%d+)|(%d+)')
  return {'cancelled', a or '0', d or '0'}
end
local function park(reason)
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
  redis.call('SADD', KEYS[4], ARGV[6])
  return {'paused', reason}
end
if c[1] == 'paused' then return again(redis.call('HGET', KEYS[2], ARGV[1])) or park(c[2] or '') end
local guard = ARGV[7] == '1'
if guard and c[1] == 'running' then
  local g = redis.call('HGET', KEYS[5], 'paused_reason')
  if g then
    local v = again(redis.call('HGET', KEYS[2], ARGV[1]))
    if v then return v end
    local reason = 'sender_paused: ' .. g
    ` + luaPauseError + `
    redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', reason, 'paused_at', ARGV[2],
      'fatal', pauseError(reason, redis.call('HGET', KEYS[5], 'code')))
    wait(KEYS[11], KEYS[6], ARGV[6])
    redis.call('SADD', KEYS[7], ARGV[6])
    return park(reason)
  end
end
if ARGV[5] == '1' then return {'claimable'} end
local now = tonumber(ARGV[2])
-- fresh: the claim took a new place in the limit's window (see held),
-- whose score is now + 0.5: any other claim writes a whole number, so
-- the place stays told apart from a later claim of the same recipient
-- in the same millisecond (see luaFreePlace). It is written with
-- string.format: Lua would round a number to 14 digits.
local fresh = '0'
-- held returns why a protection keeps the recipient from its send, or nil.
local function held(attempts, delays)
  if not guard then return nil end
  local sup = redis.call('HGET', KEYS[8], ARGV[1])
  if sup then return {'suppressed', tostring(attempts), tostring(delays), sup} end
  local cd = redis.call('ZSCORE', KEYS[9], ARGV[1])
  if cd then
    local till = tonumber(cd) + tonumber(ARGV[10])
    if till > now then return {'cooldown', tostring(attempts), tostring(delays), string.format('%d', till)} end
  end
  -- The reach is counted whatever the limit (unlimited is 0): a lower
  -- tier that comes later finds the recipients of the window counted.
  -- Unlimited, it is only kept: a new member prunes the window.
  local lim, win = tonumber(ARGV[8]), tonumber(ARGV[9])
  if lim > 0 then
    local r = redis.call('ZSCORE', KEYS[10], ARGV[1])
    if not r or tonumber(r) <= now - win then
      redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now - win)
      if redis.call('ZCARD', KEYS[10]) >= lim then
        local o = redis.call('ZRANGE', KEYS[10], 0, 0, 'WITHSCORES')
        local free = string.format('%d', math.floor(tonumber(o[2]) + win))
        redis.call('HSET', KEYS[1], 'limit_until', free)
        -- A waiter keeps its turn; one woken (see luaFreePlace) takes it back.
        local w = redis.call('ZSCORE', KEYS[12], ARGV[6] .. ':' .. ARGV[1])
        if not w then
          redis.call('ZADD', KEYS[12], now, ARGV[6] .. ':' .. ARGV[1])
        elseif string.sub(w, 1, 1) == '-' then
          redis.call('ZADD', KEYS[12], string.sub(w, 2), ARGV[6] .. ':' .. ARGV[1])
        end
        redis.call('PEXPIRE', KEYS[12], win + 60000)
        return {'limit', tostring(attempts), tostring(delays), free}
      end
      fresh = '1'
      redis.call('ZADD', KEYS[10], string.format('%.1f', now + 0.5), ARGV[1])
      redis.call('ZREM', KEYS[12], ARGV[6] .. ':' .. ARGV[1]) -- waited, perhaps: not any more
    else
      redis.call('ZADD', KEYS[10], now, ARGV[1])
      redis.call('ZREM', KEYS[12], ARGV[6] .. ':' .. ARGV[1]) -- reached meanwhile: it waits no more
    end
  elseif redis.call('ZADD', KEYS[10], 'NX', string.format('%.1f', now + 0.5), ARGV[1]) == 1 then
    redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', now - win)
    fresh = '1'
  else
    redis.call('ZADD', KEYS[10], now, ARGV[1])
  end
  redis.call('PEXPIRE', KEYS[10], win)
  return nil
end
if redis.call('HSETNX', KEYS[2], ARGV[1], 'C|1|' .. ARGV[2] .. '|0' .. token) == 1 then
  local h = held(0, 0)
  if h then redis.call('HDEL', KEYS[2], ARGV[1]) return h end
  return {'claimed', '1', '0', fresh}
end
local m = redis.call('HGET', KEYS[2], ARGV[1])
local kind = string.sub(m, 1, 1)
if kind == 'F' then return {'final', string.sub(m, 2)} end
local a, t, d = string.match(m, '^%a|(%d+)|(%d+)|(%d+)')
local attempts, delays = tonumber(a), tonumber(d)
if kind == 'C' then
  local v = again(m) or inflight(m, ARGV[4] == '1')
  if v then return v end
end
local h = held(attempts, delays)
if h then return h end
attempts = attempts + 1
redis.call('HSET', KEYS[2], ARGV[1], 'C|' .. attempts .. '|' .. ARGV[2] .. '|' .. delays .. token)
return {'claimed', tostring(attempts), tostring(delays), fresh}
`)

// ClaimGuard names the sender's protections a claim looks at.
type ClaimGuard struct {
	Sender     string        // the sender's id: its guard state
	Scope      string        // suppression list and cooldowns (sender.Sender.Scope)
	LimitScope string        // messaging limit (sender.Sender.LimitScope)
	Limit      int           // the limit scope's messaging limit; 0 unlimited
	Window     time.Duration // the limit's rolling window
	Cooldown   time.Duration // how long after a 131049 the recipient waits
}

// ClaimOptions tune Claim.
type ClaimOptions struct {
	// StaleAfter is how long a claim may be in flight before a new attempt
	// concludes that its outcome is unknown; above the HTTP timeout.
	StaleAfter time.Duration
	// AtLeastOnce lets a new attempt send again after a stale claim.
	AtLeastOnce bool
	// CheckOnly reports the campaign's state without taking the marker:
	// Paused, Cancelled, NoCampaign, or Claimable; Busy or Stale for a
	// cancelled campaign's attempt in flight.
	CheckOnly bool
	// Guard, when set, makes the claim look at the sender's protections.
	Guard *ClaimGuard
}

// claimToken names one call of Claim (see claimScript): 60 random bits.
func claimToken() string { return rand.Text()[:12] }

// Claim takes the recipient's marker before a send, checking the campaign's
// state in the same step, so that nothing is sent after a pause or cancel.
func (s Ledger) Claim(ctx context.Context, id, to string, o ClaimOptions) (Claim, error) {
	flag := func(b bool) string {
		if b {
			return "1"
		}
		return "0"
	}
	ck := s.keys.Campaign(id)
	keys := []string{ck, s.keys.Ledger(id), s.keys.Parked(id), s.keys.Parking(), ck, ck, ck, ck, ck, ck, s.keys.WaitLists(), ck}
	g := o.Guard
	if g == nil {
		g = &ClaimGuard{}
	} else {
		keys[4], keys[5], keys[6] = s.keys.SenderGuard(g.Sender), s.keys.GuardPaused("sender", g.Sender), s.keys.Announce()
		keys[7], keys[8], keys[9] = s.keys.Suppressed(g.Scope), s.keys.Cooldown(g.Scope), s.keys.Reach(g.LimitScope)
		keys[11] = s.keys.LimitWaiters(g.LimitScope)
	}
	now := s.now()
	v, err := s.run(ctx, claimScript, keys, to, now.UnixMilli(), o.StaleAfter.Milliseconds(),
		flag(o.AtLeastOnce), flag(o.CheckOnly), id, flag(o.Guard != nil), g.Limit, g.Window.Milliseconds(), g.Cooldown.Milliseconds(),
		claimToken()).StringSlice()
	if err != nil {
		return Claim{}, fmt.Errorf("campaign: claim: %w", err)
	}
	arg := func(i int) string {
		if i < len(v) {
			return v[i]
		}
		return ""
	}
	atoi := func(i int) int { n, _ := strconv.Atoi(arg(i)); return n }
	c := Claim{Verdict: Verdict(arg(0))}
	switch c.Verdict {
	case Claimed, Stale:
		c.Attempts, c.Delays = atoi(1), atoi(2)
		if arg(3) == "1" {
			c.Place = &Place{LimitScope: g.LimitScope, At: time.UnixMilli(now.UnixMilli())}
		}
	case Cancelled:
		c.Attempts, c.Delays = atoi(1), atoi(2)
	case Suppressed:
		c.Attempts, c.Delays, c.Entry = atoi(1), atoi(2), []byte(arg(3))
	case Cooldown, Limited:
		ms, _ := strconv.ParseInt(arg(3), 10, 64)
		c.Attempts, c.Delays, c.Until = atoi(1), atoi(2), time.UnixMilli(ms)
	case Busy:
		c.RetryIn, c.Attempts = time.Duration(atoi(1))*time.Millisecond, atoi(2)
	case Paused:
		c.Reason = arg(1)
	case Final:
		c.Prior = new(Outcome)
		if err := json.Unmarshal([]byte(arg(1)), c.Prior); err != nil {
			return Claim{}, fmt.Errorf("campaign: decode outcome: %w", err)
		}
		c.Attempts = c.Prior.Attempts
	}
	return c, nil
}
