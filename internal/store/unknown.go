package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Unknown outcomes resolved by webhooks. When the outcome of a send is
// unknown (the API may have accepted it: a timeout after the request was
// written, a worker that died mid-call), its settle keeps the attempt, by
// business number (phone number id) and recipient, for UnknownWindow (see
// keyspace.Unknown and settleScript). A status webhook for a message
// mmlite does not know is kept the same way, for UnmatchedTTL (see
// keyspace.Unmatched): it may come before the attempt is reported unknown
// (a dead worker's attempt is, once its job is taken over). The workers'
// housekeeping matches the two (MatchUnknowns) once UnknownGrace has passed
// since the attempt, so that every other attempt to that recipient in
// flight at the same time has settled too: one unknown attempt and one
// message from that number to that recipient after it resolve the attempt
// to sent; two attempts, or two messages, are never told apart, and the
// outcome stays unknown.
//
// A status can also come before its own send is recorded: the webhook beat
// the API's answer to the worker, or the settle was tried again after a
// Redis error. It is kept the same way, and the settle that maps its wamid
// takes it, in the same step, for the housekeeping to count and emit as an
// early replay (see Resolution.Early): nothing a webhook said is lost.

// UnmatchedTTL is how long the statuses of a message mmlite does not know
// wait for an unknown attempt to match.
const UnmatchedTTL = time.Hour

// statusSkew is how much earlier than the attempt (by mmlite's clock) the
// provider's timestamp of its message may be: the two clocks differ.
const statusSkew = time.Minute

// Unmatched is a status of a message mmlite does not know: its wamid maps
// to no recipient.
type Unmatched struct {
	PhoneNumberID, To string // from the webhook: metadata.phone_number_id, recipient_id
	Delivery
}

// keepScript keeps a status of an unknown message from a number to a
// recipient: a status priced as marketing (MM Lite's, or its Cloud API
// fallback), or a later status of a message kept before; any other is
// not ours to match. A pair with unknown attempts is matched again soon.
// A wamid its send's settle mapped since the webhook looked it up is not
// kept: the caller looks it up again (checked in the same step as the
// settle takes what is kept for it, see settleScript, so that no status
// falls between the two).
// KEYS: 1 unmatched, 2 unknown attempts, 3 the unknowns index, 4 the
// wamid's hash. ARGV: 1 wamid, 2 status, 3 time (unix s), 4 pricing
// category, 5 error code, 6 TTL (ms), 7 the pair, 8 now (ms).
var keepScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[4], 'c') == 1 then return 2 end
local seen = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1
if not seen and ARGV[4] ~= 'marketing_lite' and ARGV[4] ~= 'marketing' then return 0 end
local ts = tonumber(ARGV[3])
if not seen or ts < tonumber(redis.call('HGET', KEYS[1], ARGV[1])) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
redis.call('HSETNX', KEYS[1], ARGV[1] .. '\n' .. ARGV[2], ARGV[3] .. '|' .. ARGV[4] .. '|' .. ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
if redis.call('EXISTS', KEYS[2]) == 1 then
  local sc = redis.call('ZSCORE', KEYS[3], ARGV[7])
  if not sc or tonumber(sc) > tonumber(ARGV[8]) then redis.call('ZADD', KEYS[3], ARGV[8], ARGV[7]) end
end
return 1
`)

// Keeping is what KeepUnmatched did with one status.
type Keeping int

// What KeepUnmatched did.
const (
	// NotKept: not a status of a marketing message (nor a later one of a
	// message kept), or one without its number or recipient: not ours.
	NotKept Keeping = iota
	// Kept for matching, and for its send's settle to take.
	Kept
	// KnownNow: its wamid maps to a recipient since it was looked up (its
	// send was recorded in between): look it up again and record it.
	KnownNow
)

// KeepUnmatched keeps statuses of messages mmlite does not know, for
// matching against unknown attempts and for the settle of their own send
// (when the webhook beat it); a status without its number or recipient
// cannot be. It reports what it did with each.
func (s Deliveries) KeepUnmatched(ctx context.Context, us []Unmatched) ([]Keeping, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(us))
	now := s.nowMS()
	for i, u := range us {
		if u.PhoneNumberID == "" || u.To == "" || u.WAMID == "" {
			continue
		}
		keys := []string{s.keys.Unmatched(u.PhoneNumberID, u.To), s.keys.Unknown(u.PhoneNumberID, u.To), s.keys.Unknowns(),
			s.keys.WAMID(u.WAMID)}
		// EVAL, not EVALSHA: a script not yet loaded fails a whole pipeline.
		cmds[i] = keepScript.Eval(ctx, pipe, keys, u.WAMID, u.Status, u.At, u.Category, u.ErrorCode,
			UnmatchedTTL.Milliseconds(), u.PhoneNumberID+"\n"+u.To, now)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("campaign: keep statuses of unknown messages: %w", err)
	}
	out := make([]Keeping, len(us))
	for i, c := range cmds {
		if c != nil {
			n, _ := c.Int()
			out[i] = Keeping(n)
		}
	}
	return out, nil
}

// matchScript matches the unknown attempts of one (number, recipient) pair
// with the messages kept for it. Attempts past their window are dropped
// ("expired"). While an attempt is within its grace, the pair waits. Two
// attempts are "ambiguous" and dropped; one attempt and one message after
// it (by the message's earliest status, within statusSkew) is a "match",
// left to resolveScript; one attempt and two such messages is "ambiguous"
// too. A message whose wamid maps to a recipient by now (its status came
// before its own send was recorded) is another campaign's, not a
// candidate. It returns {verdict, expired, ambiguous, campaign, wamid}.
// KEYS: 1 unknown attempts, 2 unmatched, 3 index. ARGV: 1 the pair, 2 now
// (ms), 3 skew (ms), 4 the wamid key prefix.
var matchScript = redis.NewScript(`
local now = tonumber(ARGV[2])
local h = redis.call('HGETALL', KEYS[1])
local live, expired, wait = {}, 0, nil
for i = 1, #h, 2 do
  local at, due, deadline = string.match(h[i + 1], '^(%d+)|(%d+)|(%d+)$')
  at, due, deadline = tonumber(at), tonumber(due), tonumber(deadline)
  if deadline <= now then
    redis.call('HDEL', KEYS[1], h[i])
    expired = expired + 1
  else
    live[#live + 1] = {c = h[i], at = at, deadline = deadline}
    if due > now and (not wait or due < wait) then wait = due end
  end
end
if #live == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'none', expired, 0}
end
if wait then
  redis.call('ZADD', KEYS[3], wait, ARGV[1])
  return {'wait', expired, 0}
end
if #live > 1 then
  for _, e in ipairs(live) do redis.call('HDEL', KEYS[1], e.c) end
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'ambiguous', expired, #live}
end
local e = live[1]
local found = {}
local u = redis.call('HGETALL', KEYS[2])
for i = 1, #u, 2 do
  if not string.find(u[i], '\n', 1, true) and tonumber(u[i + 1]) * 1000 >= e.at - tonumber(ARGV[3])
      and redis.call('HEXISTS', ARGV[4] .. u[i], 'c') == 0 then
    found[#found + 1] = u[i]
  end
end
if #found == 0 then
  redis.call('ZADD', KEYS[3], e.deadline, ARGV[1])
  return {'wait', expired, 0}
end
if #found > 1 then
  redis.call('HDEL', KEYS[1], e.c)
  redis.call('ZREM', KEYS[3], ARGV[1])
  return {'ambiguous', expired, 1}
end
return {'match', expired, 0, e.c, found[1]}
`)

// resolveScript records an unknown outcome as sent with the wamid it was
// matched to, if the outcome is still the one read (old), and counts it
// sent instead of unknown; the wamid maps to the recipient from now on. It
// drops the attempt and the message from matching, and moves the statuses
// kept for the message to the replays hash, with the resolution (see
// decodeReplay), which it returns too. The message is marked sent (at its
// sent status's time, or the resolution's): the resolution's event stands
// for its "sent" status, which a webhook that comes later no longer emits
// again. With no new marker, it only drops
// the attempt; a wamid mapped meanwhile changes nothing (the next match
// leaves it out).
// KEYS: 1 ledger, 2 campaign, 3 wamid, 4 unknown attempts, 5 unmatched,
// 6 index, 7 replays. ARGV: 1 recipient, 2 old marker, 3 new marker, 4
// "campaign\nrecipient", 5 wamid TTL (s), 6 campaign id, 7 the pair, 8
// wamid, 9 the resolution's time (unix ms).
var resolveScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[3], 'c') == 1 then return {0} end
redis.call('HDEL', KEYS[4], ARGV[6])
if redis.call('HLEN', KEYS[4]) == 0 then redis.call('ZREM', KEYS[6], ARGV[7]) end
if ARGV[3] == '' or redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] or redis.call('EXISTS', KEYS[2]) == 0 then return {0} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HINCRBY', KEYS[2], 'unknown', -1)
redis.call('HINCRBY', KEYS[2], 'sent', 1)
redis.call('HSET', KEYS[3], 'c', ARGV[4])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) else redis.call('EXPIRE', KEYS[3], ARGV[5]) end
local out = {ARGV[8], ARGV[9]}
local u = redis.call('HGETALL', KEYS[5])
local prefix = ARGV[8] .. '\n'
local sentAt = math.floor(tonumber(ARGV[9]) / 1000)
for i = 1, #u, 2 do
  if string.sub(u[i], 1, #prefix) == prefix then
    local st = string.sub(u[i], #prefix + 1)
    out[#out + 1] = st .. '\n' .. u[i + 1]
    if st == 'sent' then sentAt = string.match(u[i + 1], '^([^|]*)') end
  end
end
redis.call('HSETNX', KEYS[3], 'sent', sentAt)
redis.call('HDEL', KEYS[5], ARGV[8])
local replay = cjson.encode(out)
redis.call('HSET', KEYS[7], ARGV[4], replay)
return {1, replay}
`)

// Matching is what one round of MatchUnknowns did.
type Matching struct {
	Resolved  []Resolution
	Ambiguous int // unknown attempts that stay unknown: another attempt, or another message, in their window
	Expired   int // unknown attempts no status matched within their window
}

// Resolution is an unknown outcome resolved to sent, or (Early) the
// statuses of a sent message that came before its send was recorded.
type Resolution struct {
	Campaign, To, WAMID string
	At                  time.Time  // when it was resolved; zero when Early
	Statuses            []Delivery // the statuses of its message kept so far: to be counted and emitted now
	// Early: no resolution, nothing was unknown. The settle that mapped
	// the wamid took the statuses its webhooks brought before; they are
	// counted and emitted as they would have been then, "sent" included.
	Early bool
}

// MatchUnknowns matches up to limit (number, recipient) pairs that are due
// (see the comment at the top of this file).
func (s Ledger) MatchUnknowns(ctx context.Context, limit int64) (Matching, error) {
	var out Matching
	pairs, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: s.keys.Unknowns(), ByScore: true, Start: "-inf",
		Stop: strconv.FormatInt(s.nowMS(), 10), Count: limit}).Result()
	if err != nil {
		return out, fmt.Errorf("campaign: read the unknown outcomes due: %w", err)
	}
	for _, pair := range pairs {
		pnid, to, _ := strings.Cut(pair, "\n")
		keys := []string{s.keys.Unknown(pnid, to), s.keys.Unmatched(pnid, to), s.keys.Unknowns()}
		v, err := matchScript.Run(ctx, s.rdb, keys, pair, s.nowMS(), statusSkew.Milliseconds(), s.keys.WAMID("")).Slice()
		if err != nil {
			return out, fmt.Errorf("campaign: match unknown outcomes: %w", err)
		}
		out.Expired += int(toInt(v[1]))
		out.Ambiguous += int(toInt(v[2]))
		if v[0] != "match" {
			continue
		}
		c, _ := v[3].(string)
		wamid, _ := v[4].(string)
		r, err := s.resolve(ctx, pnid, to, c, wamid)
		if err != nil {
			return out, err
		}
		if r != nil {
			out.Resolved = append(out.Resolved, *r)
		}
	}
	return out, nil
}

func toInt(v any) int64 { n, _ := v.(int64); return n }

// resolve records the match of an unknown outcome and a message; nil when
// the outcome is no longer unknown (or the campaign is gone).
func (s Ledger) resolve(ctx context.Context, pnid, to, id, wamid string) (*Resolution, error) {
	old, err := s.rdb.HGet(ctx, s.keys.Ledger(id), to).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("campaign: read an unknown outcome: %w", err)
	}
	mk, err := parseMarker(old)
	if err != nil {
		return nil, err
	}
	now := s.now()
	newMarker := "" // anything but an unknown outcome only drops the attempt
	if mk.Kind == 'F' && mk.Outcome.Status == task.StatusUnknown {
		o := *mk.Outcome
		o.Status, o.WAMID, o.Error, o.Resolved = task.StatusSent, wamid, nil, now.UnixMilli()
		b, err := json.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("campaign: encode outcome: %w", err)
		}
		newMarker = "F" + string(b)
	}
	keys := []string{s.keys.Ledger(id), s.keys.Campaign(id), s.keys.WAMID(wamid), s.keys.Unknown(pnid, to),
		s.keys.Unmatched(pnid, to), s.keys.Unknowns(), s.keys.Replays()}
	v, err := resolveScript.Run(ctx, s.rdb, keys, to, old, newMarker, id+"\n"+to, int64(s.retention.Seconds()), id,
		pnid+"\n"+to, wamid, now.UnixMilli()).Slice()
	if err != nil {
		return nil, fmt.Errorf("campaign: resolve an unknown outcome: %w", err)
	}
	if toInt(v[0]) != 1 {
		return nil, nil
	}
	replay, _ := v[1].(string)
	return decodeReplay(id+"\n"+to, replay), nil
}

// decodeReplay reads a resolution kept in the replays hash: its field is
// "campaign\nrecipient"; its value a JSON array of strings: the wamid, the
// time (unix ms; "" for an early replay, written by settleScript), then
// "status\ntime|category|code" for each status of the message kept so far.
func decodeReplay(field, value string) *Resolution {
	id, to, _ := strings.Cut(field, "\n")
	var parts []string
	_ = json.Unmarshal([]byte(value), &parts) // written by resolveScript
	r := &Resolution{Campaign: id, To: to}
	if len(parts) < 2 {
		return r
	}
	r.WAMID, r.Early = parts[0], parts[1] == ""
	if !r.Early {
		ms, _ := strconv.ParseInt(parts[1], 10, 64)
		r.At = time.UnixMilli(ms)
	}
	for _, str := range parts[2:] {
		// The time and the code are numbers: the category is what lies
		// between the first and the last "|".
		st, rest, _ := strings.Cut(str, "\n")
		ts, rest, ok := strings.Cut(rest, "|")
		i := strings.LastIndexByte(rest, '|')
		if !ok || i < 0 {
			continue
		}
		at, _ := strconv.ParseInt(ts, 10, 64)
		code, _ := strconv.Atoi(rest[i+1:])
		r.Statuses = append(r.Statuses, Delivery{WAMID: r.WAMID, Status: st, At: at, Category: rest[:i], ErrorCode: code})
	}
	// In the order of a message's life, as webhooks mostly come: a read
	// recorded before its delivered counts the delivered, and leaves the
	// delivered nothing to emit (the hash's own order is Redis's).
	slices.SortStableFunc(r.Statuses, func(a, b Delivery) int { return lifeOrder(a.Status) - lifeOrder(b.Status) })
	return r
}

// lifeOrder places a status in the life of a message; others go last.
func lifeOrder(status string) int {
	switch status {
	case task.StatusSent:
		return 0
	case "delivered", "failed":
		return 1
	case "read":
		return 2
	}
	return 3
}

// Replays returns up to about limit resolutions whose event and earlier
// statuses are yet to be counted and emitted: those of this round, and
// those a worker that died mid-round left. Once done, Replayed drops one;
// doing one twice counts nothing twice and emits nothing twice (in
// Cluster: while its tasks are queued).
func (s Ledger) Replays(ctx context.Context, limit int64) ([]Resolution, error) {
	kv, _, err := s.rdb.HScan(ctx, s.keys.Replays(), 0, "", limit).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: read the resolutions to replay: %w", err)
	}
	out := make([]Resolution, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, *decodeReplay(kv[i], kv[i+1]))
	}
	return out, nil
}

// Replayed drops a resolution whose event and statuses were counted and
// emitted.
func (s Ledger) Replayed(ctx context.Context, r Resolution) error {
	if err := s.rdb.HDel(ctx, s.keys.Replays(), r.Campaign+"\n"+r.To).Err(); err != nil {
		return fmt.Errorf("campaign: drop a resolution replayed: %w", err)
	}
	return nil
}
