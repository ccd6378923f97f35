package e2e_test

import (
	"sort"
	"testing"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

// maxWindow is the most sends any one-second window holds.
func maxWindow(times []time.Time) int {
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// Three workers share one sender's rate instead of each sending at it.
// Timing figures are the benchmark's (BenchmarkFleetRate); this test only
// catches a fleet that sends several times the rate. Every job is due at
// once, so that nothing but the workers' shared limit holds the rate: paced
// by the producer at the sender's rate, three workers that each sent at it
// would still send about the rate (jobs come due a second's worth at a time).
func TestFleet_ThreeWorkersShareOneRate(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	const rate, n = 40, 240
	for range 3 {
		cfg := f.workerConfig(rate)
		cfg.ForwardInterval = 200 * time.Millisecond
		// As in production: a job may wait for its slot longer than asynq's
		// one-second schedule granularity, instead of being put back.
		cfg.MaxWait = worker.DefaultMaxWait
		f.startWorker(t, cfg)
	}
	unpaced := f.workerConfig(rate).Senders[0]
	unpaced.Rate = 100 * rate // the producer makes every job pending at once
	f.publish(t, unpaced)
	start := time.Now()
	f.submit(t, "c1", n)
	f.waitState(t, "c1", campaign.StateCompleted, 60*time.Second)
	times := f.Fake.AcceptedTimes("")
	require.Len(t, times, n)
	burst := sender.DefaultBurst(rate)
	// A lower bound on the time (about 6 s): a loaded machine only makes it
	// longer. Three workers each at the rate take about 2 s.
	require.GreaterOrEqual(t, time.Since(start).Seconds(), float64(n-burst)/rate*0.9, "not faster than the rate")
	// The busiest second holds rate + burst = 44. Sends that a stalled
	// machine held back go out together and add up to the rate per second of
	// stall, hence twice that; three workers each at the rate put about 125
	// in one second.
	require.LessOrEqual(t, maxWindow(times), (rate+burst)*2, "three workers did not each send at the rate")
}

// A slow sender's backlog does not hold a fast sender back.
func TestFleet_SlowSenderDoesNotBlockFastOne(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	// 1000 at 200/s take about 5 s; behind the slow backlog (600 at 5/s) it
	// would be 2 minutes. The bounds sit between the two, far enough from
	// 5 s that only being held back, not a loaded machine, reaches them.
	took, slow := f.isolate(t, 20, 600, 1000, 100*time.Second)
	require.Less(t, slow.Counts.Final(), int64(600), "the slow campaign is still sending")
	require.Less(t, took, time.Minute, "the fast campaign was held behind the slow backlog")
}
