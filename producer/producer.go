package producer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/keyspace"
	"github.com/mmlite/mmlite/pkg/redisconn"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Config is everything a producer needs. Zero fields get defaults.
type Config struct {
	// Redis is used unless Client is set.
	Redis  asynq.RedisConnOpt
	Client redis.UniversalClient
	Queue  string // send queue; default task.SendQueue
	// Registerer receives mmlite_enqueued_total; nil registers nothing.
	Registerer  prometheus.Registerer
	Logger      *slog.Logger
	Concurrency int // batches written at once; default 8
	BatchSize   int // jobs per Redis call; default 500
	// MaxRetry is how many times a transient failure is retried; default 8.
	MaxRetry int
}

// Defaults.
const (
	DefaultConcurrency = 8
	DefaultBatchSize   = 500
	DefaultMaxRetry    = 8
	// taskTimeout bounds one run of a send job in the worker.
	taskTimeout = 10 * time.Minute
	// pendingAhead: jobs due this soon skip the scheduled set; the worker's
	// limiter spaces them within the second.
	pendingAhead = time.Second
	clockIdleTTL = time.Hour
)

// Errors of the producer.
var (
	ErrUnknownSender = errors.New("producer: unknown sender")
	ErrCancelled     = errors.New("producer: campaign is cancelled")
)

// Producer registers campaigns and enqueues their recipients.
type Producer struct {
	cfg      Config
	rdb      redis.UniversalClient
	ownRDB   bool
	keys     keyspace.Space
	store    *campaign.Store
	enqueued *prometheus.CounterVec
	now      func() time.Time

	mu        sync.Mutex
	published bool
	rates     map[string]rateEntry
}

type rateEntry struct {
	rate float64
	at   time.Time
}

// New returns a producer. It connects lazily.
func New(cfg Config) (*Producer, error) {
	if cfg.Queue == "" {
		cfg.Queue = task.SendQueue
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.MaxRetry <= 0 {
		cfg.MaxRetry = DefaultMaxRetry
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Producer{cfg: cfg, rdb: cfg.Client, keys: keyspace.New(cfg.Queue), now: time.Now, rates: map[string]rateEntry{}}
	if p.rdb == nil {
		if cfg.Redis == nil {
			return nil, errors.New("producer: Redis or Client is required")
		}
		p.rdb, p.ownRDB = redisconn.Client(cfg.Redis), true
	}
	p.store = campaign.NewStore(p.rdb, p.keys)
	p.enqueued = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_enqueued_total",
		Help: "Recipients handed to the producer, by result (accepted, duplicate, rejected)."}, []string{"result"})
	for _, r := range []string{"accepted", "duplicate", "rejected"} {
		p.enqueued.WithLabelValues(r)
	}
	if cfg.Registerer != nil {
		if err := cfg.Registerer.Register(p.enqueued); err != nil {
			return nil, fmt.Errorf("producer: register metrics: %w", err)
		}
	}
	return p, nil
}

// Close closes the Redis connection the producer opened.
func (p *Producer) Close() error {
	if p.ownRDB {
		return p.rdb.Close()
	}
	return nil
}

// Store is the campaign store, for status and control.
func (p *Producer) Store() *campaign.Store { return p.store }

// Redis is the producer's Redis client.
func (p *Producer) Redis() redis.UniversalClient { return p.rdb }

// Register validates and stores a campaign. The same definition again is a
// no-op; a different one under the same id is campaign.ErrConflict.
func (p *Producer) Register(ctx context.Context, c *campaign.Campaign) (created bool, err error) {
	c.Normalize()
	if err := c.Validate(p.now()); err != nil {
		return false, err
	}
	if _, err := p.senderRate(ctx, c.Sender); err != nil {
		return false, err
	}
	return p.store.Register(ctx, c)
}

// senderRate is the rate workers published for the sender. When no worker
// has published any sender yet, the default rate is assumed.
func (p *Producer) senderRate(ctx context.Context, id string) (float64, error) {
	p.mu.Lock()
	e, ok := p.rates[id]
	p.mu.Unlock()
	if ok && p.now().Sub(e.at) < 30*time.Second {
		return e.rate, nil
	}
	all, err := p.rdb.HGetAll(ctx, p.keys.Senders()).Result()
	if err != nil {
		return 0, fmt.Errorf("producer: read senders: %w", err)
	}
	rate := float64(sender.DefaultRate)
	if raw, ok := all[id]; ok {
		var s struct {
			Rate float64 `json:"rate"`
		}
		if json.Unmarshal([]byte(raw), &s) == nil && s.Rate > 0 {
			rate = s.Rate
		}
	} else if len(all) > 0 {
		known := make([]string, 0, len(all))
		for k := range all {
			known = append(known, k)
		}
		sort.Strings(known)
		return 0, fmt.Errorf("%w: sender %q is not configured in any worker (known: %v)", ErrUnknownSender, id, known)
	}
	p.mu.Lock()
	p.rates[id] = rateEntry{rate: rate, at: p.now()}
	p.mu.Unlock()
	return rate, nil
}
