package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

// luaFinish is shared by every script that can end a campaign (settle, seal,
// finish): a campaign is over when it is sealed (it takes no new
// recipients) and every recipient it has is final. Then a running campaign
// is completed, a cancelled one finished; either way once, with its keys
// set to expire after the retention and its event queued for announcing.
// A paused campaign is completed too (its pause ends): nothing is left to
// resume once its parked jobs were reported expired at its expiry, say.
//
// done takes the campaign fields read by HMGET in this order: state,
// enqueued, sent, failed, expired, cancelled, unknown, finished_at, sealed,
// suppressed.
const luaFinish = `
local function done(h)
  if not h[1] or h[8] or not h[9] then return false end
  if h[1] ~= 'running' and h[1] ~= 'paused' and h[1] ~= 'cancelled' then return false end
  local final = 0
  for i = 3, 7 do final = final + tonumber(h[i] or '0') end
  final = final + tonumber(h[10] or '0')
  return final >= tonumber(h[2] or '0')
end
local function finish(h, ck, ledger, parked, retire, announce, id, now, ttl)
  if h[1] == 'paused' then
    redis.call('HSET', ck, 'paused_reason', '')
    redis.call('HDEL', ck, 'paused_at', 'fatal')
  end
  if h[1] ~= 'cancelled' then redis.call('HSET', ck, 'state', 'completed') end
  redis.call('HSET', ck, 'finished_at', now)
  redis.call('PEXPIRE', ck, ttl)
  redis.call('PEXPIRE', ledger, ttl)
  redis.call('PEXPIRE', parked, ttl)
  redis.call('ZADD', retire, tonumber(now) + tonumber(ttl), id)
  redis.call('SADD', announce, id)
end
`

// doneFields are the fields luaFinish's done reads, for HMGET.
const doneFields = `'state', 'enqueued', 'sent', 'failed', 'expired', 'cancelled', 'unknown', 'finished_at', 'sealed', 'suppressed'`

// finishScript ends a campaign that is done (see luaFinish): a resume or a
// cancel can find it so. It returns 1 when it ended it.
// KEYS: 1 campaign, 2 ledger, 3 parked, 4 retire, 5 announce. ARGV: 1 now
// (ms), 2 retention (ms), 3 id.
var finishScript = redis.NewScript(luaFinish + `
local h = redis.call('HMGET', KEYS[1], ` + doneFields + `)
if not done(h) then return 0 end
finish(h, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[3], ARGV[1], ARGV[2])
return 1
`)

// sealScript seals a campaign, then ends it if it is done. It returns
// "gone", or "sealed" / "same" (already sealed), with ":ended" when it ended
// the campaign. Keys and arguments as finishScript.
var sealScript = redis.NewScript(luaFinish + `
local h = redis.call('HMGET', KEYS[1], ` + doneFields + `)
if not h[1] then return 'gone' end
local res = 'same'
if not h[9] then
  redis.call('HSET', KEYS[1], 'sealed', ARGV[1])
  h[9] = ARGV[1]
  res = 'sealed'
end
if done(h) then
  finish(h, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[3], ARGV[1], ARGV[2])
  return res .. ':ended'
end
return res
`)

// finishKeys are the keys of finishScript and sealScript.
func (s Campaigns) finishKeys(id string) []string {
	return []string{s.keys.Campaign(id), s.keys.Ledger(id), s.keys.Parked(id), s.keys.Retire(), s.keys.Announce()}
}

// FinishIfDone completes a running (or paused) campaign, or finishes a
// cancelled one, when it is sealed and every recipient already has a final
// outcome; a
// resume or a cancel can find it so. It returns true when it changed the
// campaign (its event then waits in the announce set).
func (s Campaigns) FinishIfDone(ctx context.Context, id string) (bool, error) {
	n, err := finishScript.Run(ctx, s.rdb, s.finishKeys(id), s.now().UnixMilli(), s.retention.Milliseconds(), id).Int()
	if err != nil {
		return false, fmt.Errorf("campaign: finish %s: %w", id, err)
	}
	return n == 1, nil
}

// Sealing is what a seal did.
type Sealing struct {
	Changed bool // false when the campaign was already sealed
	Ended   bool // the seal found every recipient final: the campaign ended
}

// Seal closes a campaign to new recipients: rows for recipients it does not
// have yet are rejected from now on (duplicates stay harmless), and it
// completes once every recipient it has is final. Sealing again is a no-op.
func (s Campaigns) Seal(ctx context.Context, id string) (Sealing, error) {
	r, err := sealScript.Run(ctx, s.rdb, s.finishKeys(id), s.now().UnixMilli(), s.retention.Milliseconds(), id).Text()
	if err != nil {
		return Sealing{}, fmt.Errorf("campaign: seal %s: %w", id, err)
	}
	if r == "gone" {
		return Sealing{}, sentence.Of(campaign.ErrNotFound, "campaign %s not found", ident.Name(id))
	}
	verdict, ended := strings.CutSuffix(r, ":ended")
	return Sealing{Changed: verdict == "sealed", Ended: ended}, nil
}

// nowMS is the store's clock in ms, for scripts.
func (s *base) nowMS() int64 { return s.now().UnixMilli() }
