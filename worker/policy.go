package worker

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/guard"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
)

// This file is the one place where an outcome class becomes queue behaviour.

// Fixed waits from mmlite-api.md.
const (
	throttleMinDelay  = time.Second      // after a throughput error without Retry-After
	templateSyncDelay = 10 * time.Minute // 134101: template still syncing
	maxPairDelays     = 5                // 131056: 4, 16, 64, 256, 1024 s, then fail
)

// retryError puts a job back in the queue after delay. A failure spends one
// of the job's retries; anything else (throttling, waiting for a slot, a
// per-recipient delay) does not.
type retryError struct {
	delay   time.Duration
	failure bool
	reason  string // metric label when not a failure
	err     error
}

func (e *retryError) Error() string {
	return fmt.Sprintf("retry in %s: %v", e.delay.Round(time.Millisecond), e.err)
}
func (e *retryError) Unwrap() error { return e.err }

// retryDelay is asynq's RetryDelayFunc: the handler decided the delay.
func retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	var r *retryError
	if errors.As(err, &r) {
		return r.delay
	}
	return backoff(n, DefaultRetryBase, DefaultRetryMax) // an error the handler did not classify (Redis down)
}

// isFailure is asynq's IsFailure: only failures spend retries. An error
// the handler did not classify is not the message's own (Redis erring or
// unavailable, the worker shutting down): it spends none, since asynq
// archives a job that has used all its retries whatever it returns later
// (a throttle, a pause), and that job would end with no result. A job that
// cannot be sent at all returns asynq.SkipRetry, archived at once.
func isFailure(err error) bool {
	var r *retryError
	if errors.As(err, &r) {
		return r.failure
	}
	return false
}

// backoff is exponential with jitter: base·2^n, capped, then 50-100 % of it.
func backoff(n int, base, max time.Duration) time.Duration {
	d := float64(base) * math.Pow(2, float64(n))
	if d > float64(max) || math.IsInf(d, 0) {
		d = float64(max)
	}
	return time.Duration(d/2 + rand.Float64()*d/2)
}

// jitter spreads jobs that come back together over up to d more.
func jitter(delay, d time.Duration) time.Duration {
	return delay + time.Duration(rand.Int64N(int64(d)+1))
}

// verdict is what happens to a job after an attempt.
type verdict struct {
	status   string       // final outcome; "" when the job goes back to the queue
	err      *mmapi.Error // why, when there is a reason
	lastErr  *task.Error  // why, as recorded by an earlier attempt, when err is nil
	retry    *retryError  // when status is ""
	throttle bool         // slow the sender down
	fatal    bool         // every further send of the campaign would fail the same way
	delays   int          // the recipient's per-recipient delay count after this attempt
}

// The ledger keeps one count of a recipient's delays; it holds two:
// 131056 (pair rate) delays in its units, 131049 (per-user cap) cooldowns
// in its hundreds, so that neither series spends the other's.
const cooldownDelay = 100

func pairDelays(delays int) int { return delays % cooldownDelay }
func cooldowns(delays int) int  { return delays / cooldownDelay }

// decide maps a failed attempt's class to the job's fate.
func (w *Worker) decide(j *job, e *mmapi.Error) verdict {
	switch e.Class {
	case mmapi.ClassTransient: // the server's Retry-After, if it said one (capped by the client), is a floor
		return w.retryOrFinal(j, e, max(backoff(j.retried, w.cfg.RetryBase, w.cfg.RetryMax), e.RetryAfter), true, "")
	case mmapi.ClassThroughput:
		v := w.retryOrFinal(j, e, jitter(max(e.RetryAfter, throttleMinDelay), time.Second), false, reasonThrottled)
		v.throttle = true
		return v
	case mmapi.ClassRecipientDelay:
		if e.Code == guard.CodeUserCap { // protect put the recipient in cooldown: it waits, in any campaign
			if cooldowns(j.delays) >= 1 { // the cap held after a whole cooldown: give up, as Meta will not say when
				return verdict{status: task.StatusFailed, err: e}
			}
			v := w.retryOrFinal(j, e, w.guard.Config().Cooldown, false, reasonCooldown)
			v.delays = j.delays + cooldownDelay
			if v.status == task.StatusExpired {
				c := *e
				c.Title = "recipient in cooldown after 131049 (per-user marketing cap): " + e.Title
				v.err = &c
			}
			return v
		}
		pairs := pairDelays(j.delays)
		if pairs >= maxPairDelays {
			return verdict{status: task.StatusFailed, err: e}
		}
		v := w.retryOrFinal(j, e, time.Duration(math.Pow(4, float64(pairs+1)))*time.Second, false, reasonRecipient)
		v.delays = j.delays + 1
		return v
	case mmapi.ClassWaitRetry:
		return w.retryOrFinal(j, e, jitter(templateSyncDelay, time.Minute), true, "")
	case mmapi.ClassCampaignFatal:
		return verdict{status: task.StatusFailed, err: e, fatal: true}
	case mmapi.ClassAmbiguous:
		if w.cfg.AtLeastOnce {
			return w.retryOrFinal(j, e, max(backoff(j.retried, w.cfg.RetryBase, w.cfg.RetryMax), e.RetryAfter), true, "")
		}
		return verdict{status: task.StatusUnknown, err: e}
	}
	return verdict{status: task.StatusFailed, err: e} // permanent
}

// retryOrFinal retries unless the job has no retries left or the retry
// would come after the campaign's expiry. asynq archives a job that has used
// all its retries whatever it returns, so a job stops spending retries one
// short of its maximum and keeps the last for rescheduling.
func (w *Worker) retryOrFinal(j *job, e *mmapi.Error, delay time.Duration, failure bool, reason string) verdict {
	if failure && j.retried >= j.maxRetry-1 {
		return verdict{status: task.StatusFailed, err: e}
	}
	if j.send.Expired(time.Now().Add(delay)) {
		return verdict{status: task.StatusExpired, err: e}
	}
	return verdict{delays: j.delays, retry: &retryError{delay: delay, failure: failure, reason: reason, err: e}}
}
