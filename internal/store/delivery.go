package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mmlite/mmlite/internal/asynqwire"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// Delivery is one status event of a sent message, from a webhook.
type Delivery struct {
	WAMID     string
	Status    string // sent, delivered, read, failed
	Category  string // pricing.category, when given
	ErrorCode int    // of a failed status
	At        int64  // unix seconds
	// Task, when set, is the event's status task (and its callback),
	// enqueued by Record in the same step as it records the event, when it
	// is the first of its (wamid, status): a single Redis node only (in
	// Cluster the results queue lives in another slot).
	Task *ResultTask
	// Always, when set, are tasks written in the same step whatever
	// becomes of the event (seen before, of a message mmlite does not
	// know): the webhook's relay tasks (chained by Also), which then cost no
	// step of their own. A single Redis node only.
	Always *ResultTask
	// AlwaysOnly: write the Always tasks, record nothing. For a status
	// whose wamid was unknown when looked up (kept for its send's settle,
	// which hands it on to be counted and emitted, see KeepUnmatched):
	// counted here, should the settle come in between, its event would be
	// lost.
	AlwaysOnly bool
	// Shape, when set, has Record put the Task messages together itself
	// from the message's recipient, read in the same step: the Msg of
	// Task (and of its Also) is then the message's tail (see
	// asynqwire.MessageTail). So a status needs no lookup before it is
	// recorded.
	Shape *StatusShape
}

// StatusShape is a status task's message but for the message's campaign
// and recipient, which Record reads from the message's record: the
// payload is {"campaign_id":"<campaign>","to":"<recipient>",<PayloadTail>,
// as encoding/json writes a task.StatusEvent, so that Record writes the
// very bytes of emit's status task. A campaign or recipient that JSON
// would escape is not put together (DeliveryResult.Unshaped).
type StatusShape struct {
	Head        []byte // the messages' head (see asynqwire.MessageHead)
	PayloadTail []byte // the payload after its "to"
}

// StatusResolved is the event of an unknown outcome resolved to sent (see
// Ledger.MatchUnknowns), recorded like a status of its message so that
// its task is emitted once however often the resolution is replayed. It
// counts nothing.
const StatusResolved = "resolved"

// RecordField says whether a status of that name would be written over a
// field the message's record keeps for itself (see recordScript): its
// recipient, pricing, implied delivered, place, error code, resolution. No
// provider sends such a status; one that came would corrupt the record.
func RecordField(status string) bool {
	switch status {
	case "c", "pricing", "di", "p", "code", StatusResolved:
		return true
	}
	return false
}

// Tracked says what a delivery event is about.
type Tracked struct {
	Campaign, To string
	Known        bool // the wamid maps to a recipient
	Seen         bool // this (wamid, status) was already recorded
	Priced       bool // the message's pricing category was already recorded
	// Place is the place in a messaging limit's window the message holds
	// (see Ledger.Keeping), or nil.
	Place *Place
}

// Track looks many events up in one round trip.
func (s Deliveries) Track(ctx context.Context, ds []Delivery) ([]Tracked, error) {
	cmds := make([]*redis.SliceCmd, len(ds))
	err := s.each(ctx, len(ds), func(c redis.Cmdable, i int) redis.Cmder {
		cmds[i] = c.HMGet(ctx, s.keys.WAMID(ds[i].WAMID), "c", ds[i].Status, "pricing", "di", "p")
		return cmds[i]
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("campaign: track deliveries: %w", err)
	}
	out := make([]Tracked, len(ds))
	for i, cmd := range cmds {
		v := cmd.Val()
		c, _ := v[0].(string)
		if id, to, ok := strings.Cut(c, "\n"); ok {
			implied := ds[i].Status == "delivered" && v[3] != nil // by a read: not seen itself (see recordScript)
			p, _ := v[4].(string)
			out[i] = Tracked{Campaign: id, To: to, Known: true, Seen: v[1] != nil && !implied, Priced: v[2] != nil, Place: placeOf(p)}
		}
	}
	return out, nil
}

// recordScript marks one (wamid, status) and counts it in its campaign
// (when the campaign is still there), once; the first time, it enqueues
// the event's tasks, if any (a task of
// the same id still there is left alone, as asynq's own enqueue would). A
// read implies delivered: counted, and marked implied (field di), so that
// the delivered that comes after it is emitted all the same; pricing category "marketing" (Cloud API
// fallback) is counted once per message. The error code of a failed
// status is kept with the message, for results exports; a failed status
// counts as undelivered (and in its code's delivery errors) only while the
// message has no delivered (nor read), as the export's undelivered selects.
// Before anything, it writes the Always tasks (and, AlwaysOnly, nothing
// else).
// It returns -1 for a wamid it does not know (nothing recorded), -2 for a
// Shape it cannot put together (nothing recorded), else 1 when it counted
// the event, plus 2 for the first sign of a fallback.
// KEYS: 1 wamid hash, 2 task hash, 3 its pending list, 4 second task hash,
// 5 its pending list (the wamid hash where there is no task), then a task
// hash and its pending list for each Always task. ARGV: 1 status, 2 time,
// 3 pricing category, 4 campaign key prefix, 5 error code of a failed
// status, 6 now (ns), 7 task id ("" for none), 8 its asynq message (its
// tail with a Shape), 9 second task id ("" for none), 10 its message, 11
// "1" for AlwaysOnly, 12 the Shape's head ("" for none), 13 its payload
// tail, then the id and the message of each Always task.
var recordScript = redis.NewScript(asynqwire.LuaEnqueue + asynqwire.LuaMessage + `
for i = 6, #KEYS, 2 do enqueue(KEYS[i], KEYS[i+1], ARGV[i+8], ARGV[i+9], ARGV[6]) end
if ARGV[11] == '1' then return 0 end
local c = redis.call('HGET', KEYS[1], 'c')
if not c then return -1 end
local id, to = string.match(c, '^([^\n]*)\n(.*)$')
if ARGV[12] ~= '' and string.find(id .. to, '[^%w._+-]') then return -2 end
local function emit()
  local m1, m2 = ARGV[8], ARGV[10]
  if ARGV[12] ~= '' then
    local payload = '{"campaign_id":"' .. id .. '","to":"' .. to .. '",' .. ARGV[13]
    m1 = message(ARGV[12], payload, m1)
    if ARGV[9] ~= '' then m2 = message(ARGV[12], payload, m2) end
  end
  enqueue(KEYS[2], KEYS[3], ARGV[7], m1, ARGV[6])
  enqueue(KEYS[4], KEYS[5], ARGV[9], m2, ARGV[6])
end
local ck = ARGV[4] .. id
if redis.call('EXISTS', ck) == 0 then
  if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 1 then emit() end
  return 0
end
local flags = 0
if ARGV[3] ~= '' and redis.call('HSETNX', KEYS[1], 'pricing', ARGV[3]) == 1 and ARGV[3] == 'marketing' then
  redis.call('HINCRBY', ck, 'fallback', 1)
  flags = 2
end
if redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]) == 0 then
  -- A delivered that a read implied: seen now, counted already.
  if ARGV[1] == 'delivered' and redis.call('HDEL', KEYS[1], 'di') == 1 then
    redis.call('HSET', KEYS[1], 'delivered', ARGV[2])
    emit()
  end
  return flags
end
emit()
-- delivered: the message's first delivered (or read): one failed before
-- it counted as undelivered, which it no longer is.
local function delivered()
  redis.call('HINCRBY', ck, 'delivered', 1)
  if redis.call('HEXISTS', KEYS[1], 'failed') == 0 then return end
  redis.call('HINCRBY', ck, 'undelivered', -1)
  local code = redis.call('HGET', KEYS[1], 'code')
  if code and redis.call('HINCRBY', ck, 'err:' .. code, -1) <= 0 then redis.call('HDEL', ck, 'err:' .. code) end
end
local st = ARGV[1]
if st == 'delivered' then
  delivered()
elseif st == 'read' then
  redis.call('HINCRBY', ck, 'read', 1)
  if redis.call('HSETNX', KEYS[1], 'delivered', ARGV[2]) == 1 then
    delivered()
    redis.call('HSET', KEYS[1], 'di', '1')
  end
elseif st == 'failed' then
  if ARGV[5] ~= '0' then redis.call('HSET', KEYS[1], 'code', ARGV[5]) end
  if redis.call('HEXISTS', KEYS[1], 'delivered') == 0 then
    redis.call('HINCRBY', ck, 'undelivered', 1)
    if ARGV[5] ~= '0' then redis.call('HINCRBY', ck, 'err:' .. ARGV[5], 1) end
  end
end
return flags + 1
`)

// DeliveryResult is what Record did with one event.
type DeliveryResult struct {
	Counted  bool // first time for this (wamid, status)
	Fallback bool // first sign that Meta sent this message through the Cloud API
	Unknown  bool // the wamid maps to no recipient: nothing recorded
	Unshaped bool // its Shape could not be put together: nothing recorded
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
	cmds := make([]*redis.Cmd, len(ds))
	prefix := s.keys.Campaign("")
	now := strconv.FormatInt(s.now().UnixNano(), 10)
	err := s.each(ctx, len(ds), func(c redis.Cmdable, i int) redis.Cmder {
		d := ds[i]
		wk := s.keys.WAMID(d.WAMID)
		more := 0 // room for the Always tasks, allocated once
		for t := d.Always; t != nil; t = t.Also {
			more += 2
		}
		keys := append(make([]string, 0, 5+more), wk, wk, wk, wk, wk)
		only := "0"
		if d.AlwaysOnly {
			only = "1"
		}
		args := append(make([]any, 0, 13+more), d.Status, d.At, d.Category, prefix, d.ErrorCode, now, "", "", "", "", only, "", "")
		if sh := d.Shape; sh != nil {
			args[11], args[12] = sh.Head, sh.PayloadTail
		}
		if t := d.Task; t != nil {
			tk := keyspace.New(t.Queue)
			keys[1], keys[2], args[6], args[7] = tk.AsynqTask(t.ID), tk.AsynqPending(), t.ID, t.Msg
			if a := t.Also; a != nil {
				ak := keyspace.New(a.Queue)
				keys[3], keys[4], args[8], args[9] = ak.AsynqTask(a.ID), ak.AsynqPending(), a.ID, a.Msg
			}
		}
		for t := d.Always; t != nil; t = t.Also {
			tk := keyspace.New(t.Queue)
			keys = append(keys, tk.AsynqTask(t.ID), tk.AsynqPending())
			args = append(args, t.ID, t.Msg)
		}
		cmds[i] = recordScript.EvalSha(ctx, c, keys, args...)
		return cmds[i]
	})
	if err != nil {
		return nil, err
	}
	out := make([]DeliveryResult, len(ds))
	for i, cmd := range cmds {
		n, _ := cmd.Int()
		out[i] = DeliveryResult{Counted: n > 0 && n&1 == 1, Fallback: n > 0 && n&2 == 2, Unknown: n == -1, Unshaped: n == -2}
	}
	return out, nil
}

// each issues n commands, cmd(c, i) for each i, in one round trip: a
// single one on the store's client itself, so that a client that
// pipelines many callers' commands together (redis.AutoPipeliner, as the
// api's webhook intake uses) sends it with the others'; more in a pipeline
// of their own. It returns the first command's error.
func (s Deliveries) each(ctx context.Context, n int, cmd func(c redis.Cmdable, i int) redis.Cmder) error {
	if n == 1 {
		return cmd(s.rdb, 0).Err()
	}
	pipe := s.rdb.Pipeline()
	for i := range n {
		cmd(pipe, i)
	}
	_, err := pipe.Exec(ctx)
	return err
}

// Via returns the deliveries over another client of the same Redis (an
// autopipelining one, say).
func (s Deliveries) Via(rdb redis.UniversalClient) Deliveries {
	b := *s.base
	b.rdb = rdb
	return Deliveries{&b}
}
