package worker_test

import (
	"testing"

	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

// mmlite_suppressed_total starts at zero for each sender and each source a
// suppression entry has (api, cli, console, answer, webhook), so that a
// rate over it sees the first recipient suppressed by an entry the cli or
// the console added (found in review: those entries said api).
func TestMetrics_SuppressedStartsAtZeroForEverySource(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	w, err := worker.New(b.config())
	require.NoError(t, err)
	mfs, err := w.Gatherer().Gather()
	require.NoError(t, err)
	got := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "mmlite_suppressed_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			require.Equal(t, "default", labels["sender"])
			require.Zero(t, m.GetCounter().GetValue())
			got[labels["reason"]] = true
		}
	}
	require.Equal(t, map[string]bool{"api": true, "cli": true, "console": true, "answer": true, "webhook": true}, got)
}
