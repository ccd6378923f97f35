package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// failedPlace is a message whose failed status came, and the place it
// holds in its messaging limit's window.
type failedPlace struct {
	wamid, to string
	place     *Place
}

// freeFailedScript gives back the place of a message that failed, unless
// it was delivered or read (recorded before: see recordScript), and unless
// a later claim of the recipient holds the place now; it wakes the job
// that has waited longest for one (see luaFreePlace). It is idempotent: a
// second run finds the place gone. KEYS: 1 wamid hash, 2 reach, 3 the
// limit's waiting jobs, 4 asynq's retry set. ARGV: 1 recipient, 2 the
// claim time of the place (ms), 3 now (ms).
var freeFailedScript = redis.NewScript(luaFreePlace + `
if redis.call('HEXISTS', KEYS[1], 'delivered') == 1 or redis.call('HEXISTS', KEYS[1], 'read') == 1 then return 0 end
freePlace(KEYS[2], ARGV[1], ARGV[2], KEYS[3], KEYS[4], ARGV[3])
return 1
`)

// FreeFailed gives back the places of the messages of ds whose status is
// failed (tracked: what Track found of each, with the place each holds),
// in one round trip: Meta counts a messaging limit in recipients it
// delivered to, and these reached no one. A message delivered or read
// keeps its place: Record ds first, so that a delivered in the same batch
// counts as come first.
func (s Deliveries) FreeFailed(ctx context.Context, ds []Delivery, tracked []Tracked) error {
	var todo []failedPlace
	for i, d := range ds {
		if d.Status == "failed" && tracked[i].Place != nil {
			todo = append(todo, failedPlace{d.WAMID, tracked[i].To, tracked[i].Place})
		}
	}
	if len(todo) == 0 {
		return nil
	}
	err := s.freeFailed(ctx, todo)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") { // first use on this server
		if err = freeFailedScript.Load(ctx, s.rdb).Err(); err == nil {
			err = s.freeFailed(ctx, todo)
		}
	}
	if err != nil {
		return fmt.Errorf("campaign: give back the places of failed messages: %w", err)
	}
	return nil
}

func (s Deliveries) freeFailed(ctx context.Context, fs []failedPlace) error {
	now := strconv.FormatInt(s.now().UnixMilli(), 10)
	return s.each(ctx, len(fs), func(c redis.Cmdable, i int) redis.Cmder {
		f := fs[i]
		reach, waiters, retry := s.placeKeys(f.place.LimitScope)
		keys := []string{s.keys.WAMID(f.wamid), reach, waiters, retry}
		return freeFailedScript.EvalSha(ctx, c, keys, f.to, f.place.atMS(), now)
	})
}
