package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqlog"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/ratelimit"
	"github.com/mmlite/mmlite/internal/redisbatch"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// Worker sends jobs. Create it with New, then Start and Shutdown, or Run.
type Worker struct {
	cfg       Config
	log       *slog.Logger
	srvs      []*asynq.Server // one per dequeuer, sharing Concurrency
	emitter   *emit.Emitter
	rdb       redis.UniversalClient
	store     *store.Store
	guard     *guard.Guard
	limits    *limitMemo
	senders   map[string]*sender.Sender
	client    *mmapi.Client
	limiter   ratelimit.Limiter
	campaigns *defCache
	cancels   *cancelMemo
	shares    *shares
	m         *workerMetrics
	reg       prometheus.Registerer
	gatherer  prometheus.Gatherer
	ownRDB    bool // the worker opened its Redis connection (not Config.Client)
	cluster   bool // Redis Cluster: results are enqueued apart from the outcome
	keys      keyspace.Space
	id        string // this process among the fleet's
	recoverer *recoverer
	// stopBackground ends the recoverer and the housekeeping started by
	// Start; background waits for them.
	stopBackground context.CancelFunc
	background     sync.WaitGroup
}

// New validates cfg and builds a worker; it connects to nothing yet.
func New(cfg Config) (*Worker, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Worker{cfg: cfg, log: cfg.Logger, senders: map[string]*sender.Sender{}, keys: keyspace.New(cfg.Queue), id: processID()}
	ids := make([]string, 0, len(cfg.Senders))
	limits := map[string]ratelimit.Config{}
	for _, s := range cfg.Senders {
		w.senders[s.ID] = s
		ids = append(ids, s.ID)
		limits[s.ID] = ratelimit.Config{Rate: s.Rate, Burst: s.Burst}
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: cfg.HTTPTimeout, Transport: transport(cfg.Concurrency)}
	}
	w.client = mmapi.NewClient(hc)
	w.rdb = cfg.Client
	if w.rdb == nil {
		w.rdb, w.ownRDB = redisconn.Client(cfg.Redis), true
	}
	_, w.cluster = w.rdb.(*redis.ClusterClient)
	// Claims and settles of concurrent jobs share round trips.
	w.store = store.New(w.rdb, w.keys, store.Options{Retention: cfg.Retention,
		Batcher:       redisbatch.New(w.rdb, 500*time.Microsecond, 64),
		UnknownWindow: max(cfg.UnknownWindow, 0), UnknownGrace: cfg.UnknownGrace})
	if cfg.MaxWait < time.Second {
		cfg.Logger.Warn("MMLITE_MAX_WAIT is under 1s: asynq makes paced jobs due by the whole second, so senders will fall short of their rate",
			"max_wait", cfg.MaxWait)
	}
	for _, snd := range cfg.Senders {
		if host, clear := safeurl.InClear(snd.BaseURL); clear {
			cfg.Logger.Warn("sender's base_url is plain http:// on a host other than loopback: its API key travels in clear text with every message",
				"sender", snd.ID, "host", host)
		}
	}
	w.limiter = cfg.Limiter
	if w.limiter == nil {
		w.limiter = ratelimit.NewFleet(w.rdb, w.keys, w.id, limits)
	}
	// The guard counts the campaigns it pauses (w.m is set below, before
	// any job runs).
	w.guard = guard.New(w.rdb, w.store, cfg.guard()).Counting(func(reason string, n int) {
		w.m.paused.WithLabelValues(reason).Add(float64(n))
	})
	w.limits = &limitMemo{g: w.guard}
	w.campaigns = newDefCache(w.store)
	w.cancels = newCancelMemo(w.store)
	w.shares = newShares(cfg.Concurrency, ids)
	w.emitter = emit.New(w.rdb, cfg.ResultsQueue, w.store.Campaigns.Retention())
	if cfg.CallbackQueue != "" {
		w.emitter.WithCallbacks(cfg.CallbackQueue, cfg.NoResultsQueue)
	}
	w.reg, w.gatherer = metrics.Registries(cfg.Registerer)
	var err error
	if w.m, err = newMetrics(w.reg, ids, w.limiter); err != nil {
		w.closeRedis()
		return nil, err
	}
	if err := w.reg.Register(metrics.NewQueueCollector(w.rdb, cfg.Queue, cfg.ResultsQueue)); err != nil {
		w.closeRedis()
		return nil, fmt.Errorf("worker: register queue metrics: %w", err)
	}
	w.recoverer = &recoverer{rdb: w.rdb, keys: w.keys, log: cfg.Logger, recovered: w.m.recovered}
	// asynq's processor dequeues one job per round trip: several servers
	// share the concurrency so that a busy worker dequeues in parallel.
	// Each polls an empty queue every taskCheckInterval: paced jobs come due
	// a second's worth at a time, and a server asleep for longer would leave
	// its slots idle while they wait (an idle poll costs Redis microseconds).
	// The first moves due jobs to pending every ForwardInterval; the others,
	// there in case it is slow, add one more move per interval.
	// One logger for all of them, so that their lines' repeats are held
	// back together (see asynqlog).
	alog := asynqlog.New(cfg.Logger)
	for i, conc := range split(cfg.Concurrency, cfg.Dequeuers) {
		forward := cfg.ForwardInterval
		if i > 0 {
			forward *= time.Duration(cfg.Dequeuers - 1)
		}
		w.srvs = append(w.srvs, asynq.NewServerFromRedisClient(w.rdb, asynq.Config{
			Concurrency:              conc,
			Queues:                   map[string]int{cfg.Queue: 1},
			RetryDelayFunc:           retryDelay,
			IsFailure:                isFailure,
			ShutdownTimeout:          cfg.ShutdownTimeout,
			DelayedTaskCheckInterval: forward,
			TaskCheckInterval:        taskCheckInterval,
			Logger:                   alog,
			LogLevel:                 asynq.WarnLevel,
		}))
	}
	return w, nil
}

// taskCheckInterval is how often each dequeuer looks for jobs in an empty queue.
const taskCheckInterval = 250 * time.Millisecond

// split shares n job slots among k dequeuers, as evenly as it can.
func split(n, k int) []int {
	out := make([]int, k)
	for i := range out {
		out[i] = n / k
		if i < n%k {
			out[i]++
		}
	}
	return out
}

// processID names this worker among the live workers of the fleet.
func processID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

func transport(conns int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = conns
	t.MaxIdleConnsPerHost = conns
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return t
}

// Start publishes the senders' rates and starts consuming jobs.
func (w *Worker) Start(ctx context.Context) error {
	if err := w.publishSenders(ctx); err != nil {
		return err
	}
	// Results are written by the settle script, not asynq's client: list
	// the results queue for asynq's tools as its client would.
	queues := []any{w.cfg.ResultsQueue}
	if w.cfg.NoResultsQueue {
		queues = nil
	}
	if w.cfg.CallbackQueue != "" {
		queues = append(queues, w.cfg.CallbackQueue)
	}
	if err := w.rdb.SAdd(ctx, keyspace.AsynqQueues, queues...).Err(); err != nil {
		return fmt.Errorf("worker: publish results queue: %w", err)
	}
	for _, srv := range w.srvs {
		if err := srv.Start(asynq.HandlerFunc(w.ProcessTask)); err != nil {
			return fmt.Errorf("worker: start: %w", err) // Shutdown stops those started
		}
	}
	// One recoverer and one housekeeping loop per process, whatever the
	// number of dequeuers.
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	w.stopBackground = stop
	w.background.Go(func() { w.recoverer.run(bg) })
	w.background.Go(func() { w.housekeep(bg) })
	resultsQueue := w.cfg.ResultsQueue
	if w.cfg.NoResultsQueue {
		resultsQueue = "" // MMLITE_RESULTS_QUEUE="": off, the callbacks only
	}
	w.log.Info("worker started", "queue", w.cfg.Queue, "results_queue", resultsQueue, "callback_queue", w.cfg.CallbackQueue,
		"concurrency", w.cfg.Concurrency, "senders", len(w.senders), "at_least_once", w.cfg.AtLeastOnce)
	return nil
}

// Shutdown stops taking jobs, lets in-flight sends finish within the
// shutdown timeout (asynq hands back what does not), and closes connections.
// It also releases a worker whose Start failed.
func (w *Worker) Shutdown() {
	// All at once: a Stop waits for its dequeuer's Redis call or poll
	// sleep, and none may take a job while the others finish theirs.
	var wg sync.WaitGroup
	for _, srv := range w.srvs {
		wg.Go(srv.Stop)
	}
	wg.Wait()
	if w.stopBackground != nil {
		w.stopBackground()
		w.background.Wait()
	}
	for _, srv := range w.srvs {
		wg.Go(srv.Shutdown)
	}
	wg.Wait()
	w.closeRedis()
	if w.stopBackground != nil { // it had started
		w.log.Info("worker stopped")
	}
}

// closeRedis closes the worker's own connection, not one it was given.
func (w *Worker) closeRedis() {
	if w.ownRDB {
		_ = w.rdb.Close()
	}
}

// Gatherer is what the worker's /metrics serves.
func (w *Worker) Gatherer() prometheus.Gatherer { return w.gatherer }

// Ready reports whether Redis answers now: a worker is ready again as soon
// as Redis is back, not when asynq's next health check (every 15 s) says so.
func (w *Worker) Ready(ctx context.Context) error {
	if err := w.ping(ctx); err != nil {
		return fmt.Errorf("worker: redis: %w", err)
	}
	return nil
}

// readyTimeout bounds Ready's ping: a Redis that does not answer within it
// is as good as down for sending.
const readyTimeout = time.Second

// publishSenders tells producers and the api each sender's rate, webhook
// mapping and onboarding requirement.
func (w *Worker) publishSenders(ctx context.Context) error {
	return registry.New(w.rdb, keyspace.New(w.cfg.Queue)).Publish(ctx, w.cfg.Senders)
}

// Run starts a worker, serves its metrics, and shuts it down when ctx ends.
func Run(ctx context.Context, cfg Config) error {
	w, err := New(cfg)
	if err != nil {
		return err
	}
	var srv *httpserve.Server
	if cfg.MetricsAddr != "" {
		if srv, err = httpserve.Listen(cfg.MetricsAddr, metrics.Mux(w.gatherer, w.Ready), httpserve.Timeouts{}); err != nil {
			w.Shutdown()
			return fmt.Errorf("MMLITE_METRICS_ADDR (--metrics-addr): %w", err)
		}
	}
	if err := w.Start(ctx); err != nil {
		w.Shutdown()
		if srv != nil {
			_ = srv.Close()
		}
		return err
	}
	errc := make(chan error, 1)
	if srv != nil {
		cfg.Logger.Info("serving metrics", "addr", srv.Addr())
		go func() { errc <- srv.Serve(ctx, 5*time.Second) }()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	w.Shutdown()
	return err
}
