package producer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/task"
)

// Errors of TestSend.
var (
	// ErrBadRecipient is a test send's number or components that a
	// recipient could not have.
	ErrBadRecipient = errors.New("producer: bad recipient")
	// ErrNoWorker: no worker answered a test send in time.
	ErrNoWorker = errors.New("producer: no worker answered the test send")
)

// DefaultTestWait is how long TestSend waits for a worker's answer.
const DefaultTestWait = 30 * time.Second

// TestSend sends one message of a campaign's template (the campaign's
// components, r's laid over them) to r.To, outside the campaign's ledger
// and counts, and returns the API's answer. A worker sends it (workers hold
// the API keys; nothing else needs them), at its sender's rate, whatever
// the campaign's state: the test is a job of its own on the send queue,
// whose result the worker writes. When no worker answers within wait the
// job is withdrawn, unless a worker just took it (the error says so).
func (p *Producer) TestSend(ctx context.Context, id string, r Recipient, wait time.Duration) (*task.TestResult, error) {
	c, err := p.store.Campaigns.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := r.normalize(true); err != nil {
		return nil, sentence.Of(ErrBadRecipient, "%w", err)
	}
	payload, err := json.Marshal(task.TestSend{Campaign: id, Sender: c.Sender, To: r.To, Components: r.Components})
	if err != nil {
		return nil, sentence.Of(ErrBadRecipient, "components: %w", err)
	}
	if err := p.publishQueue(ctx); err != nil {
		return nil, err
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	tid := "test:" + id + ":" + r.To + ":" + hex.EncodeToString(nonce[:])
	client := asynq.NewClientFromRedisClient(p.rdb)
	defer client.Close()
	_, err = client.EnqueueContext(ctx, asynq.NewTask(task.TypeTest, payload), asynq.Queue(p.cfg.Queue), asynq.TaskID(tid),
		asynq.MaxRetry(0), asynq.Retention(time.Hour), asynq.Timeout(time.Minute))
	if err != nil {
		return nil, fmt.Errorf("producer: enqueue the test send: %w", err)
	}
	return p.awaitTest(ctx, tid, c.Sender, wait)
}

// awaitTest waits for the worker's answer to a test send.
func (p *Producer) awaitTest(ctx context.Context, tid, sender string, wait time.Duration) (*task.TestResult, error) {
	ins := asynq.NewInspectorFromRedisClient(p.rdb)
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		ti, err := ins.GetTaskInfo(p.cfg.Queue, tid)
		switch {
		case err != nil:
			return nil, fmt.Errorf("producer: read the test send: %w", err)
		case ti.State == asynq.TaskStateCompleted:
			return testResult(ti)
		case ti.State == asynq.TaskStateArchived:
			return nil, fmt.Errorf("producer: the worker could not run the test send: %s", ti.LastErr)
		case time.Now().After(deadline):
			res, taken, err := p.withdrawTest(ins, tid)
			switch {
			case res != nil || err != nil:
				return res, err
			case taken:
				return nil, sentence.Of(ErrNoWorker, "no worker answered the test send within %s; a worker took it just now: it may still be sent", wait)
			}
			return nil, sentence.Of(ErrNoWorker, "no worker answered the test send within %s: is a worker serving sender %s running? Nothing was sent", wait, sender)
		}
		select {
		case <-ctx.Done():
			res, taken, err := p.withdrawTest(ins, tid)
			switch {
			case res != nil || err != nil:
				return res, err
			case taken:
				return nil, fmt.Errorf("producer: stopped waiting for the test send (%w); a worker had taken it: it may still be sent", ctx.Err())
			}
			return nil, fmt.Errorf("producer: stopped waiting for the test send (%w): nothing was sent", ctx.Err())
		case <-tick.C:
		}
	}
}

// withdrawTest takes back a test send no longer waited for. It looks once
// more first: asynq deletes a completed task as it does a pending one, and
// a send completed since the last look went out; its answer is returned.
// taken says a worker has the send (it may still go).
func (p *Producer) withdrawTest(ins *asynq.Inspector, tid string) (res *task.TestResult, taken bool, err error) {
	if ti, err := ins.GetTaskInfo(p.cfg.Queue, tid); err == nil {
		switch ti.State {
		case asynq.TaskStateCompleted:
			res, err := testResult(ti)
			return res, true, err
		case asynq.TaskStateActive:
			return nil, true, nil
		}
	}
	return nil, ins.DeleteTask(p.cfg.Queue, tid) != nil, nil
}

// testResult reads a worker's answer to a test send from its task.
func testResult(ti *asynq.TaskInfo) (*task.TestResult, error) {
	var res task.TestResult
	if err := json.Unmarshal(ti.Result, &res); err != nil {
		return nil, fmt.Errorf("producer: the worker's answer to the test send: %w", err)
	}
	return &res, nil
}
