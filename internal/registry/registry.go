package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/redis/go-redis/v9"
)

// Registry keeps senders' shared state in Redis: what workers publish,
// which WABAs have signed the MM Lite terms, and link clicks.
type Registry struct {
	rdb       redis.UniversalClient
	keys      keyspace.Space
	retention time.Duration
	now       func() time.Time
}

// DefaultClickRetention is how long clicks are counted back by default.
const DefaultClickRetention = 30 * 24 * time.Hour

// New returns the registry of a key space.
func New(rdb redis.UniversalClient, keys keyspace.Space) *Registry {
	return &Registry{rdb: rdb, keys: keys, retention: DefaultClickRetention, now: time.Now}
}

// WithRetention returns a registry that keeps clicks for d (per day, so
// that a sender's clicks never grow without bound); d <= 0 keeps the default.
func (r *Registry) WithRetention(d time.Duration) *Registry {
	c := *r
	if d > 0 {
		c.retention = d
	}
	return &c
}

// Publish writes the senders a worker serves.
func (r *Registry) Publish(ctx context.Context, ss []*sender.Sender) error {
	vals := make([]any, 0, 2*len(ss))
	for _, s := range ss {
		b, _ := json.Marshal(s.Published())
		vals = append(vals, s.ID, b)
	}
	if err := r.rdb.HSet(ctx, r.keys.Senders(), vals...).Err(); err != nil {
		return fmt.Errorf("sender: publish: %w", err)
	}
	return nil
}

// All returns every published sender, by id.
func (r *Registry) All(ctx context.Context) (map[string]sender.Published, error) {
	raw, err := r.rdb.HGetAll(ctx, r.keys.Senders()).Result()
	if err != nil {
		return nil, fmt.Errorf("sender: read published senders: %w", err)
	}
	out := make(map[string]sender.Published, len(raw))
	for id, v := range raw {
		var p sender.Published
		if json.Unmarshal([]byte(v), &p) == nil {
			p.ID = id
			out[id] = p
		}
	}
	return out, nil
}

// SetOnboarded records that a WABA signed the MM Lite terms. It returns
// false when it was already recorded (webhooks come at least once).
func (r *Registry) SetOnboarded(ctx context.Context, waba string, at time.Time) (bool, error) {
	ok, err := r.rdb.HSetNX(ctx, r.keys.WABAs(), waba, at.UTC().Format(time.RFC3339)).Result()
	if err != nil {
		return false, fmt.Errorf("sender: record onboarding: %w", err)
	}
	return ok, nil
}

// Onboarded says when a WABA signed the MM Lite terms; zero when it has not.
func (r *Registry) Onboarded(ctx context.Context, waba string) (time.Time, error) {
	v, err := r.rdb.HGet(ctx, r.keys.WABAs(), waba).Result()
	if errors.Is(err, redis.Nil) || waba == "" {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("sender: read onboarding: %w", err)
	}
	t, _ := time.Parse(time.RFC3339, v)
	return t, nil
}

// clickTTL keeps click ids long enough to drop repeated webhooks (Meta
// retries for up to 7 days).
const clickTTL = 8 * 24 * time.Hour

// clickScript counts a click once per click id, in one step: the id is
// marked only with its count, so that a webhook whose count failed counts
// it when the provider delivers it again. KEYS: the day's clicks, then the
// click id's mark (none for a click without an id). ARGV: token, the
// clicks' and the mark's TTLs in seconds.
var clickScript = redis.NewScript(`
if KEYS[2] and not redis.call('SET', KEYS[2], 1, 'NX', 'EX', ARGV[3]) then
	return 0
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1`)

// CountClick counts a link click for a sender and tracking token, once per
// click id. It returns false for a click already counted. Clicks are kept
// per day, for the retention.
func (r *Registry) CountClick(ctx context.Context, senderID, token, clickID string) (bool, error) {
	keys := []string{r.clicksKey(senderID, r.now())}
	if clickID != "" {
		keys = append(keys, r.keys.Prefix()+"click:"+clickID)
	}
	n, err := clickScript.Run(ctx, r.rdb, keys, token,
		int64((r.retention+24*time.Hour)/time.Second), int64(clickTTL/time.Second)).Int()
	if err != nil {
		return false, fmt.Errorf("sender: count click: %w", err)
	}
	return n == 1, nil
}

func (r *Registry) clicksKey(senderID string, day time.Time) string {
	return r.keys.Prefix() + "clicks:" + senderID + ":" + day.UTC().Format("2006-01-02")
}

// Clicks returns a sender's clicks by tracking token over the retention.
func (r *Registry) Clicks(ctx context.Context, senderID string) (map[string]int64, error) {
	days := min(int(r.retention/(24*time.Hour))+1, 400)
	pipe := r.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, days)
	now := r.now()
	for i := range cmds {
		cmds[i] = pipe.HGetAll(ctx, r.clicksKey(senderID, now.AddDate(0, 0, -i)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("sender: read clicks: %w", err)
	}
	out := map[string]int64{}
	for _, c := range cmds {
		for k, v := range c.Val() {
			n, _ := strconv.ParseInt(v, 10, 64)
			out[k] += n
		}
	}
	return out, nil
}
