package guard

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Lookup reads one recipient's entry of a scope's list; nil when it is not
// on it (or the scope has no list).
func (g *Guard) Lookup(ctx context.Context, scope, to string) (*Entry, error) {
	b, err := g.rdb.HGet(ctx, g.keys.Suppressed(scope), to).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("guard: look up in %s: %w", scope, err)
	}
	e, err := DecodeEntry(to, b)
	if err != nil {
		return nil, err
	}
	return &e, nil
}
