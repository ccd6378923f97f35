package testkit

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// Counters reads the counter name of a gatherer, by the value of its one
// label (sender, result, destination): what a test compares.
func Counters(tb testing.TB, g prometheus.Gatherer, name string) map[string]float64 {
	tb.Helper()
	mfs, err := g.Gather()
	require.NoError(tb, err)
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			require.Len(tb, m.GetLabel(), 1, "%s has one label", name)
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}
