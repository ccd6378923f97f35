package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
)

// RememberCancelled makes the worker's cancel memo say, for an hour, that
// a campaign is cancelled, whatever Redis says.
func (w *Worker) RememberCancelled(id string) {
	w.cancels.mu.Lock()
	defer w.cancels.mu.Unlock()
	w.cancels.entries[id] = cancelEntry{cancelled: true, at: time.Now().Add(time.Hour)}
}

// RescheduleReason is why err puts a job back without spending a retry
// ("" when it does not).
func RescheduleReason(err error) string {
	var re *retryError
	if errors.As(err, &re) && !re.failure {
		return re.reason
	}
	return ""
}

// ReasonRateLimit is the reschedule reason of a job that goes back for a slot.
const ReasonRateLimit = reasonRateLimit

// RecoverAfter is how long after its lease's end a job is taken over.
const RecoverAfter = recoverAfter

// RecoverOnce runs one pass of the worker's recoverer over a send queue, as
// at now, and returns how many jobs it put back.
func RecoverOnce(ctx context.Context, rdb redis.UniversalClient, queue string, now time.Time) (int, error) {
	r := &recoverer{rdb: rdb, keys: keyspace.New(queue), log: slog.New(slog.DiscardHandler)}
	return r.once(ctx, now)
}
