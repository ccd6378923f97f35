package worker

import (
	"fmt"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/ratelimit"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/prometheus/client_golang/prometheus"
)

// workerMetrics are the worker's own; labels never carry a phone number, a wamid
// or a campaign id.
type workerMetrics struct {
	messages      *prometheus.CounterVec   // sender, status
	requests      *prometheus.CounterVec   // sender, class
	duration      *prometheus.HistogramVec // sender
	wait          *prometheus.HistogramVec // sender
	rate          *rateCollector           // sender
	throttled     *prometheus.CounterVec   // sender
	rescheduled   *prometheus.CounterVec   // sender, reason
	badJobs       *prometheus.CounterVec   // reason
	paused        *prometheus.CounterVec   // reason
	inflight      prometheus.Gauge
	slots         *prometheus.GaugeVec // sender
	recovered     prometheus.Counter
	unknowns      *prometheus.CounterVec // result
	suppressed    *prometheus.CounterVec // sender, reason (the entry's source)
	protectFailed prometheus.Counter
	fallback      *prometheus.CounterVec // sender: statuses the housekeeping replays (see replay)
}

// What became of unknown outcomes kept for matching status webhooks
// (mmlite_unknown_outcomes_total's result).
const (
	unknownResolved  = "resolved"  // a status webhook showed the message sent
	unknownAmbiguous = "ambiguous" // another attempt or message in the window: it stays unknown
	unknownExpired   = "expired"   // no status matched within MMLITE_UNKNOWN_WINDOW
)

// Reasons a job goes back to the queue without spending a retry.
const (
	reasonRateLimit = "rate_limit"
	reasonThrottled = "throttled"
	reasonRecipient = "recipient_delay"
	reasonInFlight  = "in_flight"
	reasonPaused    = "paused"
	reasonCooldown  = "cooldown"        // the recipient is in cooldown (131049)
	reasonLimit     = "messaging_limit" // the portfolio's messaging limit is reached
	reasonShare     = "fair_share"      // the sender holds its share of the worker's slots (see shares)
)

func newMetrics(reg prometheus.Registerer, senders []string, limiter ratelimit.Limiter) (*workerMetrics, error) {
	m := &workerMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_messages_total",
			Help: "Recipients that reached a final outcome, by sender and status (sent, failed, expired, cancelled, unknown, suppressed)."},
			[]string{"sender", "status"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_api_requests_total",
			Help: "Calls to /marketing_messages by sender and outcome class."}, []string{"sender", "class"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mmlite_api_request_duration_seconds",
			Help:    "Duration of calls to /marketing_messages.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}}, []string{"sender"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "mmlite_ratelimit_wait_seconds",
			Help:    "Time a send waited for its sender's rate limit inside the worker.",
			Buckets: []float64{0, .005, .01, .025, .05, .1, .25, .5, 1, 2, 5}}, []string{"sender"}),
		rate: &rateCollector{limiter: limiter, senders: senders, desc: prometheus.NewDesc("mmlite_sender_rate",
			"Effective send rate per sender in messages per second (lowered after provider throttling), as the worker's limiter has it when scraped.",
			[]string{"sender"}, nil)},
		throttled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_throttled_total",
			Help: "Provider throttling answers (130429, 80007, 4, 429, 360dialog rate limit) by sender."}, []string{"sender"}),
		rescheduled: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_rescheduled_total",
			Help: "Jobs put back in the queue without spending a retry, by sender and reason."}, []string{"sender", "reason"}),
		badJobs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_bad_jobs_total",
			Help: "Jobs archived because they cannot be sent (undecodable payload, unknown sender or campaign)."}, []string{"reason"}),
		paused: metrics.NewPausedCounter(),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "mmlite_sends_in_flight",
			Help: "Calls to /marketing_messages in progress in this process."}),
		slots: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "mmlite_sender_slots",
			Help: "Worker slots (of MMLITE_CONCURRENCY) held by each sender's jobs in this process: waiting for their slot, sending, settling."}, []string{"sender"}),
		recovered: prometheus.NewCounter(prometheus.CounterOpts{Name: "mmlite_jobs_recovered_total",
			Help: "Jobs this worker took back from a worker that stopped or lost Redis, after their lease ended."}),
		unknowns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_unknown_outcomes_total",
			Help: "Unknown outcomes matched against status webhooks, by result: resolved (sent), ambiguous (stays unknown), expired (no status within the window)."},
			[]string{"result"}),
		suppressed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_suppressed_total",
			Help: "Recipients given a suppressed result instead of a send, by sender and reason (where the suppression entry came from: api, cli, console, answer, webhook)."},
			[]string{"sender", "reason"}),
		fallback: metrics.NewFallbackCounter(),
		protectFailed: prometheus.NewCounter(prometheus.CounterOpts{Name: "mmlite_protect_failures_total",
			Help: "Error answers whose protection (suppression, cooldown, sender or template pause) could not be written; the job settled or released all the same."}),
	}
	for _, c := range []prometheus.Collector{m.messages, m.requests, m.duration, m.wait, m.rate, m.throttled, m.rescheduled,
		m.badJobs, m.paused, m.inflight, m.slots, m.recovered, m.unknowns, m.suppressed, m.protectFailed, m.fallback} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("worker: register metrics (is another worker using this registry?): %w", err)
		}
	}
	for _, s := range senders {
		for _, st := range task.FinalStatuses {
			m.messages.WithLabelValues(s, st)
		}
		for _, c := range mmapi.Classes() {
			m.requests.WithLabelValues(s, c.String())
		}
		for _, r := range []string{reasonRateLimit, reasonThrottled, reasonRecipient, reasonInFlight, reasonPaused,
			reasonCooldown, reasonLimit, reasonShare} {
			m.rescheduled.WithLabelValues(s, r)
		}
		for _, r := range guard.Sources() {
			m.suppressed.WithLabelValues(s, r)
		}
		m.duration.WithLabelValues(s)
		m.slots.WithLabelValues(s)
		m.wait.WithLabelValues(s)
		m.throttled.WithLabelValues(s)
	}
	for _, r := range []string{badPayload, badSender, badCampaign, badType} {
		m.badJobs.WithLabelValues(r)
	}
	for _, r := range []string{unknownResolved, unknownAmbiguous, unknownExpired} {
		m.unknowns.WithLabelValues(r)
	}
	return m, nil
}

// rateCollector reads each sender's effective rate from the limiter when
// Prometheus scrapes: after a throttle it recovers with time, also while
// the sender sends nothing (a gauge set as jobs pass would keep the
// lowered rate until the sender's next job).
type rateCollector struct {
	limiter ratelimit.Limiter
	senders []string
	desc    *prometheus.Desc
}

func (c *rateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *rateCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.senders {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, c.limiter.Rate(s), s)
	}
}
