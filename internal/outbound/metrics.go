package outbound

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

type deliveryMetrics struct {
	delivered, failed *prometheus.CounterVec
}

func newDeliveryMetrics(rdb redis.UniversalClient, cfg Config) (*deliveryMetrics, error) {
	l := []string{"destination"}
	m := &deliveryMetrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_outbound_delivered_total",
			Help: "Relayed webhooks and callbacks a destination accepted (2xx)."}, l),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_outbound_failed_attempts_total",
			Help: "Delivery attempts that failed (an error or an answer other than 2xx)."}, l),
	}
	bc := &backlogCollector{rdb: rdb, inspector: asynq.NewInspectorFromRedisClient(rdb), cfg: cfg,
		backlog:  prometheus.NewDesc("mmlite_outbound_backlog", "Deliveries waiting for the destination (pending, retrying or in flight).", l, nil),
		archived: prometheus.NewDesc("mmlite_outbound_archived", "Deliveries given up and archived, to be replayed (mmlite outbound replay).", l, nil),
		oldest: prometheus.NewDesc("mmlite_outbound_oldest_pending_seconds",
			"Age of the destination's oldest waiting delivery (for a retrying one, estimated from its retries).", l, nil)}
	names := []string{}
	for _, d := range cfg.Destinations {
		names = append(names, d.Name)
	}
	if cfg.Callbacks != nil {
		names = append(names, cfg.Callbacks.Name)
	}
	for _, n := range names { // every destination's series from the start
		m.delivered.WithLabelValues(n)
		m.failed.WithLabelValues(n)
	}
	if err := metrics.Register(cfg.Registerer, m.delivered, m.failed, bc); err != nil {
		return nil, err
	}
	return m, nil
}

// backlogCollector reads each destination's queue at scrape time.
type backlogCollector struct {
	rdb                       redis.UniversalClient
	inspector                 *asynq.Inspector
	cfg                       Config
	backlog, archived, oldest *prometheus.Desc
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.backlog
	ch <- c.archived
	ch <- c.oldest
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	each := func(d *Destination, queue string) {
		b, err := Backlog(ctx, c.rdb, c.inspector, c.cfg, queue)
		if err != nil {
			return // Redis is down: mmlite_redis_up says so
		}
		ch <- prometheus.MustNewConstMetric(c.backlog, prometheus.GaugeValue, float64(b.Waiting), d.Name)
		ch <- prometheus.MustNewConstMetric(c.archived, prometheus.GaugeValue, float64(b.Archived), d.Name)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, b.Oldest.Seconds(), d.Name)
	}
	for _, d := range c.cfg.Destinations {
		each(d, d.Queue())
	}
	if c.cfg.Callbacks != nil {
		each(c.cfg.Callbacks, c.cfg.CallbackQueue)
	}
}

// QueueState is a destination's queue at a glance.
type QueueState struct {
	Waiting  int64         // pending, scheduled, retrying or in flight
	Archived int64         // given up
	Oldest   time.Duration // age of the oldest waiting delivery (estimated for a retrying one)
}

// Backlog reads a destination's queue: the counts in one pipeline, and the
// oldest waiting delivery's age from the oldest pending task and the most
// retried of the next retries (its age is estimated from its backoff).
func Backlog(ctx context.Context, rdb redis.UniversalClient, in *asynq.Inspector, cfg Config, queue string) (QueueState, error) {
	q, err := metrics.ReadQueue(ctx, rdb, queue)
	if err != nil {
		return QueueState{}, err
	}
	c := q.Counts
	st := QueueState{Waiting: c[metrics.Pending] + c[metrics.Active] + c[metrics.Scheduled] + c[metrics.Retry],
		Archived: c[metrics.Archived], Oldest: q.OldestPending}
	if c[metrics.Retry] > 0 {
		cfg = cfg.WithDefaults()
		retries, err := in.ListRetryTasks(queue, asynq.PageSize(20))
		if err == nil {
			for _, t := range retries {
				st.Oldest = max(st.Oldest, cfg.elapsed(t.Retried-1)+time.Since(t.LastFailedAt))
			}
		}
	}
	return st, nil
}
