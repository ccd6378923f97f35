package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

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
	// Duplicate: the recipient already had an outcome; report nothing.
	Duplicate Settled = "dup"
	// Gone: the campaign's state no longer exists; nothing was written.
	Gone Settled = "nocampaign"
)

// WAMIDTTL is how long a sent message id maps back to its recipient:
// webhooks are retried for up to 7 days, and delivery can take the TTL.
const WAMIDTTL = 35 * 24 * time.Hour

var settleScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'nocampaign' end
local m = redis.call('HGET', KEYS[2], ARGV[1])
if m and string.sub(m, 1, 1) == 'F' then return 'dup' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if m and string.sub(m, 1, 1) == 'C' then redis.call('HINCRBY', KEYS[1], 'inflight', -1) end
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
if ARGV[4] ~= '' then redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5]) end
local h = redis.call('HMGET', KEYS[1], 'state', 'enqueued', 'sent', 'failed', 'expired', 'cancelled', 'unknown', 'finished_at')
local final = 0
for i = 3, 7 do final = final + tonumber(h[i] or '0') end
local enq = tonumber(h[2] or '0')
if enq > 0 and final >= enq and not h[8] then
  if h[1] == 'running' then
    redis.call('HSET', KEYS[1], 'state', 'completed', 'finished_at', ARGV[6])
    return 'completed'
  elseif h[1] == 'cancelled' then
    redis.call('HSET', KEYS[1], 'finished_at', ARGV[6])
    return 'completed'
  end
end
return 'ok'
`)

// Settle records a recipient's final outcome and counts it, once. When the
// outcome has a wamid, the wamid is mapped back to the recipient for webhooks.
func (s *Store) Settle(ctx context.Context, id, to string, o Outcome) (Settled, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return "", fmt.Errorf("campaign: encode outcome: %w", err)
	}
	wkey, wval := s.keys.Campaign(id), ""
	if o.WAMID != "" {
		wkey, wval = s.keys.WAMID(o.WAMID), id+"\n"+to
	}
	keys := []string{s.keys.Campaign(id), s.keys.Ledger(id), wkey}
	r, err := settleScript.Run(ctx, s.rdb, keys, to, append([]byte{'F'}, b...), o.Status,
		wval, int64(WAMIDTTL.Seconds()), s.now().UnixMilli()).Text()
	if err != nil {
		return "", fmt.Errorf("campaign: settle: %w", err)
	}
	return Settled(r), nil
}
