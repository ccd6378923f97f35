package emit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Emitter writes to one results queue.
type Emitter struct {
	rdb       redis.UniversalClient
	queue     string
	keys      keyspace.Space // the results queue's
	markerTTL time.Duration
	retention time.Duration
	client    *asynq.Client

	mu        sync.Mutex
	published bool
}

// New returns an emitter for the results queue. retention is the
// campaigns' (see campaign.DefaultRetention): a marker outlives any run of
// its campaign's jobs.
func New(rdb redis.UniversalClient, resultsQueue string, retention time.Duration) *Emitter {
	return &Emitter{rdb: rdb, queue: resultsQueue, keys: keyspace.New(resultsQueue),
		markerTTL: campaign.DefaultLifetime + retention, retention: retention, client: asynq.NewClientFromRedisClient(rdb)}
}

// Close releases the emitter's asynq client (not the Redis client).
func (e *Emitter) Close() error { return e.client.Close() }

// Queue is the results queue.
func (e *Emitter) Queue() string { return e.queue }

// onceScript enqueues a task unless the campaign's marker says it was
// emitted before. KEYS: 1 marker hash, 2 task hash, 3 pending list.
// ARGV: 1 task id, 2 asynq message, 3 now (ns), 4 marker TTL (ms).
var onceScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'msg', ARGV[2], 'state', 'pending', 'pending_since', ARGV[3])
  redis.call('LPUSH', KEYS[3], ARGV[1])
end
return 1
`)

// once enqueues a task of the campaign on the results queue, unless a
// task of that id was emitted for it before. It reports whether it did.
func (e *Emitter) once(ctx context.Context, campaignID, id, typ string, payload []byte) (bool, error) {
	if err := e.publish(ctx); err != nil {
		return false, err
	}
	msg := asynqwire.Message(nil, typ, payload, id, e.queue, asynqwire.DefaultMaxRetry, asynqwire.DefaultTimeoutSec)
	keys := []string{e.keys.Emitted(campaignID), e.keys.AsynqTask(id), e.keys.AsynqPending()}
	n, err := onceScript.Run(ctx, e.rdb, keys, id, msg, strconv.FormatInt(time.Now().UnixNano(), 10), e.markerTTL.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("emit: %s %s: %w", typ, id, err)
	}
	return n == 1, nil
}

// publish lists the results queue for asynq's tools, as its client would.
func (e *Emitter) publish(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.published {
		return nil
	}
	if err := e.rdb.SAdd(ctx, keyspace.AsynqQueues, e.queue).Err(); err != nil {
		return fmt.Errorf("emit: publish the results queue: %w", err)
	}
	e.published = true
	return nil
}

// Result emits a recipient's result once.
func (e *Emitter) Result(ctx context.Context, r *task.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("emit: encode result: %w", err)
	}
	_, err = e.once(ctx, r.CampaignID, task.ResultID(r.CampaignID, r.To), task.TypeResult, b)
	return err
}

// ResultTask encodes a result for store.Store.Settle, which enqueues it
// in the same atomic step as the outcome on a single Redis node: the
// outcome's ledger marker then stands for the result's.
func (e *Emitter) ResultTask(r *task.Result) (*store.ResultTask, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("emit: encode result: %w", err)
	}
	id := task.ResultID(r.CampaignID, r.To)
	return &store.ResultTask{Queue: e.queue, ID: id,
		Msg: asynqwire.Message(nil, task.TypeResult, b, id, e.queue, asynqwire.DefaultMaxRetry, asynqwire.DefaultTimeoutSec)}, nil
}

// Status emits a delivery event; its task id keeps a repeated webhook from
// doubling one still in the queue.
func (e *Emitter) Status(ctx context.Context, ev *task.StatusEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("emit: encode status: %w", err)
	}
	_, err = e.client.EnqueueContext(ctx, asynq.NewTask(task.TypeStatus, b), asynq.Queue(e.queue),
		asynq.TaskID("status:"+ev.WAMID+":"+ev.Status), asynq.MaxRetry(asynqwire.DefaultMaxRetry))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("emit: status %s: %w", ev.Status, err)
	}
	return nil
}
