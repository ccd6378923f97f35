package worker

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/redisconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// A job in asynq's active list belongs to the worker that dequeued it for
// as long as its lease runs (30 s, extended every 5 s while the handler
// runs). A worker that died, or that lost Redis while it finished the job
// and so could not tell asynq, leaves the job there; asynq's recoverer
// takes it back only once a minute, and only 30 s after its lease ended.
// The worker's own recoverer takes it back seconds after its lease ended.
// Taking a job over early is safe: the claim marker in the campaign ledger
// decides what its new run may do (see store.Claim), so a recipient is
// never sent twice, and a job whose worker may have sent is reported
// unknown.

const (
	// recoverEvery is how often the worker looks for jobs whose lease ended.
	recoverEvery = 2 * time.Second
	// recoverAfter is how long after its lease's end a job is taken over:
	// the lease's end is written by another process, on another clock, in
	// whole seconds.
	recoverAfter = 5 * time.Second
	// recoverBatch is how many jobs one script call takes: each costs an
	// LREM over the active list, which holds at most the fleet's concurrency.
	recoverBatch = 100
)

// recoverScript moves the send queue's jobs whose lease ended before a
// cutoff from the active list back to pending, at the head, as asynq's
// requeue does. The message is left as it was: no retry is spent. A job no
// longer in the active list was put back by another recoverer (another
// worker's, or asynq's own) or finished meanwhile: only its lease entry,
// left behind, is removed. A job whose task is gone is dropped.
// KEYS: 1 lease zset, 2 active list, 3 pending list.
// ARGV: 1 cutoff (unix seconds, asynq's lease scores), 2 task key prefix,
// 3 most jobs to look at, 4 now (unix ns, asynq's pending_since).
// Returns the jobs moved and the jobs looked at.
var recoverScript = redis.NewScript(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local moved = 0
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  if redis.call('LREM', KEYS[2], 0, id) > 0 then
    local key = ARGV[2] .. id
    if redis.call('EXISTS', key) == 1 then
      redis.call('HSET', key, 'state', 'pending', 'pending_since', ARGV[4])
      redis.call('RPUSH', KEYS[3], id)
      moved = moved + 1
    end
  end
end
return {moved, #ids}
`)

// recoverer puts back the send queue's jobs whose lease ended.
type recoverer struct {
	rdb       redis.UniversalClient
	keys      keyspace.Space
	log       *slog.Logger
	recovered prometheus.Counter
}

// run recovers at once (a worker may start in place of one that died),
// then every recoverEvery until ctx ends.
func (r *recoverer) run(ctx context.Context) {
	t := time.NewTicker(recoverEvery)
	defer t.Stop()
	for {
		n, err := r.once(ctx, time.Now())
		switch {
		case err != nil && ctx.Err() != nil:
		case redisconn.Unavailable(err):
			// asynq and go-redis say so already.
			r.log.Debug("could not look for jobs whose lease ended: Redis is unavailable", "err", err)
		case err != nil:
			r.log.Error("could not look for jobs whose lease ended", "err", err)
		case n > 0:
			r.log.Warn("took over jobs whose worker stopped or lost Redis; the ledger decides whether each may send",
				"jobs", n, "queue", r.keys.Queue())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// once moves every job whose lease ended recoverAfter before now back to
// pending, and returns how many it moved.
func (r *recoverer) once(ctx context.Context, now time.Time) (int, error) {
	cutoff := strconv.FormatInt(now.Add(-recoverAfter).Unix(), 10)
	keys := []string{r.keys.AsynqLease(), r.keys.AsynqActive(), r.keys.AsynqPending()}
	total := 0
	for {
		res, err := recoverScript.Run(ctx, r.rdb, keys, cutoff, r.keys.AsynqTaskPrefix(), recoverBatch,
			strconv.FormatInt(now.UnixNano(), 10)).Int64Slice()
		if err != nil {
			return total, fmt.Errorf("worker: recover jobs whose lease ended: %w", err)
		}
		total += int(res[0])
		if r.recovered != nil {
			r.recovered.Add(float64(res[0]))
		}
		if res[1] < recoverBatch {
			return total, nil
		}
	}
}
