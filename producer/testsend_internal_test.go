package producer

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A test send no longer waited for (Ctrl-C, the deadline) that a worker
// completed since the last look is answered with its result: asynq deletes
// a completed task as it does a pending one, and it was reported "nothing
// was sent" though the message went out (found in review). A pending one is
// withdrawn; an active one may still go.
func TestWithdrawTest_ACompletedSendIsAnswered(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	p, err := New(Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results})
	require.NoError(t, err)
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	ins := asynq.NewInspectorFromRedisClient(r.Client)
	enqueue := func(tid string) {
		_, err := client.Enqueue(asynq.NewTask(task.TypeTest, []byte(`{}`)), asynq.Queue(r.Queue), asynq.TaskID(tid),
			asynq.MaxRetry(0), asynq.Retention(time.Hour))
		require.NoError(t, err)
	}

	enqueue("test:done")
	srv := asynq.NewServerFromRedisClient(r.Client, asynq.Config{Queues: map[string]int{r.Queue: 1}, Concurrency: 1,
		LogLevel: asynq.FatalLevel})
	require.NoError(t, srv.Start(asynq.HandlerFunc(func(_ context.Context, tk *asynq.Task) error {
		_, err := tk.ResultWriter().Write([]byte(`{"status":"sent","wamid":"wamid.T"}`))
		return err
	})))
	require.Eventually(t, func() bool {
		ti, err := ins.GetTaskInfo(r.Queue, "test:done")
		return err == nil && ti.State == asynq.TaskStateCompleted
	}, 10*time.Second, 10*time.Millisecond)
	srv.Shutdown()
	res, taken, err := p.withdrawTest(ins, "test:done")
	require.NoError(t, err)
	require.True(t, taken)
	require.NotNil(t, res, "the send went out: its answer, not \"nothing was sent\"")
	require.Equal(t, "sent", res.Status)
	require.Equal(t, "wamid.T", res.WAMID)

	enqueue("test:pending")
	res, taken, err = p.withdrawTest(ins, "test:pending")
	require.NoError(t, err)
	require.False(t, taken)
	require.Nil(t, res)
	_, err = ins.GetTaskInfo(r.Queue, "test:pending")
	require.ErrorIs(t, err, asynq.ErrTaskNotFound, "withdrawn")
}
