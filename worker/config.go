package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/ratelimit"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Config is everything a worker needs. Zero fields get the defaults below.
type Config struct {
	Redis        asynq.RedisConnOpt
	Queue        string // send queue; default task.SendQueue
	ResultsQueue string // default task.DefaultResultsQueue
	Senders      []*sender.Sender
	// CallbackQueue, when set, receives a copy of every result, status and
	// campaign task, delivered to MMLITE_RESULTS_URL by the workers (see
	// package outbound); NoResultsQueue (MMLITE_RESULTS_QUEUE="") then
	// leaves the results queue out.
	CallbackQueue  string
	NoResultsQueue bool

	Concurrency int // concurrent sends; default 100
	// Dequeuers is how many asynq servers share Concurrency. Each takes
	// jobs from Redis one round trip at a time, which caps a single one at
	// a few thousand jobs/s; default one per 6 slots, 1 to 16.
	Dequeuers       int
	HTTPTimeout     time.Duration // one API call; default 15s
	ShutdownTimeout time.Duration // finish in-flight sends on stop; default 30s, above HTTPTimeout
	MaxWait         time.Duration // longest rate-limit wait inside a job before it is rescheduled; default 2s
	RetryBase       time.Duration // first transient backoff; default 2s
	RetryMax        time.Duration // longest transient backoff; default 5m
	AtLeastOnce     bool          // resend when an earlier attempt's outcome is unknown
	// PauseFailureRatio pauses a campaign when this share of its sends or
	// more failed permanently, over at least PauseMinSends sends since it
	// started or was resumed. Defaults 0.5 and 100; a negative ratio turns it off.
	PauseFailureRatio float64
	PauseMinSends     int
	// ForwardInterval is how often asynq moves due scheduled jobs to pending; default 1s.
	ForwardInterval time.Duration
	// Retention is how long a finished campaign is kept; default
	// campaign.DefaultRetention.
	Retention time.Duration
	// HousekeepingInterval is how often the fleet's housekeeping runs (in
	// one worker at a time): announcing campaign events that were not, bringing
	// back a resumed campaign's parked jobs, retiring expired campaigns; default 5s.
	HousekeepingInterval time.Duration
	// UnknownWindow is how long after an attempt whose outcome is unknown
	// a status webhook of its message may resolve it to sent (the attempt's
	// sender needs its phone_number_id); default DefaultUnknownWindow, a
	// negative window keeps no unknown outcome for matching.
	UnknownWindow time.Duration
	// UnknownGrace is how long after such an attempt the housekeeping waits
	// before matching it, so that any other attempt to the same recipient
	// in flight at the same time (a dead worker's is taken over after its
	// lease) has settled: two unknown attempts are never told apart.
	// Default DefaultUnknownGrace.
	UnknownGrace time.Duration

	// SuppressCodes, Cooldown and LimitWindow tune the protections (see
	// package guard and docs/campaigns.md#protection): the error codes that
	// suppress a recipient (default 131050), how long a 131049 holds one
	// (default 24h), the messaging limit's rolling window (default 24h).
	SuppressCodes []int
	Cooldown      time.Duration
	LimitWindow   time.Duration

	MetricsAddr string // /metrics and /healthz; "" = do not serve
	Logger      *slog.Logger
	// Registerer receives the worker's metrics; a new registry when nil.
	// The worker's /metrics serves it when it is also a prometheus.Gatherer
	// (a *prometheus.Registry is).
	Registerer prometheus.Registerer
	// Client is used instead of a connection of its own when set.
	Client redis.UniversalClient
	// HTTPClient overrides the client built from HTTPTimeout (tests).
	HTTPClient *http.Client
	// Limiter overrides the fleet-wide limiter (tests).
	Limiter ratelimit.Limiter
}

// Defaults.
const (
	DefaultConcurrency     = 100
	DefaultHTTPTimeout     = 15 * time.Second
	DefaultShutdownTimeout = 30 * time.Second
	DefaultMaxWait         = 2 * time.Second
	DefaultRetryBase       = 2 * time.Second
	DefaultRetryMax        = 5 * time.Minute
	// A campaign pauses when half its sends fail permanently, over 100 sends.
	DefaultPauseFailureRatio = 0.5
	DefaultPauseMinSends     = 100
	// An unknown outcome is matched against status webhooks for a day...
	DefaultUnknownWindow = 24 * time.Hour
	// ...from two minutes after its attempt: a dead worker's job is taken
	// over within a minute of its lease's end.
	DefaultUnknownGrace = 2 * time.Minute
)

// DefaultDequeuers is one dequeuer per 6 job slots, 1 to 16: enough that a
// worker against a fast API is not held back by dequeuing (a dequeuer takes
// a few thousand jobs/s at most), and each costs little: an asynq server's
// Pub/Sub connection, housekeeping, and 4 polls a second of an empty queue.
func DefaultDequeuers(concurrency int) int { return min(max(concurrency/6, 1), 16) }

// guard is the protections' configuration.
func (c *Config) guard() guard.Config {
	return guard.Config{SuppressCodes: c.SuppressCodes, Cooldown: c.Cooldown, LimitWindow: c.LimitWindow}.WithDefaults()
}

// failurePolicy is the automatic pause on the share of permanent failures.
func (c *Config) failurePolicy() store.FailurePolicy {
	if c.PauseFailureRatio < 0 {
		return store.FailurePolicy{}
	}
	return store.FailurePolicy{Ratio: c.PauseFailureRatio, MinSends: c.PauseMinSends}
}

// WithDefaults fills the zero fields: the one place defaults are set.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Queue == "" {
		c.Queue = task.SendQueue
	}
	if c.ResultsQueue == "" {
		c.ResultsQueue = task.DefaultResultsQueue
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Dequeuers == 0 {
		c.Dequeuers = DefaultDequeuers(c.Concurrency)
	}
	def(&c.HTTPTimeout, DefaultHTTPTimeout)
	def(&c.ShutdownTimeout, DefaultShutdownTimeout)
	def(&c.MaxWait, DefaultMaxWait)
	def(&c.RetryBase, DefaultRetryBase)
	def(&c.RetryMax, DefaultRetryMax)
	def(&c.ForwardInterval, time.Second)
	def(&c.Retention, campaign.DefaultRetention)
	def(&c.HousekeepingInterval, 5*time.Second)
	def(&c.UnknownWindow, DefaultUnknownWindow)
	def(&c.UnknownGrace, DefaultUnknownGrace)
	if c.PauseFailureRatio == 0 {
		c.PauseFailureRatio = DefaultPauseFailureRatio
	}
	if c.PauseMinSends == 0 {
		c.PauseMinSends = DefaultPauseMinSends
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
		return errors.New("MMLITE_REDIS_URL is required")
	case len(c.Senders) == 0:
		return errors.New("no senders: set MMLITE_API_KEY or MMLITE_SENDERS_FILE")
	case c.Concurrency < 1:
		return fmt.Errorf("MMLITE_CONCURRENCY must be >= 1, got %d", c.Concurrency)
	case c.Dequeuers < 1 || c.Dequeuers > c.Concurrency:
		return fmt.Errorf("MMLITE_DEQUEUERS must be between 1 and MMLITE_CONCURRENCY (%d), got %d", c.Concurrency, c.Dequeuers)
	case c.HTTPTimeout < 0:
		return fmt.Errorf("MMLITE_HTTP_TIMEOUT must be > 0, got %s", c.HTTPTimeout)
	case c.MaxWait < 0:
		return fmt.Errorf("MMLITE_MAX_WAIT must be > 0, got %s", c.MaxWait)
	case c.RetryBase < 0 || c.RetryMax < c.RetryBase:
		return fmt.Errorf("RetryBase (%s) must be > 0 and RetryMax (%s) at least RetryBase", c.RetryBase, c.RetryMax)
	case c.ForwardInterval < 0:
		return fmt.Errorf("ForwardInterval must be > 0, got %s", c.ForwardInterval)
	case c.Retention < 0:
		return fmt.Errorf("MMLITE_RETENTION must be > 0, got %s", c.Retention)
	case c.UnknownGrace < 0:
		return fmt.Errorf("MMLITE_UNKNOWN_GRACE must be > 0, got %s", c.UnknownGrace)
	case c.UnknownWindow > 0 && c.UnknownWindow <= c.UnknownGrace:
		return fmt.Errorf("MMLITE_UNKNOWN_WINDOW (%s) must be above MMLITE_UNKNOWN_GRACE (%s), or negative to keep no unknown outcome for matching",
			c.UnknownWindow, c.UnknownGrace)
	case c.HousekeepingInterval < 0:
		return fmt.Errorf("HousekeepingInterval must be > 0, got %s", c.HousekeepingInterval)
	case c.ShutdownTimeout <= c.HTTPTimeout+c.MaxWait:
		return fmt.Errorf("MMLITE_SHUTDOWN_TIMEOUT (%s) must be above MMLITE_HTTP_TIMEOUT (%s) plus MMLITE_MAX_WAIT (%s): a job running at SIGTERM may wait for its slot, then make its call, and must finish",
			c.ShutdownTimeout, c.HTTPTimeout, c.MaxWait)
	case c.PauseFailureRatio > 1 || math.IsNaN(c.PauseFailureRatio): // no share is >= NaN: off, unsaid
		return fmt.Errorf("MMLITE_PAUSE_FAILURE_RATIO must be at most 1 (negative turns it off), got %v", c.PauseFailureRatio)
	case c.PauseMinSends < 1: // a campaign would be judged on its first send
		return fmt.Errorf("MMLITE_PAUSE_MIN_SENDS must be >= 1, got %d", c.PauseMinSends)
	case c.Queue == c.ResultsQueue:
		return fmt.Errorf("MMLITE_RESULTS_QUEUE must differ from the send queue %q", c.Queue)
	case c.NoResultsQueue && c.CallbackQueue == "":
		return errors.New(emit.ErrNowhere)
	}
	if err := c.guard().Validate(); err != nil {
		return err
	}
	for _, s := range c.Senders {
		if s.Key() == "" {
			return fmt.Errorf("sender %s has no API key", s.ID)
		}
	}
	return nil
}
