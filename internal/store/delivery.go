package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Delivery is one status event of a sent message, from a webhook.
type Delivery struct {
	WAMID     string
	Status    string // sent, delivered, read, failed
	Category  string // pricing.category, when given
	ErrorCode int    // of a failed status
	At        int64  // unix seconds
}

// Tracked says what a delivery event is about.
type Tracked struct {
	Campaign, To string
	Known        bool // the wamid maps to a recipient
	Seen         bool // this (wamid, status) was already recorded
	Priced       bool // the message's pricing category was already recorded
}

// Track looks many events up in one round trip.
func (s Deliveries) Track(ctx context.Context, ds []Delivery) ([]Tracked, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ds))
	for i, d := range ds {
		cmds[i] = pipe.HMGet(ctx, s.keys.WAMID(d.WAMID), "c", d.Status, "pricing")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("campaign: track deliveries: %w", err)
	}
	out := make([]Tracked, len(ds))
	for i, cmd := range cmds {
		v := cmd.Val()
		c, _ := v[0].(string)
		if id, to, ok := strings.Cut(c, "\n"); ok {
			out[i] = Tracked{Campaign: id, To: to, Known: true, Seen: v[1] != nil, Priced: v[2] != nil}
		}
	}
	return out, nil
}

// recordScript marks one (wamid, status) and counts it in its campaign,
// once. A read implies delivered; pricing category "marketing" (Cloud API
// fallback) is counted once per message. The error code of a failed
// status is kept with the message, for results exports.
// KEYS: 1 wamid hash. ARGV: 1 status, 2 time, 3 pricing category, 4 campaign
// key prefix, 5 error code of a failed status.
var recordScript = redis.NewScript(`
local c = redis.call('HGET', KEYS[1], 'c')
if not c then return 0 end
local ck = ARGV[4] .. string.match(c, '^([^\n]*)\n')
if redis.call('EXISTS', ck) == 0 then return 0 end
local flags = 0
if ARGV[3] ~= '' and redis.call('HSETNX', KEYS[1], 'pricing', ARGV[3]) == 1 and ARGV[3] == 'marketing' then
  redis.call('HINCRBY', ck, 'fallback', 1)
  flags = 2
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then return flags end
local st = ARGV[1]
if st == 'delivered' then
  redis.call('HINCRBY', ck, 'delivered', 1)
elseif st == 'read' then
  redis.call('HINCRBY', ck, 'read', 1)
  if redis.call('HSETNX', KEYS[1], 'delivered', ARGV[2]) == 1 then redis.call('HINCRBY', ck, 'delivered', 1) end
elseif st == 'failed' then
  redis.call('HINCRBY', ck, 'undelivered', 1)
  if ARGV[5] ~= '0' then
    redis.call('HINCRBY', ck, 'err:' .. ARGV[5], 1)
    redis.call('HSET', KEYS[1], 'code', ARGV[5])
  end
end
return flags + 1
`)

// DeliveryResult is what Record did with one event.
type DeliveryResult struct {
	Counted  bool // first time for this (wamid, status)
	Fallback bool // first sign that Meta sent this message through the Cloud API
}

// Record marks and counts events once each, in one round trip.
func (s Deliveries) Record(ctx context.Context, ds []Delivery) (results []DeliveryResult, err error) {
	results, err = s.record(ctx, ds)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") { // first use on this server
		if err := recordScript.Load(ctx, s.rdb).Err(); err != nil {
			return nil, fmt.Errorf("campaign: record deliveries: %w", err)
		}
		results, err = s.record(ctx, ds)
	}
	if err != nil {
		return nil, fmt.Errorf("campaign: record deliveries: %w", err)
	}
	return results, nil
}

func (s Deliveries) record(ctx context.Context, ds []Delivery) ([]DeliveryResult, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.Cmd, len(ds))
	prefix := s.keys.Campaign("")
	for i, d := range ds {
		cmds[i] = recordScript.EvalSha(ctx, pipe, []string{s.keys.WAMID(d.WAMID)}, d.Status, d.At, d.Category, prefix, d.ErrorCode)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([]DeliveryResult, len(ds))
	for i, cmd := range cmds {
		n, _ := cmd.Int()
		out[i] = DeliveryResult{Counted: n&1 == 1, Fallback: n&2 == 2}
	}
	return out, nil
}
