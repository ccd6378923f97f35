package outbound

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
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
	bc := &backlogCollector{rdb: rdb, cfg: cfg,
		backlog:  prometheus.NewDesc("mmlite_outbound_backlog", "Deliveries waiting for the destination (pending, retrying or in flight).", l, nil),
		archived: prometheus.NewDesc("mmlite_outbound_archived", "Deliveries given up and archived, to be replayed (mmlite outbound replay).", l, nil),
		oldest: prometheus.NewDesc("mmlite_outbound_oldest_pending_seconds",
			"Age of the destination's oldest waiting delivery, since it was first stored (a callback's since its first failure).", l, nil)}
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
		b, err := Backlog(ctx, c.rdb, queue)
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
	Oldest   time.Duration // age of the oldest waiting delivery, since it was first stored
}

// oldestScript returns the score of the failing set's first delivery that
// still waits, and takes out those before it that no longer do (deleted
// or archived with asynq's tools, or delivered by a worker that stopped
// before it took them out), at most 100 a call. KEYS: 1 failing set.
// ARGV: 1 task hash prefix (keyspace.AsynqTaskPrefix).
var oldestScript = redis.NewScript(`
for _ = 1, 100 do
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if #first == 0 then return false end
  local state = redis.call('HGET', ARGV[1] .. first[1], 'state')
  if state and state ~= 'archived' and state ~= 'completed' then return first[2] end
  redis.call('ZREM', KEYS[1], first[1])
end
return false
`)

// Backlog reads a destination's queue: the counts in one pipeline, and the
// oldest waiting delivery's age, from the oldest pending task and the
// first of the failing set (keyspace.Failing).
//
// The workers keep the failing set: a delivery goes in when an attempt
// fails and is to be retried, by when it was first stored, and out when it
// is delivered or archived; reading it costs a script call a scrape.
// asynq's own records cannot give the age: a task does not say when it was
// enqueued, its pending_since is reset each time a retry comes due, and the
// retry set is ordered by the next attempt, not by age (those on the
// longest backoff are spread over the next hour whatever their age), so
// that finding the oldest would mean reading every retrying task at every
// scrape, hundreds of thousands in an outage. The set costs the workers a
// command per failed attempt, and one per delivery that had failed; the
// webhook intake only a few bytes: a relay task carries the time it was
// first stored in its payload (relayMeta.Stored), written in the same
// command as before, and kept by a replay. A callback's payload is the
// body POSTed, with no room for mmlite's own fields, and a webhook stored
// by a version before the time was kept has none: each is aged from its
// first failure, or from the backoff it waited through if longer (see
// Server.failed).
func Backlog(ctx context.Context, rdb redis.UniversalClient, queue string) (QueueState, error) {
	q, err := metrics.ReadQueue(ctx, rdb, queue)
	if err != nil {
		return QueueState{}, err
	}
	c := q.Counts
	st := QueueState{Waiting: c[metrics.Pending] + c[metrics.Active] + c[metrics.Scheduled] + c[metrics.Retry],
		Archived: c[metrics.Archived], Oldest: q.OldestPending}
	k := keyspace.New(queue)
	first, err := oldestScript.Run(ctx, rdb, []string{k.Failing()}, k.AsynqTaskPrefix()).Text()
	switch {
	case err == nil:
		if ms, err := strconv.ParseFloat(first, 64); err == nil {
			st.Oldest = max(st.Oldest, time.Since(time.UnixMilli(int64(ms))))
		}
	case !errors.Is(err, redis.Nil):
		return QueueState{}, err
	}
	return st, nil
}
