package outbound

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/prometheus/client_golang/prometheus"
)

// Config is a delivery server's.
type Config struct {
	// Destinations of the relayed webhooks.
	Destinations []*Destination
	// Callbacks receives the outcome callbacks (MMLITE_RESULTS_URL, signed
	// with MMLITE_RESULTS_SECRET); nil: none are delivered.
	Callbacks *Destination
	// CallbackURL returns a campaign's own callback_url, "" for none (nil:
	// every callback goes to Callbacks.URL). A campaign that no longer
	// exists has none.
	CallbackURL func(ctx context.Context, campaignID string) (string, error)
	// CallbackHosts are the hosts a campaign's callback_url may name (see
	// safeurl.Hosts): a callback for one on any other host is archived,
	// never sent (nor sent to Callbacks.URL instead).
	CallbackHosts safeurl.Hosts
	// BatchSize above 1 POSTs callbacks in batches of up to BatchSize
	// (NDJSON), each sent at most BatchWait (default 200 ms) after its first
	// line came (MMLITE_RESULTS_BATCH, MMLITE_RESULTS_BATCH_WAIT).
	BatchSize int
	BatchWait time.Duration
	// CallbackQueue is the callbacks' queue; default CallbackQueue.
	CallbackQueue string
	// MaxAge is how long a delivery is retried before it is archived;
	// default DefaultMaxAge.
	MaxAge time.Duration
	// RetryBase and RetryMax bound the backoff between attempts: RetryBase
	// doubled on every failure, at most RetryMax; defaults 10 s and 1 h.
	RetryBase, RetryMax time.Duration
	// Concurrency is the number of deliveries in flight per destination
	// (and for the callbacks); default 20.
	Concurrency int
	// HTTPTimeout bounds one POST; default 30 s, or two thirds of
	// ShutdownTimeout when that is less.
	HTTPTimeout time.Duration
	// HTTPClient overrides the client built from HTTPTimeout (tests).
	HTTPClient *http.Client
	// ShutdownTimeout: on shutdown, how long deliveries in flight may finish
	// before asynq hands them back; default 10 s.
	ShutdownTimeout time.Duration
	// ForwardInterval is how often retries that came due are moved back to
	// their queue; default 5 s.
	ForwardInterval time.Duration
	// ArchiveRoom is how many deliveries a destination's archive holds
	// before a refused one waits in the retry set instead (see
	// Server.give); default DefaultArchiveRoom.
	ArchiveRoom int
	Registerer  prometheus.Registerer
	Logger      *slog.Logger
}

// Defaults.
const (
	DefaultMaxAge = 7 * 24 * time.Hour
	// MaxMaxAge bounds MaxAge: asynq keeps archived tasks 90 days, and a
	// campaign's callback_url is kept that long past its keys plus the
	// archive's 90 days (see store.CallbackURLMargin).
	MaxMaxAge          = 90 * 24 * time.Hour
	DefaultConcurrency = 20
	// DefaultArchiveRoom leaves room below the 10,000 archived tasks a
	// queue keeps in asynq, which deletes the oldest beyond them: for the
	// deliveries archived while others are refused at the same time, and
	// for those archived after MaxAge.
	DefaultArchiveRoom = 9000
	// CallbackName labels the callbacks' metrics.
	CallbackName = "results"
)

// WithDefaults fills the zero fields.
func (c Config) WithDefaults() Config {
	if c.CallbackQueue == "" {
		c.CallbackQueue = CallbackQueue
	}
	if c.BatchWait == 0 {
		c.BatchWait = 200 * time.Millisecond
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.RetryBase == 0 {
		c.RetryBase = 10 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Hour
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.HTTPTimeout == 0 {
		// Ends before the shutdown's wait does: a POST in flight at
		// SIGTERM is answered or fails, rather than handed back to be
		// made again.
		c.HTTPTimeout = min(30*time.Second, c.ShutdownTimeout*2/3)
	}
	if c.ForwardInterval == 0 {
		c.ForwardInterval = 5 * time.Second
	}
	if c.ArchiveRoom == 0 {
		c.ArchiveRoom = DefaultArchiveRoom
	}
	if c.Registerer == nil {
		c.Registerer = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// CheckMaxAge refuses a MMLITE_RELAY_MAX_AGE out of its bounds: a worker
// checks it whether it delivers anything or not, so that a bad value is
// not found only when a destination is added.
func CheckMaxAge(age time.Duration) error {
	if age < time.Minute || age > MaxMaxAge {
		return fmt.Errorf("MMLITE_RELAY_MAX_AGE must be between 1m and %s (90 days), got %s", MaxMaxAge, age)
	}
	return nil
}

// Validate names the field and the rule it breaks.
func (c Config) Validate() error {
	if err := CheckMaxAge(c.MaxAge); err != nil {
		return err
	}
	switch {
	case len(c.Destinations) == 0 && c.Callbacks == nil:
		return errors.New("nothing to deliver: no destination (MMLITE_WEBHOOK_FORWARD / MMLITE_WEBHOOK_DESTINATIONS) and no MMLITE_RESULTS_URL")
	case c.RetryBase <= 0 || c.RetryMax < c.RetryBase:
		return fmt.Errorf("the retry backoff must be positive and RetryMax (%s) at least RetryBase (%s)", c.RetryMax, c.RetryBase)
	case c.Concurrency < 1:
		return fmt.Errorf("MMLITE_OUTBOUND_CONCURRENCY must be at least 1, got %d", c.Concurrency)
	case c.BatchSize < 0 || c.BatchSize > 1000:
		return fmt.Errorf("MMLITE_RESULTS_BATCH must be 0 to 1000 (0 or 1: no batching), got %d", c.BatchSize)
	case c.BatchWait < 0 || c.BatchWait > time.Minute:
		return fmt.Errorf("MMLITE_RESULTS_BATCH_WAIT must be above 0 and at most 1m, got %s", c.BatchWait)
	case c.HTTPTimeout <= 0:
		return fmt.Errorf("the HTTP timeout must be positive, got %s", c.HTTPTimeout)
	}
	if c.Callbacks != nil {
		if err := CheckURL(c.Callbacks.URL); err != nil {
			return fmt.Errorf("MMLITE_RESULTS_URL: %w", err)
		}
		if c.Callbacks.secret == "" {
			return errors.New("MMLITE_RESULTS_SECRET is empty: callbacks are signed with it")
		}
	}
	return nil
}

// NewCallbacks is the destination of the outcome callbacks; its secret is
// trimmed, as every secret read from the environment or a file is.
func NewCallbacks(url, secret string) *Destination {
	return &Destination{Name: CallbackName, URL: url, secret: strings.TrimSpace(secret)}
}

// delay is the wait after the n-th failed attempt (n from 1).
func (c Config) delay(n int) time.Duration {
	d := c.RetryBase
	for i := 1; i < n && d < c.RetryMax; i++ {
		d *= 2
	}
	return min(d, c.RetryMax)
}

// expired reports whether a delivery that failed after retried retries
// would be retried past MaxAge: the waits it had, and the one it would
// have now, the same as asynq's (see retryDelay).
func (c Config) expired(retried int, err error) bool {
	return c.elapsed(retried)+c.retryDelay(retried, err, nil) > c.MaxAge
}

// elapsed is the backoff a delivery waited through before its n-th retry.
func (c Config) elapsed(n int) time.Duration {
	var t time.Duration
	for i := 1; i <= n; i++ {
		if t += c.delay(i); t > 100*c.MaxAge {
			break
		}
	}
	return t
}
