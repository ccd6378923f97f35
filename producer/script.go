package producer

import (
	"github.com/mmlite/mmlite/internal/store"
	"github.com/redis/go-redis/v9"
)

// What enqueueScript says of each job.
const (
	jobDuplicate  = 0 // the campaign already has the recipient
	jobAccepted   = 1
	jobSealed     = 2 // a new recipient of a sealed campaign: refused
	jobSuppressed = 3 // accepted, but the recipient is on the sender's suppression list
)

// enqueueScript writes a batch of send jobs in asynq's format, skipping
// recipients the campaign already has (a job, or a ledger marker once its
// job is done), paces the new ones on the sender's clock, and counts them.
// A sealed campaign takes no new recipient. It returns one of the job*
// values per job. The campaign keeps when its next and last sends are due,
// and its run of slots at the end of the clock (see store.LuaSlots).
// A recipient on the sender's suppression list is enqueued too, due at once
// and without a slot on the clock: its claim finds it suppressed, and it
// gets its result the way every recipient does, without a send. So is a
// recipient whose slot would come at or after the campaign's expiry, due at
// the expiry: nothing can be sent then (it is reported expired), and the
// slots past the expiry are left to the sender's other campaigns.
//
// Its answer is kept for two minutes under the batch's own key: a batch run
// again (go-redis sends a command again when its reply timed out) gets it,
// instead of finding its own jobs duplicates.
//
// KEYS: 1 campaign hash, 2 ledger, 3 asynq scheduled zset, 4 asynq pending
// list, 5 pacing clock, 6 the sender's suppression list, 7 the batch's
// answer.
// ARGV: 1 task key prefix, 2 now (ms), 3 now (ns, for pending_since), 4 the
// campaign's start (ms), 5 ms between two sends of the sender, 6 length of
// "<campaign>:", 7 how far ahead (ms) a job still goes straight to pending,
// 8 how long (ms) an idle clock is kept, 9 the campaign's expiry (ms, whole
// seconds as the jobs carry it; 0 for none), then task id and message pairs.
var enqueueScript = redis.NewScript(store.LuaSlots + `
local answer = redis.call('GET', KEYS[7])
if answer then
  local out = {}
  for i = 1, #answer do out[i] = string.byte(answer, i) - 48 end
  return out
end
local c = redis.call('HMGET', KEYS[1], 'state', 'sealed')
local state = c[1]
if not state then return redis.error_reply('NOCAMPAIGN campaign not registered') end
if state == 'cancelled' then return redis.error_reply('CANCELLED campaign is cancelled') end
local sealed = c[2]
local now = tonumber(ARGV[2])
local interval = tonumber(ARGV[5])
local plen = tonumber(ARGV[6])
local ahead = now + tonumber(ARGV[7])
local at = tonumber(ARGV[4])
local before = redis.call('GET', KEYS[5])
local clock = tonumber(before or '0')
if clock > at then at = clock end
local expiry = tonumber(ARGV[9])
local out = {}
local k = 0
local unslotted = 0 -- jobs enqueued without a slot: suppressed, or past the expiry
for i = 10, #ARGV, 2 do
  local id = ARGV[i]
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 1 or redis.call('HEXISTS', KEYS[2], string.sub(id, plen + 1)) == 1 then
    out[#out + 1] = 0
  elseif sealed then
    out[#out + 1] = 2
  elseif redis.call('HEXISTS', KEYS[6], string.sub(id, plen + 1)) == 1 then
    redis.call('HSET', key, 'msg', ARGV[i + 1], 'state', 'pending', 'pending_since', ARGV[3])
    redis.call('LPUSH', KEYS[4], id)
    unslotted = unslotted + 1
    out[#out + 1] = 3
  elseif expiry > 0 and at + k * interval >= expiry then
    redis.call('HSET', key, 'msg', ARGV[i + 1], 'state', 'scheduled')
    redis.call('ZADD', KEYS[3], math.floor(expiry / 1000), id)
    unslotted = unslotted + 1
    out[#out + 1] = 1
  else
    local when = at + k * interval
    if when <= ahead then
      redis.call('HSET', key, 'msg', ARGV[i + 1], 'state', 'pending', 'pending_since', ARGV[3])
      redis.call('LPUSH', KEYS[4], id)
    else
      redis.call('HSET', key, 'msg', ARGV[i + 1], 'state', 'scheduled')
      redis.call('ZADD', KEYS[3], math.floor(when / 1000), id)
    end
    k = k + 1
    out[#out + 1] = 1
  end
end
if k > 0 then
  local nxt = at + k * interval
  local after = string.format('%.3f', nxt)
  redis.call('SET', KEYS[5], after, 'PX', math.floor(nxt - now) + tonumber(ARGV[8]))
  redis.call('HINCRBY', KEYS[1], 'enqueued', k)
  slots(KEYS[1], at, math.floor(at + (k - 1) * interval), now)
  reserved(KEYS[1], KEYS[5], before, at, after)
end
if unslotted > 0 then redis.call('HINCRBY', KEYS[1], 'enqueued', unslotted) end
redis.call('SET', KEYS[7], table.concat(out), 'PX', 120000)
return out
`)
