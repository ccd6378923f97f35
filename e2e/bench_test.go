package e2e_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/redis/go-redis/v9"
)

// These benchmarks need a real Redis (make bench) and print their figures;
// each runs once (-benchtime 1x).

// BenchmarkFleetRate: three workers sharing one Redis, a sender at 50/s,
// 1,500 recipients. The fake API's arrival times give the overall rate and
// the busiest one-second window.
func BenchmarkFleetRate(b *testing.B) {
	redistest.SkipUnlessReal(b)
	const rate, n = 50, 1500
	f := newFleet(b, fakeapi.Config{})
	cfgs := make([]worker.Config, 3)
	for i := range cfgs {
		cfgs[i] = f.workerConfig(rate)
		// As in production: asynq makes scheduled jobs due by the whole
		// second, so a worker must be able to wait a second for a slot.
		cfgs[i].MaxWait = worker.DefaultMaxWait
	}
	f.publish(b, cfgs[0].Senders...)
	f.submitFor(b, "rate", "default", n)
	before := commandStats(b, f.R.Client)
	for _, cfg := range cfgs {
		f.startWorker(b, cfg)
	}
	f.waitState(b, "rate", campaign.StateCompleted, 5*time.Minute)
	all, top := commandStats(b, f.R.Client).minus(before)
	times := f.Fake.AcceptedTimes("")
	first, last := times[0], times[len(times)-1]
	for _, t := range times {
		first, last = minTime(first, t), maxTime(last, t)
	}
	overall := float64(len(times)-1) / last.Sub(first).Seconds()
	burst := sender.DefaultBurst(rate)
	b.ReportMetric(overall, "msg/s")
	b.ReportMetric(float64(maxWindow(times)), "max_1s_window")
	fmt.Printf("\nfleet rate: 3 workers, sender at %d/s (burst %d), %d recipients, real Redis, GOMAXPROCS=%d\n", rate, burst, n, runtime.GOMAXPROCS(0))
	fmt.Printf("  overall rate seen by the API     %7.2f msg/s (%+.1f %% of %d)\n", overall, 100*(overall/rate-1), rate)
	fmt.Printf("  busiest 1-second window          %7d messages (limit rate + burst = %d)\n", maxWindow(times), rate+burst)
	fmt.Printf("  duplicates                       %7d\n", f.Fake.Stats().Duplicates)
	fmt.Printf("  Redis commands per message       %7.1f (%.1f top-level), including what idle workers poll\n", all/n, top/n)
}

// BenchmarkIsolation: sender slow at 5/s with 3,000 recipients enqueued
// first, sender fast at 200/s with 2,000 after; one worker.
func BenchmarkIsolation(b *testing.B) {
	redistest.SkipUnlessReal(b)
	f := newFleet(b, fakeapi.Config{})
	took, slow := f.isolate(b, 50, 3000, 2000, 5*time.Minute)
	b.ReportMetric(took.Seconds(), "fast_s")
	fmt.Printf("\nisolation: slow at 5/s (3,000 queued first), fast at 200/s (2,000 after), one worker, concurrency 50\n")
	fmt.Printf("  fast campaign completed in       %7.2f s (alone: %.0f s)\n", took.Seconds(), 2000.0/200)
	fmt.Printf("  slow campaign meanwhile          %7d sent\n", slow.Counts.Sent)
	fmt.Printf("  jobs rescheduled for a slot      %7d\n", rescheduled(b, f))
}

// BenchmarkIsolationSlowAPI: as BenchmarkIsolation, but the slow sender
// is slow in answering: its API takes 20 s a call, so that at 5/s its calls
// alone would fill 100 slots of the worker's 50. It holds its share of them
// (see the worker's fair share), and the fast campaign goes on meanwhile.
func BenchmarkIsolationSlowAPI(b *testing.B) {
	redistest.SkipUnlessReal(b)
	f := newFleet(b, fakeapi.Config{})
	slowAPI, err := fakeapi.New(fakeapi.Config{Latency: fakeapi.Duration(20 * time.Second)})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(slowAPI)
	b.Cleanup(srv.Close)
	cfg := f.slowAndFast(50)
	cfg.Senders[0].BaseURL = srv.URL
	cfg.HTTPTimeout, cfg.ShutdownTimeout = 30*time.Second, 35*time.Second
	f.startWorker(b, cfg)
	f.submitFor(b, "slow-campaign", "slow", 3000)
	time.Sleep(15 * time.Second) // the slow API's calls fill what they may of the slots
	start := time.Now()
	f.submitFor(b, "fast-campaign", "fast", 2000)
	f.waitState(b, "fast-campaign", campaign.StateCompleted, 5*time.Minute)
	took := time.Since(start)
	b.ReportMetric(took.Seconds(), "fast_s")
	fmt.Printf("\nisolation from a slow API: slow at 5/s answering in 20 s (3,000 queued 15 s first), fast at 200/s (2,000 after), one worker, concurrency 50\n")
	fmt.Printf("  fast campaign completed in       %7.2f s (alone: %.0f s)\n", took.Seconds(), 2000.0/200)
	fmt.Printf("  slow campaign meanwhile          %7d sent\n", f.Status(b, "slow-campaign").Counts.Sent)
	fmt.Printf("  jobs rescheduled                 %7d\n", rescheduled(b, f))
}

// BenchmarkThroughput: no rate limit, one worker, the fake API in-process
// answering at once: mmlite against a naive asynq sender that only dequeues
// and POSTs, on the same Redis and jobs; and Redis commands per message.
// mmlite runs as configured by default (several dequeuers) and with one
// dequeuer, as the naive sender has. The three take turns over several
// rounds, each round in another order, and the medians are printed: the
// machine's speed drifts, and runs side by side drift together. CPU
// profiles carry the label run=naive, one or ours.
func BenchmarkThroughput(b *testing.B) {
	redistest.SkipUnlessReal(b)
	n := envInt("MMLITE_BENCH_MESSAGES", 20000)
	rounds := envInt("MMLITE_BENCH_ROUNDS", 3)
	const conc = 100
	deq := worker.DefaultDequeuers(conc)
	kinds := []struct {
		label string
		run   func() run
	}{
		{"naive", func() run { return runNaive(b, n, conc) }},
		{"one", func() run { return runMmlite(b, n, conc, 1) }},
		{"ours", func() run { return runMmlite(b, n, conc, deq) }},
	}
	got := map[string][]run{}
	var ratios, ratiosOne []float64
	for r := range rounds {
		this := map[string]run{}
		for i := range kinds {
			k := kinds[(i+r)%len(kinds)]
			pprof.Do(context.Background(), pprof.Labels("run", k.label), func(context.Context) { this[k.label] = k.run() })
			got[k.label] = append(got[k.label], this[k.label])
		}
		ratios = append(ratios, this["ours"].rate/this["naive"].rate)
		ratiosOne = append(ratiosOne, this["one"].rate/this["naive"].rate)
	}
	naive, one, ours := medianRun(got["naive"]), medianRun(got["one"]), medianRun(got["ours"])
	ratio, ratioOne := median(ratios), median(ratiosOne)
	b.ReportMetric(ours.rate, "msg/s")
	b.ReportMetric(ratio, "x_naive")
	fmt.Printf("\nthroughput without a rate limit: %d messages a run, one worker (concurrency %d), real Redis, fake API in-process, GOMAXPROCS=%d\n", n, conc, runtime.GOMAXPROCS(0))
	fmt.Printf("  medians of %d rounds, each sender once a round, in turns\n", rounds)
	line := func(name string, m run, runs []run) {
		var each []string
		for _, r := range runs {
			each = append(each, fmt.Sprintf("%.0f", r.rate))
		}
		fmt.Printf("  %-44s %8.0f msg/s   (runs: %s)\n", name, m.rate, strings.Join(each, ", "))
	}
	line(fmt.Sprintf("mmlite worker (defaults: %d dequeuers)", deq), ours, got["ours"])
	line("mmlite worker, 1 dequeuer", one, got["one"])
	line("naive asynq sender (dequeue, POST, done)", naive, got["naive"])
	fmt.Printf("  %-44s %8.2f   (rounds: %s; 1 dequeuer: %.2f)\n", "ratio mmlite / naive", ratio, joinf(ratios), ratioOne)
	fmt.Printf("  Redis commands per message            mmlite %5.1f (%4.1f top-level)   naive %5.1f (%4.1f top-level)   ratio %.2f (%.2f)\n",
		ours.cmds, ours.top, naive.cmds, naive.top, ours.cmds/naive.cmds, ours.top/naive.top)
	fmt.Printf("  CPU per message, Redis                mmlite %5.0f µs (1 dequeuer %3.0f)  naive %5.0f µs\n", ours.redisUS, one.redisUS, naive.redisUS)
	fmt.Printf("  CPU per message, worker + fake API    mmlite %5.0f µs (1 dequeuer %3.0f)  naive %5.0f µs\n", ours.procUS, one.procUS, naive.procUS)
}

// medianRun is the median of each figure of runs.
func medianRun(runs []run) run {
	pick := func(f func(run) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	return run{rate: pick(func(r run) float64 { return r.rate }), cmds: pick(func(r run) float64 { return r.cmds }),
		top: pick(func(r run) float64 { return r.top }), redisUS: pick(func(r run) float64 { return r.redisUS }),
		procUS: pick(func(r run) float64 { return r.procUS })}
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func joinf(xs []float64) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%.2f", x)
	}
	return strings.Join(out, ", ")
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(envOr(name, "")); err == nil && v > 0 {
		return v
	}
	return def
}

// run is one sender's figures: messages/s, Redis commands per message (all,
// and top-level calls), and CPU per message in Redis and in this process
// (the worker and the in-process fake API), in microseconds.
type run struct{ rate, cmds, top, redisUS, procUS float64 }

// cpu reads Redis's and this process's CPU seconds.
func cpu(b *testing.B, c redis.UniversalClient) (redisSecs, procSecs float64) {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		k, v, _ := strings.Cut(l, ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			redisSecs += f
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return redisSecs, float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// measured completes a run from its start figures.
func measured(b *testing.B, c redis.UniversalClient, n int, start time.Time, cmds0 stats, redis0, proc0 float64) run {
	secs := time.Since(start).Seconds()
	all, top := commandStats(b, c).minus(cmds0)
	redis1, proc1 := cpu(b, c)
	per := func(x float64) float64 { return x / float64(n) }
	return run{rate: float64(n) / secs, cmds: per(all), top: per(top), redisUS: per(redis1-redis0) * 1e6, procUS: per(proc1-proc0) * 1e6}
}

func runMmlite(b *testing.B, n, conc, dequeuers int) run {
	f := newFleet(b, fakeapi.Config{})
	cfg := f.workerConfig(sender.MaxRate)
	cfg.Concurrency, cfg.Dequeuers = conc, dequeuers
	f.publish(b, cfg.Senders...) // no pacing: the sender is unlimited
	f.submitFor(b, "tp", "default", n)
	before := commandStats(b, f.R.Client)
	redis0, proc0 := cpu(b, f.R.Client)
	start := time.Now()
	f.startWorker(b, cfg)
	f.waitState(b, "tp", campaign.StateCompleted, 10*time.Minute)
	return measured(b, f.R.Client, n, start, before, redis0, proc0)
}

// runNaive sends the same jobs with a plain asynq server: dequeue, POST, done.
func runNaive(b *testing.B, n, conc int) run {
	f := newFleet(b, fakeapi.Config{})
	f.publish(b, f.workerConfig(sender.MaxRate).Senders...)
	f.submitFor(b, "naive", "default", n)
	// Connections kept alive for every concurrent send, as the worker does:
	// http.DefaultTransport keeps 2 per host and would dial all the time.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = conc, conc
	client := mmapi.NewClient(&http.Client{Timeout: 5 * time.Second, Transport: tr})
	ep := mmapi.Endpoint{Provider: mmapi.Provider360, BaseURL: f.FakeSrv.URL, Key: apiKey}
	tpl := mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}
	done := make(chan struct{}, n)
	srv := asynq.NewServerFromRedisClient(f.R.Client, asynq.Config{Concurrency: conc, Queues: map[string]int{f.R.Queue: 1},
		TaskCheckInterval: 250 * time.Millisecond, DelayedTaskCheckInterval: 100 * time.Millisecond, LogLevel: asynq.FatalLevel})
	before := commandStats(b, f.R.Client)
	redis0, proc0 := cpu(b, f.R.Client)
	start := time.Now()
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		s, err := task.DecodeSend(t.Payload())
		if err != nil {
			return err
		}
		if _, err := client.Send(ctx, ep, mmapi.NewMessage(s.To, tpl, nil)); err != nil {
			return err
		}
		done <- struct{}{}
		return nil
	})); err != nil {
		b.Fatal(err)
	}
	for range n {
		<-done
	}
	r := measured(b, f.R.Client, n, start, before, redis0, proc0)
	srv.Shutdown()
	return r
}

// stats are INFO commandstats calls by command.
type stats map[string]float64

// scriptCalls are the commands a client sends; the rest run inside scripts too.
var scriptCalls = map[string]bool{"evalsha": true, "eval": true}

func (s stats) minus(before stats) (all, top float64) {
	for cmd, n := range s {
		if cmd == "info" {
			continue
		}
		d := n - before[cmd]
		if os.Getenv("MMLITE_BENCH_VERBOSE") != "" && d > 0 {
			fmt.Printf("    %-20s %8.0f\n", cmd, d)
		}
		all += d
		if scriptCalls[cmd] {
			top += d
		}
	}
	return all, top
}

func commandStats(b *testing.B, rdb redis.UniversalClient) stats {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	out := stats{}
	for _, l := range strings.Split(info, "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(l, "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		out[name], _ = strconv.ParseFloat(calls, 64)
	}
	return out
}

func rescheduled(b *testing.B, f *fleet) int64 {
	n, err := f.R.Client.ZCard(context.Background(), f.R.Keys.AsynqRetry()).Result()
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
