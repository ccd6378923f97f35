package worker

import (
	"context"
	"errors"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redisconn"
)

// While Redis is down (restarting, failing over), a job cannot record what
// it did, and asynq cannot record that the job is done or must run again:
// asynq gives up such a write, and the job waits in its active list until
// its lease ends and a recoverer puts it back. Instead a job waits for
// Redis: its outcome is recorded, and asynq's write made, as soon as Redis
// answers again. A send that was made is then reported sent, not unknown.
// The wait ends with the job's context, which asynq ends when it loses the
// job's lease (another worker may take the job over: the claim marker
// decides what it may do) or on shutdown.

// awaitPoll is how often a job waiting for Redis asks whether it is back.
const awaitPoll = 200 * time.Millisecond

// persist writes something that already happened (an outcome, a released
// claim, a result) and writes it again, as soon as Redis answers, for as
// long as Redis is unavailable and the job lives. Each such write is
// idempotent: a second one after a lost answer changes nothing.
func (w *Worker) persist(ctx context.Context, write func() error) error {
	err := write()
	for w.redisDown(ctx, err) && w.awaitRedis(ctx) {
		err = write()
	}
	return err
}

// redisDown reports whether err may come from Redis being unavailable:
// go-redis says so, or, for an error that does not tell (asynq flattens
// Redis errors to text), Redis does not answer a ping now. The handler's
// own decisions (a job put back, a job archived) are not.
func (w *Worker) redisDown(ctx context.Context, err error) bool {
	var re *retryError
	switch {
	case err == nil, errors.As(err, &re), errors.Is(err, asynq.SkipRetry):
		return false
	case redisconn.Unavailable(err):
		return true
	}
	return w.ping(ctx) != nil
}

// awaitRedis waits until Redis answers a ping; false when ctx ended first.
func (w *Worker) awaitRedis(ctx context.Context) bool {
	for {
		if w.ping(ctx) == nil {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(awaitPoll):
		}
	}
}

// ping asks Redis whether it answers, for at most readyTimeout.
func (w *Worker) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return w.rdb.Ping(ctx).Err()
}
