package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// BenchmarkRecordStatus: the Redis work of the intake's counting step, a
// status webhook's (sent, delivered, read of each message, its status task
// and one relay task of 600 bytes written in the step), 100 to a pipeline.
// It reports the Redis CPU time a status costs, which the intake benchmark
// (e2e) can only show beside the process's and the machine's noise.
func BenchmarkRecordStatus(b *testing.B) {
	redistest.SkipUnlessReal(b)
	r := redistest.New(b)
	ctx := context.Background()
	st := store.New(r.Client, r.Keys, store.Options{})
	relay := []byte(strings.Repeat("r", 600))
	var us float64
	var recorded int
	for i := range b.N {
		b.StopTimer()
		ds := sentStatuses(b, st, fmt.Sprintf("bench-%d", i), 1000, r.Results, relay)
		b.StartTimer()
		us0 := redisCPU(b, r.Client)
		for j := 0; j < len(ds); j += 100 {
			if _, err := st.Deliveries.Record(ctx, ds[j:min(j+100, len(ds))]); err != nil {
				b.Fatal(err)
			}
		}
		us += redisCPU(b, r.Client) - us0
		recorded += len(ds)
	}
	fmt.Printf("\nrecord step: %d statuses (sent, delivered, read), each with its status task and a relay task of %d bytes, 100 a pipeline, real Redis\n",
		recorded, len(relay))
	fmt.Printf("  Redis CPU a status                %6.1f µs\n", us/float64(recorded))
	b.ReportMetric(us/float64(recorded), "redis_µs/status")
}

// sentStatuses registers a campaign of n messages sent and returns their
// sent, delivered and read statuses, each with its status task and a relay
// task.
func sentStatuses(b *testing.B, st *store.Store, id string, n int, results string, relay []byte) []store.Delivery {
	ctx := context.Background()
	c := valid()
	c.ID = id
	c.Normalize()
	if _, err := st.Campaigns.Register(ctx, &c); err != nil {
		b.Fatal(err)
	}
	var ds []store.Delivery
	for _, status := range []string{"sent", "delivered", "read"} {
		for i := range n {
			to := fmt.Sprintf("4412345%05d", i)
			w := "wamid." + id + "." + to
			if status == "sent" {
				if _, err := st.Ledger.Settle(ctx, id, to, store.Outcome{Status: task.StatusSent, WAMID: w}, store.FailurePolicy{}, nil); err != nil {
					b.Fatal(err)
				}
			}
			ds = append(ds, store.Delivery{WAMID: w, Status: status, Category: "marketing_lite", At: 1764064800,
				Task:   &store.ResultTask{Queue: results, ID: "status:" + w + ":" + status, Msg: []byte("tail")},
				Always: &store.ResultTask{Queue: "relay-bench", ID: "relay:" + w + ":" + status, Msg: relay}})
		}
	}
	return ds
}

// redisCPU is the Redis server's CPU time so far, in µs.
func redisCPU(b *testing.B, c redis.UniversalClient) float64 {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var us float64
	for _, l := range strings.Split(info, "\r\n") {
		if k, v, _ := strings.Cut(l, ":"); k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			us += f * 1e6
		}
	}
	return us
}
