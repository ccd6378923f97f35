package worker_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// TestWorkerChildProcess is not a test: it is the worker process that
// TestWorker_KilledMidSendDoesNotSendTwice starts and kills.
func TestWorkerChildProcess(t *testing.T) {
	if os.Getenv("MMLITE_WORKER_CHILD") == "" {
		t.Skip("helper process, started by TestWorker_KilledMidSendDoesNotSendTwice")
	}
	opt, err := redisconn.Parse(os.Getenv("MMLITE_WORKER_CHILD_REDIS"), 0)
	require.NoError(t, err)
	s := &sender.Sender{ID: "default", Provider: mmapi.Provider360, BaseURL: os.Getenv("MMLITE_WORKER_CHILD_API"), Rate: 1000, Burst: 100}
	s.SetKey(testKey)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = worker.Run(ctx, worker.Config{Redis: opt, Queue: os.Getenv("MMLITE_WORKER_CHILD_QUEUE"),
		ResultsQueue: os.Getenv("MMLITE_WORKER_CHILD_RESULTS"), Senders: []*sender.Sender{s},
		HTTPTimeout: time.Minute, ShutdownTimeout: 2 * time.Minute, ForwardInterval: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	require.NoError(t, err)
}

func TestWorker_KilledMidSendDoesNotSendTwice(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{Errors: []fakeapi.ErrorRule{{Share: 1, Action: fakeapi.ActionHang}}})
	c := b.register(t, campaign.Campaign{})
	tos := testkit.Recipients(5)
	b.enqueue(t, sends(c.ID, tos)...)

	var stderr bytes.Buffer
	child := exec.Command(os.Args[0], "-test.run=^TestWorkerChildProcess$", "-test.v")
	child.Env = append(os.Environ(), "MMLITE_WORKER_CHILD=1", "MMLITE_WORKER_CHILD_REDIS="+b.R.URL,
		"MMLITE_WORKER_CHILD_API="+b.FakeSrv.URL, "MMLITE_WORKER_CHILD_QUEUE="+b.R.Queue, "MMLITE_WORKER_CHILD_RESULTS="+b.R.Results)
	child.Stdout, child.Stderr = &stderr, &stderr
	require.NoError(t, child.Start())
	require.Eventually(t, func() bool {
		for _, to := range tos {
			if b.Fake.Attempts(to) != 1 {
				return false
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "the child worker never sent: %s", &stderr)

	// kill -9 in the middle of every send: no graceful shutdown, no requeue.
	require.NoError(t, child.Process.Kill())
	_ = child.Wait()

	// Its leases run out (here at once, instead of 30 s after its last
	// heartbeat); the next worker takes the jobs over as it starts.
	lease := "asynq:{" + b.R.Queue + "}:lease"
	ids, err := b.R.Client.ZRange(b.Ctx, lease, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, ids, len(tos), "every job was in flight")
	for _, id := range ids {
		b.R.Client.ZAdd(b.Ctx, lease, redis.Z{Score: float64(time.Now().Add(-time.Minute).Unix()), Member: id})
	}

	// Another worker recovers the jobs while the API answers normally again.
	require.NoError(t, b.Fake.SetConfig(fakeapi.Config{Keys: []string{testKey}}))
	cfg := b.config()
	cfg.HTTPTimeout, cfg.MaxWait = 500*time.Millisecond, 100*time.Millisecond
	b.start(t, cfg)

	results := b.WaitResults(t, len(tos), 60*time.Second)
	for _, r := range results {
		require.Equal(t, task.StatusUnknown, r.Status, "the killed attempt may have sent: report unknown")
		require.Equal(t, 1, r.Attempts)
		require.Equal(t, 1, b.Fake.Attempts(r.To), "no second POST for %s", r.To)
	}
	st := b.Status(t, c.ID)
	require.EqualValues(t, len(tos), st.Counts.Unknown)
	require.Equal(t, campaign.StateCompleted, st.State)
}
