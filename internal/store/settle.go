package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/asynqwire"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Settled is what a settle did.
type Settled string

// Results of Settle.
const (
	// Recorded: the outcome is the recipient's; report it.
	Recorded Settled = "ok"
	// Completed: recorded, and it was the campaign's last outstanding
	// recipient: report it and announce the campaign's final state.
	Completed Settled = "completed"
	// AutoPaused: recorded, and the share of permanent failures paused the
	// campaign: report it and tell the operator.
	AutoPaused Settled = "paused"
	// Duplicate: the recipient already had an outcome; report nothing.
	Duplicate Settled = "dup"
	// Gone: the campaign's state no longer exists; nothing was written.
	Gone Settled = "nocampaign"
)

// FailurePolicy pauses a campaign when, since it started or was last
// resumed, at least MinSends sends finished and Ratio of them or more failed
// permanently. Ratio 0 turns it off.
type FailurePolicy struct {
	Ratio    float64
	MinSends int
}

// settleScript records a final outcome once and, on a single Redis node,
// enqueues the recipient's result task in the same step (unless a task of
// that id exists, as asynq's own enqueue would refuse it). It ends the
// campaign when that was its last outstanding recipient (see luaFinish),
// and may pause it on the share of permanent failures. When it maps a
// wamid, it takes the statuses of that message a webhook brought before
// (kept unmatched, see keepScript) into the replays hash, for the
// housekeeping to count and emit (see Resolution.Early).
//
// A settle run again with the same arguments, as go-redis sends a command
// (or a pipeline of package redisbatch) again when its reply timed out,
// finds its own final marker, byte for byte: it writes nothing more and is
// answered as its first run was (ok; completed or paused when it ended or
// paused the campaign: the campaign's field settle_end keeps that answer
// with the settle's time in ns); it was answered dup, and the worker
// neither counted its outcome nor announced its campaign's end or pause.
// Another settle of the recipient is dup, but for one that records the
// very same outcome (its time in ms included) at the same millisecond:
// answered ok, it is counted again by the worker (in its metrics only).
//
// KEYS and ARGV: see settleArgs.
var settleScript = redis.NewScript(luaFinish + asynqwire.LuaEnqueue + luaFreePlace + `
local h = redis.call('HMGET', KEYS[1], ` + doneFields + `, 'base_sent', 'base_failed')
if not h[1] then return 'nocampaign' end
local m = redis.call('HGET', KEYS[2], ARGV[1])
if m and string.sub(m, 1, 1) == 'F' then
  if m ~= ARGV[2] then return 'dup' end
  -- This very settle, run again (its reply lost: see settleScript): it
  -- is answered as it was. One that ended or paused the campaign left its
  -- answer with its time in ns (ARGV[13]).
  local e = redis.call('HGET', KEYS[1], 'settle_end')
  if e == ARGV[13] .. ' completed' then return 'completed' end
  if e == ARGV[13] .. ' paused' then return 'paused' end
  return 'ok'
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
freePlace(KEYS[15], ARGV[1], ARGV[25], KEYS[16], KEYS[17], ARGV[6])
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
local now = tonumber(ARGV[6])
if ARGV[17] == '1' then
  local b = math.floor(now / 10000)
  if redis.call('HINCRBY', KEYS[1], string.format('r:%d', b), 1) == 1 then
    local old = {}
    for x = b - 60, b - 6 do old[#old + 1] = string.format('r:%d', x) end
    redis.call('HDEL', KEYS[1], unpack(old))
  end
end
if ARGV[18] ~= '' then
  local at = now
  if m and string.sub(m, 1, 1) == 'C' then at = tonumber(string.match(m, '^C|%d+|(%d+)|') or now) end
  local due, deadline = at + tonumber(ARGV[19]), at + tonumber(ARGV[20])
  if deadline > now then
    redis.call('HSET', KEYS[9], ARGV[15], string.format('%d|%d|%d', at, due, deadline))
    local ttl = deadline - now + tonumber(ARGV[21])
    if redis.call('PTTL', KEYS[9]) < ttl then redis.call('PEXPIRE', KEYS[9], ttl) end
    local sc = redis.call('ZSCORE', KEYS[10], ARGV[18])
    if not sc or tonumber(sc) > due then redis.call('ZADD', KEYS[10], due, ARGV[18]) end
  end
end
local slot = tonumber(ARGV[14])
if slot > 0 then h[slot] = tostring(tonumber(h[slot] or '0') + 1) end
if ARGV[4] ~= '' then
  if ARGV[26] ~= '' then
    redis.call('HSET', KEYS[3], 'c', ARGV[4], 'p', ARGV[26])
  else
    redis.call('HSET', KEYS[3], 'c', ARGV[4])
  end
  redis.call('EXPIRE', KEYS[3], ARGV[5])
  if ARGV[24] ~= '' and redis.call('HEXISTS', KEYS[13], ARGV[24]) == 1 then
    local early, drop, prefix = {ARGV[24], ''}, {ARGV[24]}, ARGV[24] .. '\n'
    local u = redis.call('HGETALL', KEYS[13])
    for i = 1, #u, 2 do
      if string.sub(u[i], 1, #prefix) == prefix then
        early[#early + 1] = string.sub(u[i], #prefix + 1) .. '\n' .. u[i + 1]
        drop[#drop + 1] = u[i]
      end
    end
    redis.call('HDEL', KEYS[13], unpack(drop))
    redis.call('HSET', KEYS[14], ARGV[4], cjson.encode(early))
  end
end
enqueue(KEYS[4], KEYS[5], ARGV[11], ARGV[12], ARGV[13])
enqueue(KEYS[11], KEYS[12], ARGV[22], ARGV[23], ARGV[13])
if done(h) then
  finish(h, KEYS[1], KEYS[2], KEYS[6], KEYS[7], KEYS[8], ARGV[15], ARGV[6], ARGV[16])
  redis.call('HSET', KEYS[1], 'settle_end', ARGV[13] .. ' completed')
  return 'completed'
end
local ratio = tonumber(ARGV[8])
if ARGV[7] == '1' and ratio > 0 and h[1] == 'running' then
  local f = tonumber(h[4] or '0') - tonumber(h[12] or '0')
  local n = f + tonumber(h[3] or '0') - tonumber(h[11] or '0')
  if n >= tonumber(ARGV[9]) and f >= ratio * n then
    local reason = string.format('failure_ratio: %d of the last %d sends failed permanently (pause at %d%%)', f, n, math.floor(ratio * 100 + 0.5))
    redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', reason, 'paused_at', ARGV[6], 'fatal', ARGV[10],
      'settle_end', ARGV[13] .. ' paused')
    redis.call('SADD', KEYS[8], ARGV[15])
    return 'paused'
  end
end
return 'ok'
`)

// countField is where each final status's count is among the campaign
// fields that settleScript reads first (doneFields); a Lua table built in
// the script would cost Redis some 2 µs on every call.
var countField = map[string]int{task.StatusSent: 3, task.StatusFailed: 4, task.StatusExpired: 5,
	task.StatusCancelled: 6, task.StatusUnknown: 7, task.StatusSuppressed: 10}

// settleArgs are settleScript's keys and arguments, by name.
type settleArgs struct {
	campaign, ledger, wamidKey, resultKey, resultsPending, parked, retire, announce string // KEYS 1-8
	unknownKey, unknowns                                                            string // 9-10: see keyspace.Unknown
	alsoKey, alsoPending                                                            string // 11-12: the callback task's
	unmatched, replays                                                              string // 13-14: see keyspace.Unmatched, Replays
	reach, waiters, retry                                                           string // 15-17: the place's (see Ledger.WithPlace)

	to          string // ARGV 1
	marker      []byte // 2: the ledger's final marker
	status      string // 3: the count to increment
	wamidValue  string // 4: "campaign\nrecipient", "" when no wamid
	wamidTTL    int64  // 5: seconds
	nowMS       int64  // 6
	permanent   bool   // 7: a permanent failure, judged by the failure policy
	policy      FailurePolicy
	errJSON     []byte // 10: the failure behind an automatic pause
	resultID    string // 11: "" when the result is enqueued apart
	resultMsg   []byte // 12
	nowNS       int64  // 13: asynq's pending_since
	countSlot   int    // 14: see countField
	id          string // 15
	retentionMS int64  // 16
	rate        bool   // 17: a send: counted in the campaign's rate
	unknownPair string // 18: "phone number id\nrecipient" of an unknown outcome kept for matching, or ""
	graceMS     int64  // 19: see Options.UnknownGrace
	windowMS    int64  // 20: see Options.UnknownWindow; 21 is unknownKeep
	alsoID      string // 22: the callback task's id, "" when none
	alsoMsg     []byte // 23
	earlyWAMID  string // 24: the wamid whose statuses kept unmatched it takes (see keepScript), or ""
	freeAt      string // 25: the claim time (ms) of the place to give back, or "" (see Ledger.WithPlace)
	kept        string // 26: the place the message holds, kept with its wamid, or "" (see Ledger.WithPlace)
}

// unknownKeep is how long an unknown attempt's key outlives its window: the
// housekeeping drops the attempt at its deadline, and counts it expired.
const unknownKeep = 10 * time.Minute

func (a *settleArgs) keys() []string {
	return []string{a.campaign, a.ledger, a.wamidKey, a.resultKey, a.resultsPending, a.parked, a.retire, a.announce,
		a.unknownKey, a.unknowns, a.alsoKey, a.alsoPending, a.unmatched, a.replays, a.reach, a.waiters, a.retry}
}

func (a *settleArgs) argv() []any {
	permanent := "0"
	if a.permanent {
		permanent = "1"
	}
	rate := "0"
	if a.rate {
		rate = "1"
	}
	return []any{a.to, a.marker, a.status, a.wamidValue, a.wamidTTL, a.nowMS, permanent, a.policy.Ratio, a.policy.MinSends,
		a.errJSON, a.resultID, a.resultMsg, strconv.FormatInt(a.nowNS, 10), a.countSlot, a.id, a.retentionMS,
		rate, a.unknownPair, a.graceMS, a.windowMS, unknownKeep.Milliseconds(), a.alsoID, a.alsoMsg, a.earlyWAMID, a.freeAt, a.kept}
}

// rated are the outcomes of a send, counted in a campaign's rate: expired
// and cancelled recipients were not sent at all.
var rated = map[string]bool{task.StatusSent: true, task.StatusFailed: true, task.StatusUnknown: true}

// ResultTask is a task to enqueue in the same atomic step as what it
// reports (a single Redis node: in Cluster its queue lives in another
// slot): a result or a status event, or a webhook's relay task.
type ResultTask struct {
	Queue string // its queue: the results queue, a relay destination's
	ID    string // the task id
	Msg   []byte // the asynq message (see package asynqwire)
	// Also is a further task written in the same step (the result's
	// callback, see package outbound; the next relay task), or nil.
	Also *ResultTask
}

// Settle records a recipient's final outcome and counts it, once. When the
// outcome has a wamid, the wamid is mapped back to the recipient for
// webhooks for the retention. A permanent failure may pause the campaign
// (see FailurePolicy). When r is set and the outcome is recorded (Recorded,
// Completed, AutoPaused), r is enqueued in the same step; so is the place
// WithPlace names given back, or kept with the wamid.
func (s Ledger) Settle(ctx context.Context, id, to string, o Outcome, p FailurePolicy, r *ResultTask) (Settled, error) {
	// What it records already happened: it must be written even when the
	// job's context ends now (shutdown, timeout).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("campaign: encode outcome: %w", err)
	}
	now := s.now()
	ck := s.keys.Campaign(id)
	a := settleArgs{campaign: ck, ledger: s.keys.Ledger(id), wamidKey: ck, resultKey: ck, resultsPending: ck,
		parked: s.keys.Parked(id), retire: s.keys.Retire(), announce: s.keys.Announce(),
		to: to, marker: append([]byte{'F'}, b...), status: o.Status, wamidTTL: int64(s.retention.Seconds()),
		nowMS: now.UnixMilli(), policy: p, nowNS: now.UnixNano(), countSlot: countField[o.Status], id: id,
		retentionMS: s.retention.Milliseconds(), rate: rated[o.Status], unknownKey: ck, unknowns: ck, alsoKey: ck, alsoPending: ck,
		unmatched: ck, replays: ck}
	a.reach, a.waiters, a.retry, a.freeAt = s.freeArgs(ck)
	if o.Status == task.StatusUnknown && o.PhoneNumberID != "" && s.unknownWindow > 0 {
		a.unknownKey, a.unknowns = s.keys.Unknown(o.PhoneNumberID, to), s.keys.Unknowns()
		a.unknownPair, a.graceMS, a.windowMS = o.PhoneNumberID+"\n"+to, s.unknownGrace.Milliseconds(), s.unknownWindow.Milliseconds()
	}
	if o.WAMID != "" {
		a.wamidKey, a.wamidValue = s.keys.WAMID(o.WAMID), id+"\n"+to
		a.kept = s.kept()
		if o.PhoneNumberID != "" {
			a.unmatched, a.replays, a.earlyWAMID = s.keys.Unmatched(o.PhoneNumberID, to), s.keys.Replays(), o.WAMID
		}
	}
	if o.Error != nil && o.Error.Class == mmapi.ClassPermanent.String() {
		a.permanent = true
		a.errJSON, _ = json.Marshal(o.Error)
	}
	if r != nil {
		rk := keyspace.New(r.Queue)
		a.resultKey, a.resultsPending, a.resultID, a.resultMsg = rk.AsynqTask(r.ID), rk.AsynqPending(), r.ID, r.Msg
		if r.Also != nil {
			ak := keyspace.New(r.Also.Queue)
			a.alsoKey, a.alsoPending, a.alsoID, a.alsoMsg = ak.AsynqTask(r.Also.ID), ak.AsynqPending(), r.Also.ID, r.Also.Msg
		}
	}
	res, err := s.run(ctx, settleScript, a.keys(), a.argv()...).Text()
	if err != nil {
		return "", fmt.Errorf("campaign: settle: %w", err)
	}
	return Settled(res), nil
}
