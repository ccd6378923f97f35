package outbound

import (
	"context"
	"errors"
	"fmt"

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
// Idempotency-Key), payload and headers, but no retries counted, and
// MaxRetry as its retry limit. asynq's
// own "run" keeps them, and Server.give measures a delivery's age by them:
// one archived for age would be archived again at its first failure. It
// returns the number of deliveries queued.
func Replay(ctx context.Context, rdb redis.UniversalClient, queue string) (int, error) {
	const page = 500
	k := keyspace.New(queue)
	replayed, skip := 0, int64(0)
	for {
		ids, err := rdb.ZRange(ctx, k.AsynqArchived(), skip, skip+page-1).Result()
		if err != nil || len(ids) == 0 {
			return replayed, replayErr(err)
		}
		n := 0
		for _, id := range ids {
			ok, err := replayOne(ctx, rdb, k, id)
			if err != nil {
				return replayed + n, err
			}
			if ok {
				n++
			}
		}
		replayed, skip = replayed+n, skip+int64(len(ids)-n) // those left are still in the set
	}
}

// replayOne moves one archived task back to pending, afresh.
func replayOne(ctx context.Context, rdb redis.UniversalClient, k keyspace.Space, id string) (bool, error) {
	msg, err := rdb.HGet(ctx, k.AsynqTask(id), "msg").Result()
	if errors.Is(err, redis.Nil) {
		return false, nil // gone meanwhile
	}
	if err != nil {
		return false, replayErr(err)
	}
	fresh, err := asynqwire.Fresh([]byte(msg), MaxRetry) // a callback written before it had MaxRetry gets it
	if err != nil {
		return false, fmt.Errorf("outbound: replay %s: %w", id, err)
	}
	keys := []string{k.AsynqTask(id), k.AsynqArchived(), k.AsynqPending()}
	n, err := replayScript.Run(ctx, rdb, keys, id, msg, fresh, asynqwire.Now()).Int()
	return n == 1, replayErr(err)
}

func replayErr(err error) error {
	if err != nil {
		return fmt.Errorf("outbound: replay: %w", err)
	}
	return nil
}
