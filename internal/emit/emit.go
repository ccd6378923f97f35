package emit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/outbound"
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
	// callbacks, when set, receives a copy of every task (see
	// WithCallbacks); noResults leaves the results queue out.
	callbacks *sink
	noResults bool

	published asynqwire.Published
}

// sink is a queue the emitter writes to, and how its tasks are retried.
type sink struct {
	queue  string
	keys   keyspace.Space
	prefix string // before the task ids
	// retry and timeoutSec are the tasks' asynq options: asynq's defaults
	// for the results queue, whose consumer is the team's; the outbound
	// server's for the callbacks, which it retries until its MaxAge.
	retry      int
	timeoutSec int64
}

// New returns an emitter for the results queue. retention is the
// campaigns' (see campaign.DefaultRetention): a marker outlives any run of
// its campaign's jobs.
func New(rdb redis.UniversalClient, resultsQueue string, retention time.Duration) *Emitter {
	return &Emitter{rdb: rdb, queue: resultsQueue, keys: keyspace.New(resultsQueue),
		markerTTL: campaign.DefaultLifetime + retention, retention: retention}
}

// WithCallbacks has the emitter write a callback task (see package
// outbound) for every task: on queue, with the same type and payload, its
// id prefixed with outbound.CallbackIDPrefix, in the same step as the
// results queue's task where that is one step. With noResults, the results
// queue is left out. It returns e.
func (e *Emitter) WithCallbacks(queue string, noResults bool) *Emitter {
	e.callbacks = &sink{queue: queue, keys: keyspace.New(queue), prefix: outbound.CallbackIDPrefix,
		retry: outbound.MaxRetry, timeoutSec: outbound.TimeoutSec}
	e.noResults = noResults
	return e
}

// Like gives e o's callbacks (see WithCallbacks); it returns e.
func (e *Emitter) Like(o *Emitter) *Emitter {
	e.callbacks, e.noResults = o.callbacks, o.noResults
	return e
}

// ErrNowhere refuses a results queue turned off without callbacks.
const ErrNowhere = `MMLITE_RESULTS_QUEUE is empty but MMLITE_RESULTS_URL is not set: results, statuses and campaign events would go nowhere`

// sinks are the queues the emitter writes to.
func (e *Emitter) sinks() []sink {
	var out []sink
	if !e.noResults {
		out = append(out, sink{queue: e.queue, keys: e.keys,
			retry: asynqwire.DefaultMaxRetry, timeoutSec: asynqwire.DefaultTimeoutSec})
	}
	if e.callbacks != nil {
		out = append(out, *e.callbacks)
	}
	return out
}

// onceScript enqueues a task unless the campaign's marker says it was
// emitted before. KEYS: 1 marker hash, 2 task hash, 3 pending list.
// ARGV: 1 task id, 2 asynq message, 3 now (ns), 4 marker TTL (ms).
var onceScript = redis.NewScript(asynqwire.LuaEnqueue + `
if redis.call('HSETNX', KEYS[1], ARGV[1], '1') == 0 then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
enqueue(KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3])
return 1
`)

// once enqueues a task of the campaign on each of the emitter's queues,
// unless a task of that id was emitted there for it before (each queue
// keeps its own marker, in its own slot). It reports whether it did on the
// first.
func (e *Emitter) once(ctx context.Context, campaignID, id, typ string, payload []byte) (bool, error) {
	if err := e.publish(ctx); err != nil {
		return false, err
	}
	first := true
	var did bool
	for t := e.tasks(typ, id, payload, false); t != nil; t = t.Also {
		k := keyspace.New(t.Queue)
		keys := []string{k.Emitted(campaignID), k.AsynqTask(t.ID), k.AsynqPending()}
		n, err := onceScript.Run(ctx, e.rdb, keys, t.ID, t.Msg, asynqwire.Now(), e.markerTTL.Milliseconds()).Int()
		if err != nil {
			return false, fmt.Errorf("emit: %s %s: %w", typ, t.ID, err)
		}
		if first {
			did, first = n == 1, false
		}
	}
	return did, nil
}

// publish lists the results queue for asynq's tools, as its client would.
func (e *Emitter) publish(ctx context.Context) error {
	var qs []string
	for _, k := range e.sinks() {
		qs = append(qs, k.queue)
	}
	if err := e.published.Ensure(ctx, e.rdb, qs...); err != nil {
		return fmt.Errorf("emit: publish the results queue: %w", err)
	}
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
// (and its callback) in the same atomic step as the outcome on a single
// Redis node: the outcome's ledger marker then stands for the result's.
func (e *Emitter) ResultTask(r *task.Result) (*store.ResultTask, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("emit: encode result: %w", err)
	}
	return e.tasks(task.TypeResult, task.ResultID(r.CampaignID, r.To), b, false), nil
}

// StatusTask encodes a delivery event for store.Deliveries.Record, which
// enqueues it (and its callback) in the same atomic step as it records the
// event on a single Redis node: the event's mark then stands for its task.
func (e *Emitter) StatusTask(ctx context.Context, ev *task.StatusEvent) (*store.ResultTask, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("emit: encode status: %w", err)
	}
	if err := e.publish(ctx); err != nil {
		return nil, err
	}
	return e.tasks(task.TypeStatus, statusID(ev), b, false), nil
}

// statusHead is the head of every status task's message.
var statusHead = asynqwire.MessageHead(task.TypeStatus)

// shapeCut is how encoding/json starts a status payload without its
// campaign and recipient: what follows is a store.StatusShape's tail.
const shapeCut = `{"campaign_id":"","to":"",`

// StatusShape is StatusTask for a status that store.Deliveries.Record
// looks up itself: ev's CampaignID and To are not known yet, and the
// tasks' messages are their tails, which Record completes (see
// store.StatusShape). The shape is nil when there are no tasks.
func (e *Emitter) StatusShape(ctx context.Context, ev task.StatusEvent) (*store.ResultTask, *store.StatusShape, error) {
	ev.CampaignID, ev.To = "", ""
	b, err := json.Marshal(&ev)
	if err != nil {
		return nil, nil, fmt.Errorf("emit: encode status: %w", err)
	}
	tail, ok := bytes.CutPrefix(b, []byte(shapeCut))
	if !ok {
		return nil, nil, fmt.Errorf("emit: a status payload starts %.40q, not %s", b, shapeCut)
	}
	if err := e.publish(ctx); err != nil {
		return nil, nil, err
	}
	t := e.tasks(task.TypeStatus, statusID(&ev), nil, true)
	if t == nil {
		return nil, nil, nil
	}
	return t, &store.StatusShape{Head: statusHead, PayloadTail: tail}, nil
}

// tasks is a task on each of the emitter's queues, chained by Also; with
// tails, their messages' tails only (see asynqwire.MessageTail).
func (e *Emitter) tasks(typ, id string, payload []byte, tails bool) *store.ResultTask {
	var first, last *store.ResultTask
	for _, k := range e.sinks() {
		tid := k.prefix + id
		rt := &store.ResultTask{Queue: k.queue, ID: tid}
		if tails {
			rt.Msg = asynqwire.MessageTail(nil, tid, k.queue, k.retry, k.timeoutSec)
		} else {
			rt.Msg = asynqwire.Message(nil, typ, payload, tid, k.queue, k.retry, k.timeoutSec)
		}
		if first == nil {
			first = rt
		} else {
			last.Also = rt
		}
		last = rt
	}
	return first
}

// statusID is a delivery event's task id (before a sink's prefix): a
// repeated webhook does not double one still in the queue.
func statusID(ev *task.StatusEvent) string { return "status:" + ev.WAMID + ":" + ev.Status }

// Status emits a delivery event on each of the emitter's queues; its task
// id keeps a repeated webhook from doubling one still in the queue.
func (e *Emitter) Status(ctx context.Context, ev *task.StatusEvent) error {
	t, err := e.StatusTask(ctx, ev)
	if err != nil {
		return err
	}
	for ; t != nil; t = t.Also {
		if err := asynqwire.Enqueue(ctx, e.rdb, t.Queue, t.ID, t.Msg); err != nil {
			return fmt.Errorf("emit: status %s: %w", ev.Status, err)
		}
	}
	return nil
}
