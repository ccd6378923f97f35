package guard

import (
	"context"
	"fmt"
	"strconv"
)

// Use is a limit scope's messaging limit and the unique recipients it
// reached in the window.
type Use struct {
	Limit   int   `json:"limit"` // 0 unlimited
	Reached int64 `json:"reached"`
}

// Use reads a limit scope's use; configured is the senders file's limit.
func (g *Guard) Use(ctx context.Context, scope string, configured int) (Use, error) {
	u := Use{Limit: configured}
	s, err := g.rdb.HGet(ctx, g.keys.Limits(), scope).Result()
	if err == nil {
		u.Limit, _ = strconv.Atoi(s)
	}
	// After now - window, as the claim counts: a new place's score is a
	// claim's millisecond + 0.5.
	from := "(" + strconv.FormatInt(g.now().Add(-g.cfg.LimitWindow).UnixMilli(), 10)
	if u.Reached, err = g.rdb.ZCount(ctx, g.keys.Reach(scope), from, "+inf").Result(); err != nil {
		return u, fmt.Errorf("guard: read the reach of %s: %w", scope, err)
	}
	return u, nil
}

// Limits reads the messaging limits learnt from webhooks, by limit scope.
func (g *Guard) Limits(ctx context.Context) (map[string]int, error) {
	h, err := g.rdb.HGetAll(ctx, g.keys.Limits()).Result()
	if err != nil {
		return nil, fmt.Errorf("guard: read the messaging limits: %w", err)
	}
	out := make(map[string]int, len(h))
	for k, v := range h {
		n, err := strconv.Atoi(v)
		if err == nil {
			out[k] = n
		}
	}
	return out, nil
}
