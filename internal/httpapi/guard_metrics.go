package httpapi

import (
	"context"
	"time"

	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/prometheus/client_golang/prometheus"
)

// guardCollector reads the protections' state from Redis at scrape time:
// which senders are paused, and how much of each messaging limit is used.
type guardCollector struct {
	senders        *registry.Registry
	guard          *guard.Guard
	paused         *prometheus.Desc
	limit, reached *prometheus.Desc
}

func newGuardCollector(senders *registry.Registry, g *guard.Guard) *guardCollector {
	return &guardCollector{senders: senders, guard: g,
		paused: prometheus.NewDesc("mmlite_sender_paused",
			"1 while the sender guard holds the sender (an account-wide condition, or an operator's sender pause).", []string{"sender"}, nil),
		limit: prometheus.NewDesc("mmlite_messaging_limit",
			"The messaging limit of a business portfolio (or of a sender without one): unique recipients per rolling window; 0 unlimited.",
			[]string{"portfolio"}, nil),
		reached: prometheus.NewDesc("mmlite_messaging_limit_use",
			"Unique recipients the portfolio (or sender) reached in the messaging limit's rolling window.", []string{"portfolio"}, nil)}
}

func (c *guardCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.paused
	ch <- c.limit
	ch <- c.reached
}

func (c *guardCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	all, err := c.senders.All(ctx)
	if err != nil {
		return
	}
	scopes := map[string]int{}
	for id, p := range all {
		st, err := c.guard.Sender(ctx, id)
		if err != nil {
			return
		}
		v := 0.0
		if st.Paused {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, v, id)
		scopes[p.LimitScope()] = int(p.MessagingLimit)
	}
	for scope, configured := range scopes {
		u, err := c.guard.Use(ctx, scope, configured)
		if err != nil {
			return
		}
		ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(u.Limit), scope)
		ch <- prometheus.MustNewConstMetric(c.reached, prometheus.GaugeValue, float64(u.Reached), scope)
	}
}
