package producer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
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
	// ResultsQueue receives the campaign events the producer announces
	// (resumed campaigns that are complete, cancelled ones); default task.DefaultResultsQueue.
	ResultsQueue string
	// CallbackQueue, when set, receives a copy of every result, status and
	// campaign task, delivered to MMLITE_RESULTS_URL by the workers (see
	// package outbound); NoResultsQueue (MMLITE_RESULTS_QUEUE="") then
	// leaves the results queue out.
	CallbackQueue  string
	NoResultsQueue bool
	// CallbackHosts are the hosts a campaign's callback_url may name
	// (MMLITE_CALLBACK_HOSTS and MMLITE_RESULTS_URL's); none: no
	// campaign has a callback_url of its own.
	CallbackHosts safeurl.Hosts
	// CancelWait bounds how long Cancel waits for in-flight sends; it must
	// exceed the workers' HTTP timeout. Default 30s.
	CancelWait time.Duration
	// Registerer receives mmlite_enqueued_total; nil registers nothing.
	Registerer  prometheus.Registerer
	Logger      *slog.Logger
	Concurrency int // batches written at once; default 8
	BatchSize   int // jobs per Redis call; default 500
	// MaxRetry is how many times a transient failure is retried; default 8.
	MaxRetry int
	// Senders is the producer's own sender configuration (MMLITE_RATE or the
	// senders file): it paces by it until workers publish theirs, and warns
	// when the two differ. Without it, a sender no worker has published yet
	// is paced at sender.DefaultRate.
	Senders []sender.Published
	// Retention is how long a finished campaign is kept; default
	// campaign.DefaultRetention.
	Retention time.Duration
}

// Defaults.
const (
	DefaultConcurrency = 8
	DefaultBatchSize   = 500
	DefaultMaxRetry    = 8
	DefaultCancelWait  = 30 * time.Second
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
	// ErrSealed: every row of an enqueue was a new recipient of a sealed
	// campaign (duplicates alone are not an error).
	ErrSealed = errors.New("producer: campaign is sealed")
)

// Producer registers campaigns and enqueues their recipients.
type Producer struct {
	cfg      Config
	rdb      redis.UniversalClient
	ownRDB   bool
	keys     keyspace.Space
	store    *store.Store
	senders  *registry.Registry
	emit     *emit.Emitter
	enqueued *prometheus.CounterVec
	paused   *prometheus.CounterVec
	now      func() time.Time
	own      map[string]sender.Published // Config.Senders

	published asynqwire.Published // the send queue, for asynq's tools

	mu      sync.Mutex
	known   map[string]sender.Published
	knownAt time.Time
	warned  map[string]bool // senders whose published rate differs from ours, warned once
}

// WithDefaults fills the zero fields: the one place defaults are set.
func (c Config) WithDefaults() Config {
	if c.Queue == "" {
		c.Queue = task.SendQueue
	}
	if c.ResultsQueue == "" {
		c.ResultsQueue = task.DefaultResultsQueue
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxRetry == 0 {
		c.MaxRetry = DefaultMaxRetry
	}
	if c.CancelWait == 0 {
		c.CancelWait = DefaultCancelWait
	}
	if c.Retention == 0 {
		c.Retention = campaign.DefaultRetention
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate checks the config (with its defaults), naming the setting.
func (c Config) Validate() error {
	c = c.WithDefaults()
	switch {
	case c.Redis == nil && c.Client == nil:
		return errors.New("Redis or Client is required (MMLITE_REDIS_URL)")
	case c.Concurrency < 1:
		return fmt.Errorf("Concurrency must be >= 1, got %d", c.Concurrency)
	case c.BatchSize < 1:
		return fmt.Errorf("BatchSize must be >= 1, got %d", c.BatchSize)
	case c.MaxRetry < 1:
		return fmt.Errorf("MaxRetry must be >= 1, got %d", c.MaxRetry)
	case c.CancelWait < 0:
		return fmt.Errorf("MMLITE_CANCEL_WAIT must be > 0, got %s", c.CancelWait)
	case c.Retention < 0:
		return fmt.Errorf("MMLITE_RETENTION must be > 0, got %s", c.Retention)
	case c.Queue == c.ResultsQueue:
		return fmt.Errorf("MMLITE_RESULTS_QUEUE must differ from the send queue %q", c.Queue)
	case c.NoResultsQueue && c.CallbackQueue == "":
		return errors.New(emit.ErrNowhere)
	}
	for i, s := range c.Senders {
		if s.ID == "" || s.Rate <= 0 {
			return fmt.Errorf("Senders[%d] (%q): an id and a rate > 0 are required, got rate %v", i, s.ID, s.Rate)
		}
	}
	return nil
}

// New returns a producer. It connects lazily.
func New(cfg Config) (*Producer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Producer{cfg: cfg, rdb: cfg.Client, keys: keyspace.New(cfg.Queue), now: time.Now}
	if p.rdb == nil {
		p.rdb, p.ownRDB = redisconn.Client(cfg.Redis), true
	}
	p.store = store.New(p.rdb, p.keys, store.Options{Retention: cfg.Retention})
	p.senders = registry.New(p.rdb, p.keys)
	p.emit = emit.New(p.rdb, cfg.ResultsQueue, p.store.Campaigns.Retention())
	if cfg.CallbackQueue != "" {
		p.emit.WithCallbacks(cfg.CallbackQueue, cfg.NoResultsQueue)
	}
	p.own = map[string]sender.Published{}
	for _, s := range cfg.Senders {
		p.own[s.ID] = s
	}
	p.warned = map[string]bool{}
	p.enqueued = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_enqueued_total",
		Help: "Recipients handed to the producer, by result (accepted, duplicate, rejected)."}, []string{"result"})
	for _, r := range []string{"accepted", "duplicate", "rejected"} {
		p.enqueued.WithLabelValues(r)
	}
	p.paused = metrics.NewPausedCounter()
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{p.enqueued, p.paused} {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("producer: register metrics: %w", err)
			}
		}
	}
	return p, nil
}

// CountPaused counts n campaigns paused for reason in
// mmlite_campaigns_paused_total: the api's guard counts its pauses with it
// (see guard.Guard.Counting).
func (p *Producer) CountPaused(reason string, n int) {
	p.paused.WithLabelValues(reason).Add(float64(n))
}

// Close closes the Redis connection the producer opened.
func (p *Producer) Close() error {
	if p.ownRDB {
		return p.rdb.Close()
	}
	return nil
}

// Store is the campaign store, for mmlite's own api (its type is internal).
func (p *Producer) Store() *store.Store { return p.store }

// Status is a campaign's state and counts.
func (p *Producer) Status(ctx context.Context, id string) (*campaign.Status, error) {
	return p.store.Campaigns.Status(ctx, id)
}

// Redis is the producer's Redis client.
func (p *Producer) Redis() redis.UniversalClient { return p.rdb }

// Emitter is where the producer announces campaign events.
func (p *Producer) Emitter() *emit.Emitter { return p.emit }

// Register validates and stores a campaign. The same definition again is a
// no-op; a different one under the same id is campaign.ErrConflict. A new
// campaign of a sender that requires MM Lite onboarding starts paused until
// its WABA's MM_LITE_TERMS_SIGNED webhook has arrived (checked in the same
// step as the registration: a webhook cannot slip in between).
func (p *Producer) Register(ctx context.Context, c *campaign.Campaign) (created bool, err error) {
	if err := p.checkCampaign(c); err != nil {
		return false, err
	}
	s, err := p.sender(ctx, c.Sender)
	if err != nil {
		return false, err
	}
	var r store.Registered
	holds := guard.TemplateHolds(p.keys, s.Scope(), c.Template.Name, c.Template.Language.Code)
	if s.RequireOnboarding && s.WABAID != "" {
		reason := fmt.Sprintf("%s: sender %s requires MM Lite onboarding: waiting for MM_LITE_TERMS_SIGNED of WABA %s", campaign.PauseOnboarding, s.ID, s.WABAID)
		r, err = p.store.Campaigns.RegisterAwaitingOnboarding(ctx, c, s.WABAID, reason, holds...)
	} else {
		r, err = p.store.Campaigns.Register(ctx, c, holds...)
	}
	switch {
	case r.Held != "":
		p.paused.WithLabelValues(strings.SplitN(r.Held, ":", 2)[0]).Inc()
		p.cfg.Logger.Warn("campaign registered paused: its template is paused by Meta; it resumes when Meta reinstates the template",
			"campaign", c.ID, "template", c.Template.Name, "language", c.Template.Language.Code, "reason", r.Held)
	case r.Paused:
		p.paused.WithLabelValues(campaign.PauseOnboarding).Inc()
	}
	return r.Created, err
}

// Check runs on c the checks Register runs before it writes anything: c
// itself (normalized, then validated), its callback_url and its sender,
// for a dry run. It reads nothing from Redis: the sender is judged by the
// producer's own configuration (Config.Senders), as Register judges it
// until a worker has published its senders.
func (p *Producer) Check(c *campaign.Campaign) error {
	if err := p.checkCampaign(c); err != nil {
		return err
	}
	if _, err := p.pickSender(c.Sender, nil); err != nil {
		return fmt.Errorf("%w (judged by this command's own senders: workers may have published more, which a dry run cannot see)", err)
	}
	return nil
}

// checkCampaign normalizes c and checks what needs no Redis.
func (p *Producer) checkCampaign(c *campaign.Campaign) error {
	c.Normalize()
	if err := c.Validate(p.now()); err != nil {
		return err
	}
	if err := p.checkCallbackURL(c.CallbackURL); err != nil {
		return &campaign.ValidationError{Errs: []error{err}}
	}
	return nil
}

// sender is what workers published about a sender. Until a worker has
// published it, the producer goes by its own configuration (Config.Senders)
// or, without one, assumes the default rate.
func (p *Producer) sender(ctx context.Context, id string) (sender.Published, error) {
	p.mu.Lock()
	all, at := p.known, p.knownAt
	p.mu.Unlock()
	if all == nil || p.now().Sub(at) > 30*time.Second || (all[id] == sender.Published{}) {
		var err error
		if all, err = p.senders.All(ctx); err != nil {
			return sender.Published{}, fmt.Errorf("producer: %w", err)
		}
		p.mu.Lock()
		p.known, p.knownAt = all, p.now()
		p.mu.Unlock()
	}
	return p.pickSender(id, all)
}

// pickSender is sender id, from those the workers published (all) or else
// the producer's own.
func (p *Producer) pickSender(id string, all map[string]sender.Published) (sender.Published, error) {
	own, haveOwn := p.own[id]
	if s, ok := all[id]; ok {
		if haveOwn && own.Rate != s.Rate {
			p.warnDiffers(own, s)
		}
		return s, nil
	}
	if haveOwn {
		return own, nil
	}
	if len(all) > 0 || len(p.own) > 0 {
		known := sender.IDs(all)
		if len(known) == 0 {
			known = sender.IDs(p.own)
		}
		return sender.Published{}, sentence.Of(ErrUnknownSender, "sender %q is not configured in any worker (known: %s)", id, strings.Join(known, ", "))
	}
	return sender.Published{ID: id, Rate: sender.DefaultRate}, nil
}

// warnDiffers says once per sender that the workers pace it otherwise than
// this producer's configuration: the workers' rate wins.
func (p *Producer) warnDiffers(own, published sender.Published) {
	p.mu.Lock()
	first := !p.warned[own.ID]
	p.warned[own.ID] = true
	p.mu.Unlock()
	if first {
		p.cfg.Logger.Warn("the workers publish another rate for this sender than this producer's configuration: pacing by the workers'",
			"sender", own.ID, "workers_rate", published.Rate, "configured_rate", own.Rate)
	}
}

// checkCallbackURL refuses a campaign's own callback_url while callbacks
// are off (it would never be called) or on a host that is not allowed.
func (p *Producer) checkCallbackURL(u string) error {
	switch {
	case u == "":
		return nil
	case p.cfg.CallbackQueue == "":
		return errors.New("callback_url: callbacks are off: set MMLITE_RESULTS_URL on mmlite's processes")
	}
	if err := p.cfg.CallbackHosts.Allow(u); err != nil {
		return fmt.Errorf("callback_url: %w", err)
	}
	return nil
}
