package e2e_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// footprint is what the keys of this test's queues take in Redis.
type footprint struct {
	keys  int
	bytes int64
	names []string
}

func (f *fleet) footprint(tb testing.TB) footprint {
	tb.Helper()
	var out footprint
	for _, q := range []string{f.R.Queue, f.R.Results} {
		iter := f.R.Client.Scan(f.Ctx, 0, "*{"+q+"}*", 1000).Iterator()
		for iter.Next(f.Ctx) {
			n, err := f.R.Client.MemoryUsage(f.Ctx, iter.Val(), 0).Result()
			if err == redis.Nil {
				continue // expired meanwhile
			}
			require.NoError(tb, err)
			out.keys++
			out.bytes += n
			out.names = append(out.names, iter.Val())
		}
		require.NoError(tb, iter.Err())
	}
	return out
}

// perCampaignKey says whether a key belongs to one campaign or recipient
// (as opposed to a sender's clock or asynq's daily counters).
func perCampaignKey(k, id string) bool {
	return strings.Contains(k, ":"+id) || strings.Contains(k, ":wamid:") || strings.Contains(k, ":t:") ||
		strings.HasSuffix(k, ":campaigns") || strings.HasSuffix(k, ":retire")
}

// runForMemory sends a sealed campaign of n recipients with the given
// retention and returns the footprint before it, while it is queued, once
// it completed (results consumed), and after the retention. With params,
// each recipient has a body parameter and a metadata value of its own
// (10 characters each), which its job carries and its ledger keeps.
func runForMemory(tb testing.TB, n int, retention time.Duration, params bool) (base, queued, done, after footprint) {
	f := newFleet(tb, fakeapi.Config{})
	p, err := producer.New(producer.Config{Client: f.R.Client, Queue: f.R.Queue, ResultsQueue: f.R.Results, Retention: retention})
	require.NoError(tb, err)
	f.p = p
	cfg := f.workerConfig(100000)
	cfg.Retention, cfg.HousekeepingInterval = retention, 200*time.Millisecond
	cfg.LimitWindow = retention // the messaging limit's window of reached recipients lasts as long
	f.publish(tb, cfg.Senders...)
	base = f.footprint(tb)
	if params {
		submitWithParams(tb, f, "mem", n)
	} else {
		f.submitFor(tb, "mem", "default", n)
	}
	queued = f.footprint(tb)
	f.startWorker(tb, cfg)
	f.waitState(tb, "mem", campaign.StateCompleted, 2*time.Minute)
	require.Eventually(tb, func() bool {
		_, err := f.Inspector.GetTaskInfo(f.R.Results, "campaign:mem:completed")
		return err == nil
	}, 30*time.Second, 20*time.Millisecond, "the campaign's end is announced")
	_, err = f.Inspector.DeleteAllPendingTasks(f.R.Results) // the consumer took the results
	require.NoError(tb, err)
	done = f.footprint(tb)
	require.Eventually(tb, func() bool {
		after = f.footprint(tb)
		for _, k := range after.names {
			if perCampaignKey(k, "mem") {
				return false
			}
		}
		return true
	}, retention+30*time.Second, 100*time.Millisecond, "the campaign's keys expire after the retention: %v", &after.names)
	return base, queued, done, after
}

// A finished campaign's keys expire after the retention, the index forgets
// it, and Redis memory is back to its baseline: what stays is per sender
// and per queue (a pacing clock, asynq's daily counters), not per campaign
// or recipient. Real Redis only: keys expire on Redis's clock.
func TestRetention_MemoryBackToBaseline(t *testing.T) {
	redistest.SkipUnlessReal(t)
	t.Parallel()
	const n = 500
	base, queued, done, after := runForMemory(t, n, 2*time.Second, true)
	t.Logf("footprint: before %d keys %d B; queued %d keys %d B; completed %d keys %d B; after retention %d keys %d B",
		base.keys, base.bytes, queued.keys, queued.bytes, done.keys, done.bytes, after.keys, after.bytes)
	require.Greater(t, done.bytes-base.bytes, int64(n*100), "a completed campaign keeps its ledger until the retention")
	require.Less(t, after.bytes-base.bytes, int64(4096), "back to the baseline but for per-sender and per-queue keys: %v", after.names)
	for _, k := range after.names {
		require.False(t, strings.HasSuffix(k, ":campaigns") || strings.HasSuffix(k, ":retire"), "the index forgot the campaign: %s", k)
	}
}

// BenchmarkCampaignMemory prints what a campaign costs in Redis per
// recipient while queued, once completed, and after the retention: with
// recipients that are a number only, and with recipients that have a body
// parameter and a metadata value of their own (kept in the ledger, for
// exports and follow-ups, until the retention).
func BenchmarkCampaignMemory(b *testing.B) {
	redistest.SkipUnlessReal(b)
	const n = 20000
	for _, params := range []bool{false, true} {
		base, queued, done, after := runForMemory(b, n, 3*time.Second, params)
		per := func(fp footprint) float64 { return float64(fp.bytes-base.bytes) / n }
		kind := "a number only"
		if params {
			kind = "a number, body.1 and meta.crm_id of 10 characters each"
		}
		fmt.Printf("campaign memory: %d recipients (%s), real Redis, keys of one installation (MEMORY USAGE)\n", n, kind)
		fmt.Printf("  queued (job and its task hash)                 %7.1f bytes per recipient\n", per(queued))
		fmt.Printf("  completed (ledger, wamid mapping), results read %7.1f bytes per recipient, kept for MMLITE_RETENTION\n", per(done))
		fmt.Printf("  after the retention                            %7d bytes in all (a sender's clock, asynq's daily counters)\n", after.bytes-base.bytes)
		suffix := ""
		if params {
			suffix = "-params"
		}
		b.ReportMetric(per(queued), "B/queued"+suffix)
		b.ReportMetric(per(done), "B/sent"+suffix)
	}
}

// submitWithParams registers a campaign of sender "default" and enqueues n
// recipients with a body parameter and metadata, then seals it.
func submitWithParams(tb testing.TB, f *fleet, id string, n int) {
	tb.Helper()
	c := &campaign.Campaign{ID: id, Sender: "default", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(tb, err)
	var csv strings.Builder
	csv.WriteString("to,body.1,meta.crm_id\n")
	for i := range n {
		fmt.Fprintf(&csv, "4477009%05d,Name %05d,10000%05d\n", i, i, i)
	}
	sum, err := f.p.Enqueue(f.Ctx, c, producer.NewCSVSource(strings.NewReader(csv.String())), producer.Options{})
	require.NoError(tb, err)
	require.EqualValues(tb, n, sum.Accepted)
	_, err = f.p.Seal(f.Ctx, id)
	require.NoError(tb, err)
}
