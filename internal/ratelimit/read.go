package ratelimit

import (
	"context"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// ReadBackoff reads a sender's backoff as the fleet keeps it (configured is
// its configured rate), for those that show it.
func ReadBackoff(ctx context.Context, c redis.Cmdable, keys keyspace.Space, sender string, configured float64) (Backoff, error) {
	return readBackoff(ctx, c, keys.Backoff(sender), configured)
}
