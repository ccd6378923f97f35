package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// FailedPlace is a message whose failed status came: its wamid, its
// recipient and the place it holds in its messaging limit's window (see
// Tracked.Place).
type FailedPlace struct {
	WAMID, To string
	Place     *Place
}

// freeFailedScript gives back the place of a message that failed, unless
// it was delivered (a read implies delivered: see recordScript), and
// unless a later claim of the recipient holds the place now; it wakes the
// job that has waited longest for one (see luaFreePlace). It is idempotent:
// a second run finds the place gone. KEYS: 1 wamid hash, 2 reach, 3 the
// limit's waiting jobs, 4 asynq's retry set. ARGV: 1 recipient, 2 the
// claim time of the place (ms), 3 now (ms).
var freeFailedScript = redis.NewScript(luaFreePlace + `
if redis.call('HEXISTS', KEYS[1], 'delivered') == 1 then return 0 end
freePlace(KEYS[2], ARGV[1], ARGV[2], KEYS[3], KEYS[4], ARGV[3])
return 1
`)

// FreeFailed gives back the places of messages that failed after the API
// accepted them: Meta counts a messaging limit in recipients it delivered
// to, and these reached no one. A message delivered keeps its place.
func (s Deliveries) FreeFailed(ctx context.Context, fs []FailedPlace) error {
	now := strconv.FormatInt(s.now().UnixMilli(), 10)
	for _, f := range fs {
		if f.Place == nil {
			continue
		}
		keys := []string{s.keys.WAMID(f.WAMID), s.keys.Reach(f.Place.LimitScope), s.keys.LimitWaiters(f.Place.LimitScope), s.keys.AsynqRetry()}
		if err := s.run(ctx, freeFailedScript, keys, f.To, strconv.FormatInt(f.Place.At.UnixMilli(), 10), now).Err(); err != nil {
			return fmt.Errorf("campaign: give back the place of a failed message: %w", err)
		}
	}
	return nil
}
