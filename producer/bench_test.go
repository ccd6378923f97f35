package producer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/redis/go-redis/v9"
)

// BenchmarkEnqueue compares mmlite's producer with the naive producer (a
// plain loop of concurrent asynq.Client.Enqueue calls) on the same Redis,
// and Redis memory per queued recipient with a bare asynq task carrying a
// 40-byte payload. It needs a real Redis (make bench); MMLITE_BENCH_ROWS
// sets the number of recipients (default 1,000,000).
func BenchmarkEnqueue(b *testing.B) {
	redistest.SkipUnlessReal(b)
	rows := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("MMLITE_BENCH_ROWS")); err == nil && v > 0 {
		rows = v
	}
	// Each run starts from an empty key space of its own and is removed
	// before the next, so that Redis's dictionaries are the same size for all.
	var naive, bare, ours figures
	b.Run("naive", func(b *testing.B) { naive = measure(b, rows, naiveEnqueue) })
	b.Run("bare", func(b *testing.B) { bare = measure(b, rows, bareEnqueue) })
	b.Run("mmlite", func(b *testing.B) {
		ours = measure(b, rows, mmliteEnqueue)
		b.ReportMetric(ours.rate, "rows/s")
		b.ReportMetric(ours.rate/naive.rate, "x_naive")
		b.ReportMetric(ours.bytes, "B/recipient")
		b.ReportMetric(100*(ours.bytes/bare.bytes-1), "%_over_bare")
	})
	{
		fmt.Printf("\nenqueue of %d recipients, real Redis, GOMAXPROCS=%d\n", rows, runtime.GOMAXPROCS(0))
		fmt.Printf("  %-44s %9.0f rows/s  %6.2f s\n", "mmlite producer (CSV stream, batched script)", ours.rate, ours.secs)
		fmt.Printf("  %-44s %9.0f rows/s  %6.2f s\n", "naive producer (64 x asynq.Client.Enqueue)", naive.rate, naive.secs)
		fmt.Printf("  %-44s %9.2f\n", "ratio mmlite / naive", ours.rate/naive.rate)
		fmt.Printf("  %-44s %9.1f bytes\n", "Redis memory per queued recipient (mmlite)", ours.bytes)
		fmt.Printf("  %-44s %9.1f bytes\n", "bare asynq task, 40-byte payload", bare.bytes)
		fmt.Printf("  %-44s %+8.1f %%\n", "mmlite over bare", 100*(ours.bytes/bare.bytes-1))
	}
}

type figures struct{ rate, secs, bytes float64 }

func measure(b *testing.B, rows int, run func(b *testing.B, r *redistest.Redis, rows int)) figures {
	b.Helper()
	r := redistest.New(b)
	settle(b, r.Client)
	before := usedMemory(b, r.Client)
	start := time.Now()
	run(b, r, rows)
	secs := time.Since(start).Seconds()
	after := usedMemory(b, r.Client)
	return figures{rate: float64(rows) / secs, secs: secs, bytes: float64(after-before) / float64(rows)}
}

func mmliteEnqueue(b *testing.B, r *redistest.Redis, rows int) {
	ctx := context.Background()
	p, err := producer.New(producer.Config{Client: r.Client, Queue: r.Queue})
	if err != nil {
		b.Fatal(err)
	}
	c := &campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	if _, err := p.Register(ctx, c); err != nil {
		b.Fatal(err)
	}
	pr, pw := io.Pipe()
	go func() { _ = pw.CloseWithError(writeCSV(pw, rows)) }()
	sum, err := p.Enqueue(ctx, c, producer.NewCSVSource(pr), producer.Options{})
	if err != nil || sum.Accepted != int64(rows) {
		b.Fatalf("enqueue: %v, %+v", err, sum)
	}
}

// writeCSV streams rows without holding them in memory.
func writeCSV(w io.Writer, rows int) error {
	buf := make([]byte, 0, 64<<10)
	buf = append(buf, "to\n"...)
	for i := range rows {
		buf = append(strconv.AppendInt(append(buf, "44770"...), int64(1_000_000+i), 10), '\n')
		if len(buf) > 60<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

// naiveEnqueue is what one would write first: concurrent Enqueue calls with
// the same task ids and payloads.
func naiveEnqueue(b *testing.B, r *redistest.Redis, rows int) {
	cl := asynq.NewClientFromRedisClient(r.Client)
	parallel(rows, 64, func(i int) error {
		to := "44770" + strconv.Itoa(1_000_000+i)
		p, _ := json.Marshal(task.Send{Campaign: "spring-sale-2026", To: to})
		_, err := cl.Enqueue(asynq.NewTask(task.TypeSend, p), asynq.Queue(r.Queue), asynq.TaskID(task.SendID("spring-sale-2026", to)))
		return err
	}, b)
}

// bareEnqueue is the memory yardstick: asynq tasks with a 40-byte payload.
func bareEnqueue(b *testing.B, r *redistest.Redis, rows int) {
	cl := asynq.NewClientFromRedisClient(r.Client)
	payload := []byte(strings.Repeat("x", 40))
	parallel(rows, 64, func(int) error {
		_, err := cl.Enqueue(asynq.NewTask(task.TypeSend, payload), asynq.Queue(r.Queue))
		return err
	}, b)
}

func parallel(n, workers int, fn func(i int) error, b *testing.B) {
	ch := make(chan int, 1024)
	var wg sync.WaitGroup
	var once sync.Once
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range ch {
				if err := fn(i); err != nil {
					once.Do(func() { b.Error(err) })
				}
			}
		}()
	}
	for i := range n {
		ch <- i
	}
	close(ch)
	wg.Wait()
}

func usedMemory(b *testing.B, rdb redis.UniversalClient) int64 {
	b.Helper()
	return infoField(b, rdb, "used_memory")
}

// settle waits until the previous run's keys are freed (UNLINK frees lazily).
func settle(b *testing.B, rdb redis.UniversalClient) {
	b.Helper()
	for i := 0; i < 300 && infoField(b, rdb, "lazyfree_pending_objects") > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
}

func infoField(b *testing.B, rdb redis.UniversalClient, field string) int64 {
	b.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	b.Fatalf("no %s in INFO", field)
	return 0
}
