package worker_test

import (
	"math"
	"sync/atomic"
	"testing"

	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/stretchr/testify/require"
)

// recoveringLimiter is a countingLimiter whose effective rate the test sets.
type recoveringLimiter struct {
	countingLimiter
	rate atomic.Uint64 // math.Float64bits
}

func (l *recoveringLimiter) Rate(string) float64 { return math.Float64frombits(l.rate.Load()) }

// mmlite_sender_rate is the limiter's effective rate when Prometheus
// scrapes, not the one the last job saw: after a throttle the rate
// recovers with time, also once the sender has nothing left to send
// (found in review: the gauge was set only as jobs passed, and showed a
// throttled sender slowed down for as long as it sent nothing).
func TestMetrics_SenderRateIsReadAtScrape(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	lim := &recoveringLimiter{}
	lim.rate.Store(math.Float64bits(40))
	cfg := b.config()
	cfg.Limiter = lim
	w := b.start(t, cfg)
	rate := func() float64 {
		mfs, err := w.Gatherer().Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "mmlite_sender_rate" {
				for _, m := range mf.GetMetric() {
					if m.GetLabel()[0].GetValue() == "default" {
						return m.GetGauge().GetValue()
					}
				}
			}
		}
		t.Fatal("no mmlite_sender_rate{sender=\"default\"}")
		return 0
	}
	require.Equal(t, 40.0, rate())
	lim.rate.Store(math.Float64bits(80)) // recovered, no job since
	require.Equal(t, 80.0, rate())
}
