package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/pkg/keyspace"
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

// WAMIDTTL is how long a sent message id maps back to its recipient:
// webhooks are retried for up to 7 days, and delivery can take the TTL.
const WAMIDTTL = 35 * 24 * time.Hour

// FailurePolicy pauses a campaign when, since it started or was last
// resumed, at least MinSends sends finished and Ratio of them or more failed
// permanently. Ratio 0 turns it off.
type FailurePolicy struct {
	Ratio    float64
	MinSends int
}

// settleScript records a final outcome once and, on a single Redis node,
// enqueues the recipient's result task in the same step (unless a task of
// that id exists, as asynq's own enqueue would refuse it).
// KEYS: 1 campaign, 2 ledger, 3 wamid hash, 4 result task hash, 5 results
// pending list (3 to 5 are the campaign key again when unused).
// ARGV: 1 recipient, 2 ledger value, 3 status, 4 wamid mapping value ("" when
// none), 5 wamid TTL (s), 6 now (ms), 7 "1" when a permanent failure, 8 pause
// ratio, 9 pause minimum sends, 10 the failure's error JSON, 11 result task id
// ("" when none), 12 result message, 13 now (ns), 14 the status's place
// among the fields the script reads first (countField), 0 for none.
var settleScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'enqueued', 'sent', 'failed', 'expired', 'cancelled', 'unknown',
  'finished_at', 'base_sent', 'base_failed')
if not h[1] then return 'nocampaign' end
local m = redis.call('HGET', KEYS[2], ARGV[1])
if m and string.sub(m, 1, 1) == 'F' then return 'dup' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
local slot = tonumber(ARGV[14])
if slot > 0 then h[slot] = tostring(tonumber(h[slot] or '0') + 1) end
if ARGV[4] ~= '' then
  redis.call('HSET', KEYS[3], 'c', ARGV[4])
  redis.call('EXPIRE', KEYS[3], ARGV[5])
end
if ARGV[11] ~= '' and redis.call('EXISTS', KEYS[4]) == 0 then
  redis.call('HSET', KEYS[4], 'msg', ARGV[12], 'state', 'pending', 'pending_since', ARGV[13])
  redis.call('LPUSH', KEYS[5], ARGV[11])
end
local final = 0
for i = 3, 7 do final = final + tonumber(h[i] or '0') end
local enq = tonumber(h[2] or '0')
if enq > 0 and final >= enq and not h[8] then
  if h[1] == 'running' or h[1] == 'cancelled' then
    if h[1] == 'running' then redis.call('HSET', KEYS[1], 'state', 'completed') end
    redis.call('HSET', KEYS[1], 'finished_at', ARGV[6])
    return 'completed'
  end
end
local ratio = tonumber(ARGV[8])
if ARGV[7] == '1' and ratio > 0 and h[1] == 'running' then
  local f = tonumber(h[4] or '0') - tonumber(h[10] or '0')
  local n = f + tonumber(h[3] or '0') - tonumber(h[9] or '0')
  if n >= tonumber(ARGV[9]) and f >= ratio * n then
    local reason = string.format('failure_ratio: %d of the last %d sends failed permanently (pause at %d%%)', f, n, math.floor(ratio * 100 + 0.5))
    redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', reason, 'paused_at', ARGV[6], 'fatal', ARGV[10])
    return 'paused'
  end
end
return 'ok'
`)

// countField is where each final status's count is among the campaign
// fields that settleScript reads first; a Lua table built in the script
// would cost Redis some 2 µs on every call.
var countField = map[string]int{task.StatusSent: 3, task.StatusFailed: 4, task.StatusExpired: 5,
	task.StatusCancelled: 6, task.StatusUnknown: 7}

// ResultTask is a result to enqueue in the same atomic step as the outcome
// (a single Redis node: in Cluster the results queue lives in another slot).
type ResultTask struct {
	Queue string // the results queue
	ID    string // the task id
	Msg   []byte // the asynq message (see package asynqwire)
}

// Settle records a recipient's final outcome and counts it, once. When the
// outcome has a wamid, the wamid is mapped back to the recipient for
// webhooks. A permanent failure may pause the campaign (see FailurePolicy).
// When r is set and the outcome is recorded (Recorded, Completed,
// AutoPaused), r is enqueued in the same step.
func (s *Store) Settle(ctx context.Context, id, to string, o Outcome, p FailurePolicy, r *ResultTask) (Settled, error) {
	// What it records already happened: it must be written even when the
	// job's context ends now (shutdown, timeout).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("campaign: encode outcome: %w", err)
	}
	wkey, wval := s.keys.Campaign(id), ""
	if o.WAMID != "" {
		wkey, wval = s.keys.WAMID(o.WAMID), id+"\n"+to
	}
	permanent, errJSON := "0", []byte{}
	if o.Error != nil && o.Error.Class == "permanent" {
		permanent = "1"
		errJSON, _ = json.Marshal(o.Error)
	}
	ck := s.keys.Campaign(id)
	keys := []string{ck, s.keys.Ledger(id), wkey, ck, ck}
	rid, rmsg := "", []byte(nil)
	if r != nil {
		rk := keyspace.New(r.Queue)
		keys[3], keys[4] = rk.AsynqTask(r.ID), rk.AsynqPending()
		rid, rmsg = r.ID, r.Msg
	}
	now := s.now()
	res, err := s.run(ctx, settleScript, keys, to, append([]byte{'F'}, b...), o.Status,
		wval, int64(WAMIDTTL.Seconds()), now.UnixMilli(), permanent, p.Ratio, p.MinSends, errJSON,
		rid, rmsg, strconv.FormatInt(now.UnixNano(), 10), countField[o.Status]).Text()
	if err != nil {
		return "", fmt.Errorf("campaign: settle: %w", err)
	}
	return Settled(res), nil
}
