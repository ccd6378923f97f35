package worker

import (
	"math"
	"sync"
	"time"
)

// shares keeps one sender from holding all of a worker's slots: a sender
// whose API answers slowly (or not at all, until the HTTP timeout) would
// otherwise fill every slot with its calls, and the other senders' jobs,
// due all the same, would wait behind them (head-of-line blocking by
// latency, which pacing and the rate limiter cannot see).
//
// A sender holds its fair share of the slots, the worker's concurrency
// over the senders active in it (with a job in a slot, or one seen within
// activeFor); more while that leaves spare slots (a reserve, an eighth of
// them) free for the others, and never the reserve itself when the worker
// sends for other senders too: there is always a slot for a sender whose
// jobs have not come yet. A job over that goes back to the queue without spending a
// retry, at the pace its sender's slots free up (one job's hold over the
// slots it holds, after the previous job handed back), so that each is
// put back about once rather than churning through Redis.
type shares struct {
	mu      sync.Mutex
	slots   int // the worker's concurrency
	reserve int // slots kept free for senders under their share
	most    int // the most one sender holds: all the slots but the reserve, when there are others
	busy    int // slots held
	senders map[string]*share
	base    time.Time // start times are kept as offsets from it
	now     func() time.Time
}

// share is one sender's part of the slots.
type share struct {
	held   int
	starts time.Duration // sum of the held slots' start times (from base)
	seen   time.Time     // when its last job came
	hold   time.Duration // moving average of how long a job holds its slot
	next   time.Time     // when the last job it handed back is due
}

const (
	// activeFor is how long a sender counts as active after its last job
	// came, so that a sender sending a job now and then keeps its share.
	activeFor = 10 * time.Second
	// firstHold is the hold assumed before any job finished.
	firstHold = time.Second
	// minHandBack is the least a handed-back job waits.
	minHandBack = 100 * time.Millisecond
)

func newShares(slots int, senders []string) *shares {
	s := &shares{slots: slots, reserve: max(1, slots/8), most: slots, senders: map[string]*share{}, base: time.Now(), now: time.Now}
	if len(senders) > 1 {
		s.most = max(1, slots-s.reserve)
	}
	for _, id := range senders {
		s.senders[id] = &share{}
	}
	return s
}

// take takes a slot for a job of sender (a configured one), to give back
// with done(sender, start); when the sender holds its share, it returns
// ok false and when the job should come back.
func (s *shares) take(sender string) (start time.Time, ok bool, retryIn time.Duration) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.senders[sender]
	sh.seen = now
	if sh.held >= s.most || sh.held >= s.fair(now) && s.slots-s.busy-1 < s.reserve {
		// Its slots free up one a hold over held apart; the hold is at
		// least the age of the jobs holding them (an API that does not
		// answer has no finished job to tell).
		hold := sh.hold
		if hold == 0 {
			hold = firstHold
		}
		hold = max(hold, now.Sub(s.base)-sh.starts/time.Duration(sh.held))
		if sh.next.Before(now) {
			sh.next = now
		}
		sh.next = sh.next.Add(hold / time.Duration(sh.held))
		return time.Time{}, false, max(sh.next.Sub(now), minHandBack)
	}
	sh.held++
	sh.starts += now.Sub(s.base)
	s.busy++
	return now, true, 0
}

// fair is a sender's fair share: the slots over the active senders.
func (s *shares) fair(now time.Time) int {
	active := 0
	for _, sh := range s.senders {
		if sh.held > 0 || now.Sub(sh.seen) < activeFor {
			active++
		}
	}
	return int(math.Ceil(float64(s.slots) / float64(max(active, 1))))
}

// done gives back a slot take gave the sender, taken at start.
func (s *shares) done(sender string, start time.Time) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.senders[sender]
	sh.held--
	sh.starts -= start.Sub(s.base)
	s.busy--
	if d := now.Sub(start); sh.hold == 0 {
		sh.hold = d
	} else {
		sh.hold = (4*sh.hold + d) / 5
	}
}
