package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/pkg/keyspace"
	"github.com/mmlite/mmlite/pkg/redisbatch"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// DefaultRetention is how long a campaign's keys outlive its final state
// (completed, or finished after a cancel) before Redis drops them and it
// leaves the index. A campaign that never reaches one is dropped that long
// after its expires_at or, without one, DefaultLifetime after its creation.
const (
	DefaultRetention = 30 * 24 * time.Hour
	DefaultLifetime  = 30 * 24 * time.Hour
)

// States of a campaign. "scheduled" is not stored: it is a running campaign
// whose send_at has not come yet.
const (
	StateScheduled = "scheduled"
	StateRunning   = "running"
	StatePaused    = "paused"
	StateCancelled = "cancelled"
	StateCompleted = "completed"
)

// Errors of the store.
var (
	ErrNotFound = errors.New("campaign: not found")
	ErrConflict = errors.New("campaign: a different campaign with this id exists")
)

// Status is a campaign's state and counts, as the API and CLI show them.
type Status struct {
	ID           string      `json:"id"`
	State        string      `json:"state"`
	PausedReason string      `json:"paused_reason"`
	Counts       task.Counts `json:"counts"`
	Sender       string      `json:"sender,omitempty"`
	CreatedAt    *time.Time  `json:"created_at,omitempty"`
	FinishedAt   *time.Time  `json:"finished_at,omitempty"`
	PausedAt     *time.Time  `json:"paused_at,omitempty"`
	// DeliveryErrors counts failed-delivery webhooks by error code.
	DeliveryErrors map[string]int64 `json:"delivery_errors,omitempty"`
	Error          *task.Error      `json:"error,omitempty"` // the error behind an automatic pause
	// Sealed says the campaign takes no new recipients: it completes once
	// every recipient it has is final.
	Sealed   bool       `json:"sealed"`
	SealedAt *time.Time `json:"sealed_at,omitempty"`
}

// Store keeps campaigns in Redis.
type Store struct {
	rdb       redis.UniversalClient
	keys      keyspace.Space
	now       func() time.Time
	batch     *redisbatch.Batcher
	retention time.Duration
}

// NewStore returns a store in the key space of the send queue, with the
// default retention.
func NewStore(rdb redis.UniversalClient, keys keyspace.Space) *Store {
	return &Store{rdb: rdb, keys: keys, now: time.Now, retention: DefaultRetention}
}

// WithRetention returns a store that keeps a campaign's keys for d after
// its final state (see DefaultRetention); d <= 0 keeps the default.
func (s *Store) WithRetention(d time.Duration) *Store {
	c := *s
	if d > 0 {
		c.retention = d
	}
	return &c
}

// Retention is how long the store keeps a finished campaign.
func (s *Store) Retention() time.Duration { return s.retention }

// WithBatcher returns a store whose claims, settles and releases share
// pipelines with other goroutines' (see package redisbatch).
func (s *Store) WithBatcher(b *redisbatch.Batcher) *Store {
	c := *s
	c.batch = b
	return &c
}

// run runs a hot-path script, batched when the store has a batcher.
func (s *Store) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	if s.batch != nil {
		return s.batch.Run(ctx, script, keys, args...)
	}
	return script.Run(ctx, s.rdb, keys, args...)
}

// recordTimeout bounds the writes of outcomes that already happened, which
// do not end with the job's context.
const recordTimeout = 10 * time.Second

// Keys is the store's key space.
func (s *Store) Keys() keyspace.Space { return s.keys }

// registerScript stores a definition once. It returns 1 when created
// running, 2 when created paused because its WABA has not signed the MM
// Lite terms (checked in the same step, so that the onboarding webhook
// cannot slip between the check and the pause), 0 when the same
// definition was already there, -1 when a different one is.
//
// KEYS: 1 campaign, 2 ledger, 3 campaigns index, 4 retire index, 5 onboarded
// WABAs, 6 the WABA's waiting campaigns. ARGV: 1 definition, 2 now (ms), 3
// when the keys expire (unix s), 4 id, 5 WABA ("" when it need not wait), 6
// pause reason.
var registerScript = redis.NewScript(`
local def = redis.call('HGET', KEYS[1], 'def')
if def then
  if def == ARGV[1] then return 0 end
  return -1
end
redis.call('HSET', KEYS[1], 'def', ARGV[1], 'state', 'running', 'created_at', ARGV[2])
local res = 1
if ARGV[5] ~= '' and redis.call('HEXISTS', KEYS[5], ARGV[5]) == 0 then
  redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', ARGV[6], 'paused_at', ARGV[2])
  redis.call('SADD', KEYS[6], ARGV[4])
  res = 2
end
redis.call('HSET', KEYS[2], '', '')
redis.call('EXPIREAT', KEYS[1], ARGV[3])
redis.call('EXPIREAT', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[4])
redis.call('ZADD', KEYS[4], tonumber(ARGV[3]) * 1000, ARGV[4])
return res
`)

// Registered is what a registration did.
type Registered struct {
	Created bool // false when the same definition was already there
	// Paused: created paused, waiting for its WABA's onboarding.
	Paused bool
}

// Register stores a normalised, validated campaign. Registering the same
// definition again is a no-op (Created is false); a different definition
// under the same id is ErrConflict.
func (s *Store) Register(ctx context.Context, c *Campaign) (Registered, error) {
	return s.register(ctx, c, "", "")
}

// RegisterAwaitingOnboarding is Register for a sender that must not send
// before its WABA signed the MM Lite terms: unless the WABA already did, the
// campaign is created paused with reason, until Store.Onboarded lists it.
func (s *Store) RegisterAwaitingOnboarding(ctx context.Context, c *Campaign, waba, reason string) (Registered, error) {
	return s.register(ctx, c, waba, reason)
}

func (s *Store) register(ctx context.Context, c *Campaign, waba, reason string) (Registered, error) {
	def, err := json.Marshal(c)
	if err != nil {
		return Registered{}, fmt.Errorf("campaign: encode: %w", err)
	}
	now := s.now()
	end := now.Add(DefaultLifetime)
	if c.ExpiresAt != nil {
		end = *c.ExpiresAt
	}
	onboarding := s.keys.Campaign(c.ID)
	if waba != "" {
		onboarding = s.keys.Onboarding(waba)
	}
	keys := []string{s.keys.Campaign(c.ID), s.keys.Ledger(c.ID), s.keys.Campaigns(), s.keys.Retire(), s.keys.WABAs(), onboarding}
	n, err := registerScript.Run(ctx, s.rdb, keys, def, now.UnixMilli(), end.Add(s.retention).Unix(), c.ID, waba, reason).Int()
	switch {
	case err != nil:
		return Registered{}, fmt.Errorf("campaign: register %s: %w", c.ID, err)
	case n < 0:
		return Registered{}, fmt.Errorf("%w: %s", ErrConflict, c.ID)
	}
	return Registered{Created: n > 0, Paused: n == 2}, nil
}

// Get returns a campaign's definition.
func (s *Store) Get(ctx context.Context, id string) (*Campaign, error) {
	b, err := s.rdb.HGet(ctx, s.keys.Campaign(id), "def").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("campaign: get %s: %w", id, err)
	}
	var c Campaign
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("campaign: decode %s: %w", id, err)
	}
	return &c, nil
}

// State returns a campaign's state ("" when it has none).
func (s *Store) State(ctx context.Context, id string) (string, error) {
	st, err := s.rdb.HGet(ctx, s.keys.Campaign(id), "state").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("campaign: state of %s: %w", id, err)
	}
	return st, nil
}

// Status returns a campaign's state and counts.
func (s *Store) Status(ctx context.Context, id string) (*Status, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.Campaign(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("campaign: status %s: %w", id, err)
	}
	if h["def"] == "" {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	var def Campaign
	if err := json.Unmarshal([]byte(h["def"]), &def); err != nil {
		return nil, fmt.Errorf("campaign: decode %s: %w", id, err)
	}
	st := &Status{ID: id, State: h["state"], PausedReason: h["paused_reason"], Sender: def.Sender,
		CreatedAt: msTime(num("created_at")), FinishedAt: msTime(num("finished_at")), PausedAt: msTime(num("paused_at")),
		Counts: task.Counts{Enqueued: num("enqueued"), Sent: num("sent"), Failed: num("failed"), Expired: num("expired"),
			Cancelled: num("cancelled"), Unknown: num("unknown"), Delivered: num("delivered"), Read: num("read"),
			Fallback: num("fallback"), Undelivered: num("undelivered")}}
	for k := range h {
		if code, ok := strings.CutPrefix(k, "err:"); ok {
			if st.DeliveryErrors == nil {
				st.DeliveryErrors = map[string]int64{}
			}
			st.DeliveryErrors[code] = num(k)
		}
	}
	if at := num("sealed"); at != 0 {
		st.Sealed, st.SealedAt = true, msTime(at)
	}
	if f := h["fatal"]; f != "" {
		st.Error = new(task.Error)
		_ = json.Unmarshal([]byte(f), st.Error)
	}
	if st.State == StateRunning && def.SendAt != nil && def.SendAt.After(s.now()) {
		st.State = StateScheduled
	}
	return st, nil
}

func msTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}
