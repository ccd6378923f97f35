package metrics

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// NewRegistry returns a registry with the Go and process collectors.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// Registries turns a config's Registerer into where to register and what
// /metrics serves: a new registry when it is nil; itself when it is also a
// Gatherer (a *prometheus.Registry is); otherwise /metrics serves nothing
// of it (the caller serves its own registry).
func Registries(r prometheus.Registerer) (prometheus.Registerer, prometheus.Gatherer) {
	if r == nil {
		reg := NewRegistry()
		return reg, reg
	}
	if g, ok := r.(prometheus.Gatherer); ok {
		return r, g
	}
	return r, prometheus.Gatherers{}
}

// Check is a health or readiness probe; nil means healthy.
type Check func(ctx context.Context) error

// Mux returns a mux with /metrics, /healthz (live) and /readyz (ready).
func Mux(g prometheus.Gatherer, ready Check) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if ready != nil {
			if err := ready(ctx); err != nil {
				http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	return mux
}

// NewPausedCounter is mmlite_campaigns_paused_total, by reason, which the
// producer (operator and onboarding pauses) and the worker (automatic ones)
// both count.
func NewPausedCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_campaigns_paused_total",
		Help: "Campaigns paused, by reason (operator, campaign_fatal, failure_ratio, onboarding, sender_paused, template_paused, template_disabled, fallback)."}, []string{"reason"})
	for _, r := range campaign.PauseReasons() {
		c.WithLabelValues(r)
	}
	return c
}

// NewFallbackCounter is mmlite_fallback_total, by sender, which the api
// (statuses in webhooks) and the worker (statuses its housekeeping
// replays) both count: a message's first status priced as a Cloud API
// marketing message, counted once.
func NewFallbackCounter() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "mmlite_fallback_total",
		Help: "Messages Meta delivered through the Cloud API instead of MM Lite (pricing category marketing), by sender: onboarding gaps."},
		[]string{"sender"})
	c.WithLabelValues("unknown") // statuses of campaigns already retired
	return c
}

// Register registers every collector, or says which one it could not (a
// second worker or api on one registry, say): never a panic.
func Register(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("metrics: register (is another worker or api using this registry?): %w", err)
		}
	}
	return nil
}
