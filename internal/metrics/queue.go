package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// QueueCollector reports asynq queue sizes by state, read from Redis with
// one pipeline per queue at scrape time. (asynq's x/metrics collector names
// gauges "_total", which promtool check metrics refuses.)
type QueueCollector struct {
	rdb     redis.UniversalClient
	queues  []string
	timeout time.Duration

	size, tasks, latency, paused, processed, failed, up *prometheus.Desc
}

// NewQueueCollector collects the given asynq queues.
func NewQueueCollector(rdb redis.UniversalClient, queues ...string) *QueueCollector {
	q := []string{"queue"}
	return &QueueCollector{rdb: rdb, queues: queues, timeout: 3 * time.Second,
		size:      prometheus.NewDesc("asynq_queue_size", "Tasks in the queue, in every state but completed.", q, nil),
		tasks:     prometheus.NewDesc("asynq_queue_tasks", "Tasks in the queue by state.", []string{"queue", "state"}, nil),
		latency:   prometheus.NewDesc("asynq_queue_latency_seconds", "Age of the oldest pending task.", q, nil),
		paused:    prometheus.NewDesc("asynq_queue_paused", "1 when the queue is paused in asynq.", q, nil),
		processed: prometheus.NewDesc("asynq_tasks_processed_total", "Tasks processed (succeeded or failed), as counted by asynq.", q, nil),
		failed:    prometheus.NewDesc("asynq_tasks_failed_total", "Task attempts that failed, as counted by asynq.", q, nil),
		up:        prometheus.NewDesc("mmlite_redis_up", "1 when Redis answered the last scrape.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.size, c.tasks, c.latency, c.paused, c.processed, c.failed, c.up} {
		ch <- d
	}
}

var states = [...]string{"pending", "active", "scheduled", "retry", "archived", "completed"}

// Collect implements prometheus.Collector.
func (c *QueueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	up := 1.0
	for _, q := range c.queues {
		if err := c.collectQueue(ctx, ch, q); err != nil {
			up = 0
		}
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up)
}

func (c *QueueCollector) collectQueue(ctx context.Context, ch chan<- prometheus.Metric, q string) error {
	st, err := ReadQueue(ctx, c.rdb, q)
	if err != nil {
		return err
	}
	var size float64
	for i, n := range st.Counts {
		ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(n), q, states[i])
		if states[i] != "completed" {
			size += float64(n)
		}
	}
	paused := 0.0
	if st.Paused {
		paused = 1
	}
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, size, q)
	ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, st.OldestPending.Seconds(), q)
	ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused, q)
	ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, st.Processed, q)
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, st.Failed, q)
	return nil
}

// Queue is an asynq queue at a glance.
type Queue struct {
	Counts            [6]int64 // tasks by state: Counts[Pending] ... Counts[Completed]
	Paused            bool
	Processed, Failed float64       // asynq's counters
	OldestPending     time.Duration // how long the oldest pending task has waited
}

// The states of Queue.Counts.
const (
	Pending = iota
	Active
	Scheduled
	Retry
	Archived
	Completed
)

// ReadQueue reads an asynq queue in one pipeline, and the oldest pending
// task's age in one more round trip when there is one.
func ReadQueue(ctx context.Context, rdb redis.UniversalClient, q string) (Queue, error) {
	k := keyspace.New(q)
	pipe := rdb.Pipeline()
	var counts [len(states)]*redis.IntCmd
	counts[Pending], counts[Active] = pipe.LLen(ctx, k.AsynqPending()), pipe.LLen(ctx, k.AsynqActive())
	counts[Scheduled], counts[Retry] = pipe.ZCard(ctx, k.AsynqScheduled()), pipe.ZCard(ctx, k.AsynqRetry())
	counts[Archived], counts[Completed] = pipe.ZCard(ctx, k.AsynqArchived()), pipe.ZCard(ctx, k.AsynqCompleted())
	oldest := pipe.LIndex(ctx, k.AsynqPending(), -1)
	isPaused := pipe.Exists(ctx, k.AsynqPaused())
	processed := pipe.Get(ctx, k.AsynqProcessed())
	failed := pipe.Get(ctx, k.AsynqFailed())
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return Queue{}, err
	}
	st := Queue{Paused: isPaused.Val() > 0, Processed: number(processed.Val()), Failed: number(failed.Val())}
	for i, cmd := range counts {
		st.Counts[i] = cmd.Val()
	}
	if id := oldest.Val(); id != "" {
		if since, err := rdb.HGet(ctx, k.AsynqTask(id), "pending_since").Int64(); err == nil && since > 0 {
			st.OldestPending = time.Since(time.Unix(0, since))
		}
	}
	return st, nil
}

func number(s string) float64 {
	f, _ := strconv.ParseFloat(s, 64)
	return f
}
