package worker

import (
	"errors"
	"time"
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
