package outbound

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// replayScript moves an archived task back to pending with msg, unless it
// changed since it was read (another replay, asynq deleting it). KEYS: 1
// task hash, 2 archived set, 3 pending list. ARGV: 1 task id, 2 message
// read, 3 fresh message, 4 now (ns). It returns 1 when it moved the task.
var replayScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'state') ~= 'archived' or redis.call('HGET', KEYS[1], 'msg') ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'msg', ARGV[3], 'state', 'pending', 'pending_since', ARGV[4])
redis.call('LPUSH', KEYS[3], ARGV[1])
return 1
`)

// Replay queues a destination's archived deliveries again, each as it was
// first stored: same id (the receiver's X-Mmlite-Delivery-Id or
// Idempotency-Key), payload and headers, but no retries counted and
// MaxRetry as its retry limit. asynq's own "run" keeps the retries, and
// Server.give measures a delivery's age by them: one archived for age would
// be archived again at its first failure. It queues those archived when it
// began, read at once (asynq keeps at most 10,000): the workers deliver
// while it runs, and a replayed delivery the destination refuses again is
// archived again, at the end of the archive, where a replay paging through
// the archive until it is empty would take it again, and again. A page of
// deliveries costs two round trips: their messages read together, then
// moved together. It returns the number of deliveries queued.
func Replay(ctx context.Context, rdb redis.UniversalClient, queue string) (int, error) {
	const page = 500
	k := keyspace.New(queue)
	ids, err := rdb.ZRange(ctx, k.AsynqArchived(), 0, -1).Result()
	if err != nil {
		return 0, replayErr(err)
	}
	replayed := 0
	var unreadable []string
	for len(ids) > 0 {
		n, bad, err := replayPage(ctx, rdb, k, ids[:min(page, len(ids))])
		replayed += n
		unreadable = append(unreadable, bad...)
		if err != nil {
			return replayed, err
		}
		ids = ids[min(page, len(ids)):]
	}
	return replayed, unreadableErr(unreadable)
}

// unreadableErr names the archived tasks a replay left because their
// message cannot be read (not written by mmlite: by hand, by another
// program), so that one of them does not hold back the others.
func unreadableErr(ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	tasks := "tasks cannot be read, left"
	if len(ids) == 1 {
		tasks = "task cannot be read, left"
	}
	shown := ids[:min(len(ids), 10)]
	more := ""
	if len(ids) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(ids)-len(shown))
	}
	return fmt.Errorf("outbound: replay: %d archived %s in the archive (%s%s): look at them with asynq's CLI or asynqmon, and delete them there",
		len(ids), tasks, strings.Join(shown, ", "), more)
}

// replayPage moves archived tasks back to pending, afresh, and returns how
// many it moved (one gone or changed meanwhile is left) and the ids of
// those whose message cannot be read (left).
func replayPage(ctx context.Context, rdb redis.UniversalClient, k keyspace.Space, ids []string) (int, []string, error) {
	reads := make([]*redis.StringCmd, len(ids))
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			reads[i] = p.HGet(ctx, k.AsynqTask(id), "msg")
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return 0, nil, replayErr(err)
	}
	type move struct {
		id         string
		msg, fresh []byte
	}
	var todo []move
	var unreadable []string
	for i, id := range ids {
		msg, err := reads[i].Bytes()
		if err != nil {
			continue // gone meanwhile
		}
		fresh, err := asynqwire.Fresh(msg, MaxRetry) // a callback written before it had MaxRetry gets it
		if err != nil {
			unreadable = append(unreadable, id)
			continue
		}
		todo = append(todo, move{id, msg, fresh})
	}
	now := asynqwire.Now()
	moves := make([]*redis.Cmd, len(todo))
	if _, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, m := range todo {
			keys := []string{k.AsynqTask(m.id), k.AsynqArchived(), k.AsynqPending()}
			moves[i] = replayScript.Eval(ctx, p, keys, m.id, m.msg, m.fresh, now)
		}
		return nil
	}); err != nil {
		return 0, unreadable, replayErr(err)
	}
	n := 0
	for _, c := range moves {
		if v, _ := c.Int(); v == 1 {
			n++
		}
	}
	return n, unreadable, nil
}

func replayErr(err error) error {
	if err != nil {
		return fmt.Errorf("outbound: replay: %w", err)
	}
	return nil
}

// NamedQueue is a destination's delivery queue, by the destination's name.
type NamedQueue struct {
	Name, Queue string
}

// Queues are the delivery queues mmlite outbound status and replay read:
// each destination's, then the callbacks' (named CallbackName, on
// callbackQueue, CallbackQueue when ""); only the one named when only is
// not "". A name that matches none is an error.
func Queues(dests []*Destination, only, callbackQueue string) ([]NamedQueue, error) {
	if callbackQueue == "" {
		callbackQueue = CallbackQueue
	}
	var out []NamedQueue
	for _, d := range dests {
		if only == "" || only == d.Name {
			out = append(out, NamedQueue{Name: d.Name, Queue: d.Queue()})
		}
	}
	if only == "" || only == CallbackName {
		out = append(out, NamedQueue{Name: CallbackName, Queue: callbackQueue})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no destination named %q (see MMLITE_WEBHOOK_DESTINATIONS; %q is the callbacks)", only, CallbackName)
	}
	return out, nil
}
