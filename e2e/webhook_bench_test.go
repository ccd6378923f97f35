package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
)

// BenchmarkWebhookIntake: one worker sends n messages unthrottled; then the
// api takes the sent, delivered and read webhooks of those messages (one
// status a webhook, as 360dialog sends them) from many connections. After
// a warm-up on a seventh of them, the ceiling of the machine and the
// client (a receiver that does nothing), then three runs on two sevenths
// each: relay off; relay on to a destination in-process, delivered once
// the intake ended (the intake's own cost: a worker fleet elsewhere
// delivers); relay on, delivered meanwhile by an outbound server in the
// same process, on the same cores. 360dialog asks a receiver to take 3x
// the send rate, with a median under 250 ms and under 1 % of requests
// over 1 s. Each run also prints the CPU time a webhook cost this process
// (the api and its client) and Redis, which varies less than the rates
// when the machine is shared.
func BenchmarkWebhookIntake(b *testing.B) {
	redistest.SkipUnlessReal(b)
	n := envInt("MMLITE_BENCH_WEBHOOK_MESSAGES", 7000)
	conns := envInt("MMLITE_BENCH_WEBHOOK_CONNS", 64)
	f := newFleet(b, fakeapi.Config{})
	cfg := f.workerConfig(sender.MaxRate)
	cfg.Concurrency = 100
	f.publish(b, cfg.Senders...)
	f.submitFor(b, "wh", "default", n)
	start := time.Now()
	f.startWorker(b, cfg)
	f.waitState(b, "wh", campaign.StateCompleted, 10*time.Minute)
	sendRate := float64(n) / time.Since(start).Seconds()
	results := f.Results(b)
	var wamids []task.Result
	for _, r := range results {
		if r.WAMID != "" {
			wamids = append(wamids, r)
		}
	}

	var delivered atomic.Int64
	dest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		delivered.Add(1)
	}))
	b.Cleanup(dest.Close)
	dests := relayDestination(b, dest.URL, "bench-secret")
	out, err := outbound.NewServer(f.R.Client, outbound.Config{Destinations: dests, Registerer: metrics.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(out.Shutdown)
	drain := func(n int64) {
		t0 := time.Now()
		for delivered.Load() < n && time.Since(t0) < 5*time.Minute {
			time.Sleep(10 * time.Millisecond)
		}
		fmt.Printf("  %-30s %d of %d relayed, the last %.1f s after the intake ended\n", "", delivered.Load(), n, time.Since(t0).Seconds())
	}

	// The ceiling: a receiver that reads each webhook and answers 200,
	// nothing else, from the same client on the same cores.
	empty := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"statuses":1,"clicks":0,"account_updates":0}`)
	}))
	b.Cleanup(empty.Close)

	fmt.Printf("\nwebhook intake: %d messages sent by one worker, unthrottled (%.0f msg/s), then their sent, delivered and read webhooks from %d connections, real Redis, GOMAXPROCS=%d\n",
		len(wamids), sendRate, conns, runtime.GOMAXPROCS(0))
	part := len(wamids) / 7
	fmt.Printf("  a warm-up on %d messages' webhooks, then %d messages' in each run\n", part, 2*part)
	for i, c := range []struct {
		label string
		dests []*outbound.Destination
		empty bool
	}{{"warm-up", nil, false}, {"ceiling: an empty receiver", nil, true}, {"relay off", nil, false},
		{"relay on, delivered after", dests, false}, {"relay on, delivered meanwhile", dests, false}} {
		rs := wamids[:part]
		switch {
		case c.empty: // any webhooks: the receiver reads them only
			rs = wamids[:2*part]
		case i > 0:
			rs = wamids[(2*i-3)*part : (2*i-1)*part]
		}
		meanwhile := i == 4
		if meanwhile {
			if err := out.Start(); err != nil { // delivers the previous run's backlog first
				b.Fatal(err)
			}
			drain(int64(3 * len(rs)))
			delivered.Store(0)
		}
		url := empty.URL
		if !c.empty {
			url = f.relayAPI(b, c.dests).URL
		}
		stop := profile(b, i == 3)
		redis0, proc0 := cpu(b, f.R.Client)
		lat, secs := postStatuses(b, url, rs, conns)
		redis1, proc1 := cpu(b, f.R.Client)
		stop()
		procUS, redisUS := (proc1-proc0)*1e6/float64(len(lat)), (redis1-redis0)*1e6/float64(len(lat))
		if i == 0 {
			continue
		}
		rate := float64(len(lat)) / secs
		slices.Sort(lat)
		over := 0
		for _, l := range lat {
			if l > time.Second {
				over++
			}
		}
		fmt.Printf("  %-30s %6.0f webhooks/s = %.2fx the send rate   p50 %6.1f ms   p99 %6.1f ms   over 1 s %.2f %%   CPU a webhook: process %.0f µs, Redis %.0f µs\n",
			c.label, rate, rate/sendRate, ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), 100*float64(over)/float64(len(lat)), procUS, redisUS)
		if meanwhile {
			b.ReportMetric(rate/sendRate, "x_send_rate")
			b.ReportMetric(ms(lat[len(lat)/2]), "p50_ms")
			b.ReportMetric(ms(lat[len(lat)*99/100]), "p99_ms")
			drain(int64(len(lat)))
		}
	}
}

// profile writes a CPU profile of this process to the file
// MMLITE_BENCH_WEBHOOK_PROFILE names, if any, from now until stop is
// called, when on (the run with the relay on, delivered after: the
// intake's own cost).
func profile(b *testing.B, on bool) (stop func()) {
	path := os.Getenv("MMLITE_BENCH_WEBHOOK_PROFILE")
	if !on || path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// postStatuses POSTs the sent, delivered and read webhook of each result's
// message from conns connections, and returns each request's latency and
// the whole intake's duration.
func postStatuses(b *testing.B, url string, rs []task.Result, conns int) ([]time.Duration, float64) {
	bodies := make(chan string, 3*len(rs))
	for _, st := range []string{"sent", "delivered", "read"} {
		for i, r := range rs {
			bodies <- fmt.Sprintf(`{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"value":{"messaging_product":"whatsapp",`+
				`"metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},"statuses":[{"id":%q,"status":%q,"timestamp":"%d",`+
				`"recipient_id":%q,"pricing":{"billable":true,"pricing_model":"CBP","category":"marketing_lite"}}]},"field":"messages"}]}]}`,
				r.WAMID, st, 1764064800+i, r.To)
		}
	}
	close(bodies)
	posts, closeAll, err := newPosters(url, conns)
	if err != nil {
		b.Fatal(err)
	}
	defer closeAll()
	var mu sync.Mutex
	var lat []time.Duration
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, post := range posts {
		wg.Go(func() {
			var mine []time.Duration
			for body := range bodies {
				t0 := time.Now()
				status, err := post(body)
				if err != nil {
					b.Error(err)
					failed.Add(1)
					return
				}
				if status != http.StatusOK {
					failed.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	if failed.Load() > 0 {
		b.Fatalf("%d webhooks not answered 200", failed.Load())
	}
	return lat, secs
}
