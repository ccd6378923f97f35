package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/redisbatch"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/redis/go-redis/v9"
)

// base is what the three parts of the store share.
type base struct {
	rdb       redis.UniversalClient
	keys      keyspace.Space
	now       func() time.Time
	batch     *redisbatch.Batcher
	retention time.Duration
	// unknownWindow and unknownGrace: see Options.
	unknownWindow, unknownGrace time.Duration
}

// Campaigns keeps campaign definitions, their states and counts.
type Campaigns struct{ *base }

// Ledger keeps one marker per recipient of a campaign.
type Ledger struct {
	*base
	place   *Place // see WithPlace
	refused bool
}

// Deliveries maps webhook statuses back to recipients and counts them.
type Deliveries struct{ *base }

// Store is the three parts over one Redis.
type Store struct {
	Campaigns  Campaigns
	Ledger     Ledger
	Deliveries Deliveries
	b          *base
}

// Options tune a Store.
type Options struct {
	// Retention: how long a finished campaign is kept (see
	// DefaultRetention, the default).
	Retention time.Duration
	// Batcher, when set, lets the ledger's claims, settles and releases
	// share pipelines with other goroutines' (see package redisbatch).
	Batcher *redisbatch.Batcher
	// UnknownWindow is how long after an attempt whose outcome is unknown a
	// status webhook of its message may still resolve it (see
	// Ledger.MatchUnknown); 0 keeps no unknown outcome for matching.
	UnknownWindow time.Duration
	// UnknownGrace is how long after such an attempt matching waits, so
	// that every other attempt to the same recipient in flight at the same
	// time has settled: two unknown attempts are never told apart.
	UnknownGrace time.Duration
}

// New returns the store of a key space (the send queue's).
func New(rdb redis.UniversalClient, keys keyspace.Space, o Options) *Store {
	b := &base{rdb: rdb, keys: keys, now: time.Now, batch: o.Batcher, retention: o.Retention,
		unknownWindow: o.UnknownWindow, unknownGrace: o.UnknownGrace}
	if b.retention <= 0 {
		b.retention = campaign.DefaultRetention
	}
	return &Store{Campaigns: Campaigns{b}, Ledger: Ledger{base: b}, Deliveries: Deliveries{b}, b: b}
}

// Retention is how long the store keeps a finished campaign.
func (b *base) Retention() time.Duration { return b.retention }

// Keys is the store's key space.
func (b *base) Keys() keyspace.Space { return b.keys }

// run runs a hot-path script, batched when the store has a batcher.
func (s *base) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.batch != nil {
		return s.batch.Run(ctx, script, keys, args...)
	}
	return script.Run(ctx, s.rdb, keys, args...)
}

// recordTimeout bounds the writes of outcomes that already happened, which
// do not end with the job's context.
const recordTimeout = 10 * time.Second

// registerScript stores a definition once. It returns 1 when created
// running; 2 when created paused because its WABA has not signed the MM
// Lite terms; 3 and the reason when created paused by a hold (see Hold).
// Both are checked in the same step, so that the webhook that lifts them
// cannot slip between the check and the pause. It returns 0 when the same
// definition was already there, -1 when a different one is.
//
// A campaign created paused is listed to announce (its automatic pause's
// event). One created paused by a hold has the hold's error (see
// PauseError).
//
// A campaign's own callback_url is also kept on its own, until CallbackURL
// expires (see CallbackURLMargin); a campaign without one deletes the key
// an earlier campaign of the same id left, so as not to inherit its URL.
//
// KEYS: 1 campaign, 2 ledger, 3 campaigns index, 4 retire index, 5 onboarded
// WABAs, 6 the WABA's waiting campaigns, 7 the campaigns to announce, 8 the
// index of waiting lists (see luaWait), 9 callback_url, then each hold's key
// and set. ARGV: 1 definition, 2 now (ms), 3 when the keys expire (unix s),
// 4 id, 5 WABA ("" when it need not wait), 6 pause reason, 7 callback_url
// ("" for none), 8 when it expires (unix s).
var registerScript = redis.NewScript(luaWait + luaPauseError + `
local def = redis.call('HGET', KEYS[1], 'def')
if def then
  if def == ARGV[1] then return {0} end
  return {-1}
end
redis.call('HSET', KEYS[1], 'def', ARGV[1], 'state', 'running', 'created_at', ARGV[2])
local res = {1}
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[5], ARGV[5]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', ARGV[6], 'paused_at', ARGV[2])
  wait(KEYS[8], KEYS[6], ARGV[4])
  res = {2}
end
for i = 10, #KEYS - 1, 2 do
  local reason = res[1] == 1 and redis.call('GET', KEYS[i])
  if reason then
    redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', reason, 'paused_at', ARGV[2], 'fatal', pauseError(reason, 0))
    wait(KEYS[8], KEYS[i + 1], ARGV[4])
    res = {3, reason}
  end
end
redis.call('HSET', KEYS[2], '', '')
redis.call('EXPIREAT', KEYS[1], ARGV[3])
redis.call('EXPIREAT', KEYS[2], ARGV[3])
if ARGV[7] ~= '' then
  redis.call('SET', KEYS[9], ARGV[7])
  redis.call('EXPIREAT', KEYS[9], ARGV[8])
else
  redis.call('DEL', KEYS[9])
end
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], tonumber(ARGV[3]) * 1000, ARGV[4])
if res[1] ~= 1 then redis.call('SADD', KEYS[7], ARGV[4]) end
return res
`)

// Hold is a condition a campaign registers paused under (a paused
// template, see guard.TemplateHolds): while Key exists, its value is the
// pause reason, and the campaign is listed in Set, which lifting the
// condition resumes.
type Hold struct{ Key, Set string }

// Registered is what a registration did.
type Registered struct {
	Created bool // false when the same definition was already there
	// Paused: created paused, waiting for its WABA's onboarding, or held
	// (Held is then the pause reason).
	Paused bool
	Held   string
}

// Register stores a normalised, validated campaign. Registering the same
// definition again is a no-op (Created is false); a different definition
// under the same id is ErrConflict. A new campaign starts paused under the
// first hold that is on.
func (s Campaigns) Register(ctx context.Context, c *campaign.Campaign, holds ...Hold) (Registered, error) {
	return s.register(ctx, c, "", "", holds)
}

// RegisterAwaitingOnboarding is Register for a sender that must not send
// before its WABA signed the MM Lite terms: unless the WABA already did, the
// campaign is created paused with reason, until Store.Onboarded lists it.
func (s Campaigns) RegisterAwaitingOnboarding(ctx context.Context, c *campaign.Campaign, waba, reason string, holds ...Hold) (Registered, error) {
	return s.register(ctx, c, waba, reason, holds)
}

func (s Campaigns) register(ctx context.Context, c *campaign.Campaign, waba, reason string, holds []Hold) (Registered, error) {
	def, err := json.Marshal(c)
	if err != nil {
		return Registered{}, fmt.Errorf("campaign: encode: %w", err)
	}
	now := s.now()
	start := now // a campaign scheduled later lives its lifetime from then
	if c.SendAt != nil && c.SendAt.After(now) {
		start = *c.SendAt
	}
	end := start.Add(campaign.DefaultLifetime)
	if c.ExpiresAt != nil {
		end = *c.ExpiresAt
	}
	onboarding := s.keys.Campaign(c.ID)
	if waba != "" {
		onboarding = s.keys.Onboarding(waba)
	}
	keys := []string{s.keys.Campaign(c.ID), s.keys.Ledger(c.ID), s.keys.Campaigns(), s.keys.Retire(), s.keys.WABAs(), onboarding, s.keys.Announce(),
		s.keys.WaitLists(), s.keys.CallbackURL(c.ID)}
	for _, h := range holds {
		keys = append(keys, h.Key, h.Set)
	}
	v, err := registerScript.Run(ctx, s.rdb, keys, def, now.UnixMilli(), end.Add(s.retention).Unix(), c.ID, waba, reason,
		c.CallbackURL, end.Add(2*s.retention+CallbackURLMargin).Unix()).Slice()
	if err != nil {
		return Registered{}, fmt.Errorf("campaign: register %s: %w", c.ID, err)
	}
	n := toInt(v[0])
	if n < 0 {
		return Registered{}, sentence.Of(campaign.ErrConflict, "a different campaign with the id %s exists: choose another id", c.ID)
	}
	r := Registered{Created: n > 0, Paused: n >= 2}
	if n == 3 && len(v) > 1 {
		r.Held, _ = v[1].(string)
	}
	return r, nil
}

// holdScript moves a paused campaign under the first hold that is on: its
// pause reason and error become the hold's (see PauseError), and it is
// listed in the hold's set. A
// new reason is a pause of its own, announced (see emit.Announce: its
// paused_at, at least a millisecond after the last one's, names its
// event). It returns the reason, or false. KEYS: 1 campaign, 2 the index
// of waiting lists (see luaWait), 3 the campaigns to announce, then each
// hold's key and set. ARGV: 1 id, 2 the start of the pause reason it
// requires ("" for any), 3 now (ms).
var holdScript = redis.NewScript(luaWait + luaPauseError + `
local c = redis.call('HMGET', KEYS[1], 'state', 'paused_reason', 'paused_at')
if c[1] ~= 'paused' or string.sub(c[2] or '', 1, #ARGV[2]) ~= ARGV[2] then return false end
for i = 4, #KEYS - 1, 2 do
  local reason = redis.call('GET', KEYS[i])
  if reason then
    if reason ~= c[2] then
      local at = math.max(tonumber(ARGV[3]), (tonumber(c[3]) or 0) + 1)
      redis.call('HSET', KEYS[1], 'paused_reason', reason, 'paused_at', string.format('%d', at), 'fatal', pauseError(reason, 0))
      redis.call('SADD', KEYS[3], ARGV[1])
    end
    wait(KEYS[2], KEYS[i + 1], ARGV[1])
    return reason
  end
end
return false
`)

// Hold keeps a campaign paused for a reason that starts with pausedFor
// ("" for any) paused under the first hold that is on, in one step (the
// condition cannot be lifted in between, unseen): before a resume for that
// reason (its WABA's onboarding, say). The new reason is announced. It
// returns the hold's reason, or "" when none is on (or the campaign is
// paused for another reason).
func (s Campaigns) Hold(ctx context.Context, id, pausedFor string, holds ...Hold) (string, error) {
	keys := []string{s.keys.Campaign(id), s.keys.WaitLists(), s.keys.Announce()}
	for _, h := range holds {
		keys = append(keys, h.Key, h.Set)
	}
	reason, err := holdScript.Run(ctx, s.rdb, keys, id, pausedFor, s.now().UnixMilli()).Text()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("campaign: hold %s: %w", id, err)
	}
	return reason, nil
}

// Get returns a campaign's definition.
func (s Campaigns) Get(ctx context.Context, id string) (*campaign.Campaign, error) {
	b, err := s.rdb.HGet(ctx, s.keys.Campaign(id), "def").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, sentence.Of(campaign.ErrNotFound, "campaign %s not found", ident.Name(id))
	}
	if err != nil {
		return nil, fmt.Errorf("campaign: get %s: %w", id, err)
	}
	var c campaign.Campaign
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("campaign: decode %s: %w", id, err)
	}
	return &c, nil
}

// State returns a campaign's state ("" when it has none).
func (s Campaigns) State(ctx context.Context, id string) (campaign.State, error) {
	st, err := s.rdb.HGet(ctx, s.keys.Campaign(id), "state").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("campaign: state of %s: %w", id, err)
	}
	return campaign.State(st), nil
}
