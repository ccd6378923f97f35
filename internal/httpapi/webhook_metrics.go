package httpapi

import (
	"context"
	"time"

	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/prometheus/client_golang/prometheus"
)

type webhookMetrics struct {
	events     *prometheus.CounterVec // type, status
	deliveries *prometheus.CounterVec // result
	auth       *prometheus.CounterVec // reason
	clicks     *prometheus.CounterVec // sender
	fallback   *prometheus.CounterVec // sender
}

func newWebhookMetrics(reg prometheus.Registerer, senders *registry.Registry) (*webhookMetrics, error) {
	m := &webhookMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_webhook_events_total",
			Help: "Webhook events received, by type (status, click, account_update, template_update, quality_update, other) and status (sent, delivered, read, failed, click, the account or template event)."},
			[]string{"type", "status"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_webhook_statuses_total",
			Help: "Status events by result: counted (first time), duplicate (delivered again), unknown_wamid (not sent by mmlite)."},
			[]string{"result"}),
		auth: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_webhook_auth_failures_total",
			Help: "Webhook requests refused, by reason (secret, signature, verify_token, not_configured)."}, []string{"reason"}),
		clicks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_clicks_total",
			Help: "Marketing message link clicks, by sender."}, []string{"sender"}),
		fallback: metrics.NewFallbackCounter(),
	}
	err := metrics.Register(reg, m.events, m.deliveries, m.auth, m.clicks, m.fallback, &onboardedCollector{senders: senders,
		desc: prometheus.NewDesc("mmlite_sender_onboarded", "1 when the sender's WABA has signed the MM Lite terms (MM_LITE_TERMS_SIGNED received).", []string{"sender"}, nil)})
	for _, st := range []string{"sent", "delivered", "read", "failed", "other"} {
		m.events.WithLabelValues("status", st)
	}
	m.events.WithLabelValues("click", "click")
	m.events.WithLabelValues("account_update", "MM_LITE_TERMS_SIGNED")
	for _, e := range []string{"PAUSED", "DISABLED", "REINSTATED", "APPROVED"} {
		m.events.WithLabelValues("template_update", e)
	}
	m.events.WithLabelValues("quality_update", "quality_update")
	m.events.WithLabelValues("other", "")
	for _, r := range []string{"counted", "duplicate", "unknown_wamid"} {
		m.deliveries.WithLabelValues(r)
	}
	m.clicks.WithLabelValues("unknown") // clicks from numbers no worker published
	for _, r := range []string{"secret", "signature", "verify_token", "not_configured"} {
		m.auth.WithLabelValues(r)
	}
	return m, err
}

// onboardedCollector reads onboarding from Redis at scrape time.
type onboardedCollector struct {
	senders *registry.Registry
	desc    *prometheus.Desc
}

func (c *onboardedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *onboardedCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := c.senders.All(ctx)
	if err != nil {
		return
	}
	for id, p := range all {
		v := 0.0
		if at, err := c.senders.Onboarded(ctx, p.WABAID); err == nil && !at.IsZero() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, id)
	}
}
