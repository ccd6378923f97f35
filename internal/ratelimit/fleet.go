package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// Fleet limits each sender across every worker sharing a Redis, so that
// three workers at 80/s send 80/s together.
//
//   - A GCRA in Redis (go-redis/redis_rate) hands out the sender's send slots.
//     A worker takes the next slot even when it lies up to the wait limit
//     ahead, and sleeps until then: one Redis call per slot, no polling.
//   - Concurrent asks of one process for one sender are coalesced into one
//     call, and a fast sender's call takes the slots of the next 10 ms too,
//     so that a busy worker takes its slots in batches.
//   - A per-process x/time/rate front at the sender's rate, and a memo of
//     "no slot before T" after Redis said so, keep a process from asking Redis
//     for slots it cannot have; jobs that cannot get a slot soon are deferred,
//     spread one slot apart per live worker, instead of coming back together.
//   - Provider throttling lowers the sender's effective rate for every worker
//     at once (the Backoff lives in Redis) and honours Retry-After.
type Fleet struct {
	rdb     redis.UniversalClient
	gcra    *redis_rate.Limiter
	keys    keyspace.Space
	id      string // this process, in the live-worker set
	senders map[string]*fleetSender
	now     func() time.Time

	mu       sync.Mutex
	workers  int
	workerAt time.Time
}

type fleetSender struct {
	id        string
	cfg       Config
	mu        sync.Mutex
	bo        Backoff
	boAt      time.Time     // when bo was read from Redis
	boReading bool          // an ask is reading bo from Redis
	set       float64       // the rate the local front was last set to
	loc       *rate.Limiter // the per-process front
	full      time.Time     // Redis had no slot within the wait limit before this
	dfr       time.Time     // the last deferred job's time (spreads deferrals)
	wait      []waiter      // coalesced asks
	busy      bool          // a flush is asking Redis
	pool      []slotRun     // slots taken ahead for this process, in order
	spare     []time.Time   // slots handed out and given back unused (see Unused)
}

type waiter struct {
	max time.Duration
	ch  chan slot
}

type slot struct {
	wait time.Duration
	ok   bool
	err  error
}

// Freshness of what a process knows of the fleet.
const (
	backoffRefresh = time.Second
	workerRefresh  = 5 * time.Second
	workerTTL      = 15 * time.Second
	maxBatch       = 200
	coalesce       = 2 * time.Millisecond
	prefetch       = 10 * time.Millisecond
)

// NewFleet returns a fleet-wide limiter for the given senders; id names this
// process among the live workers.
func NewFleet(rdb redis.UniversalClient, keys keyspace.Space, id string, senders map[string]Config) *Fleet {
	f := &Fleet{rdb: rdb, gcra: redis_rate.NewLimiter(rdb), keys: keys, id: id,
		senders: make(map[string]*fleetSender, len(senders)), now: time.Now, workers: 1}
	for sid, c := range senders {
		f.senders[sid] = &fleetSender{id: sid, cfg: c, bo: Backoff{Configured: c.Rate}, set: c.Rate,
			loc: rate.NewLimiter(rate.Limit(c.Rate), c.Burst)}
	}
	return f
}

// Reserve implements Limiter.
func (f *Fleet) Reserve(ctx context.Context, sender string, limit time.Duration) (time.Duration, bool, error) {
	s := f.senders[sender]
	if s == nil {
		return 0, true, nil
	}
	if err := f.refresh(ctx, s); err != nil {
		return 0, false, err
	}
	now := f.now()
	s.mu.Lock()
	if hold := s.bo.HoldUntil.Sub(now); hold > 0 {
		d := f.deferLocked(s, now, hold)
		s.mu.Unlock()
		return d, false, nil
	}
	if at, ok := s.popSpare(now); ok && at.Sub(now) <= limit {
		s.mu.Unlock()
		// Negative when the slot's time has passed: the caller keeps the
		// slot's own time, should it give the slot back again.
		return at.Sub(now), true, nil
	}
	if until := s.full.Sub(now); until > 0 {
		d := f.deferLocked(s, now, until)
		s.mu.Unlock()
		return d, false, nil
	}
	lr := s.loc.ReserveN(now, 1)
	if lw := lr.DelayFrom(now); !lr.OK() || lw > limit {
		lr.CancelAt(now)
		d := f.deferLocked(s, now, lw)
		s.mu.Unlock()
		return d, false, nil
	}
	if at, ok := s.popSlot(now); ok && at.Sub(now) <= limit {
		s.mu.Unlock()
		return max(0, at.Sub(now)), true, nil
	}
	ch := make(chan slot, 1)
	s.wait = append(s.wait, waiter{max: limit, ch: ch})
	if !s.busy {
		s.busy = true
		go f.flush(s)
	}
	s.mu.Unlock()
	select {
	case r := <-ch:
		return r.wait, r.ok, r.err
	case <-ctx.Done():
		return 0, false, ctx.Err() // the slot, if any, goes unused
	}
}

// flush asks Redis for the slots of every waiter, in batches, until none is
// left. It first lets concurrent asks gather for a moment, so that a busy
// worker takes its slots many at a time.
func (f *Fleet) flush(s *fleetSender) {
	time.Sleep(coalesce)
	for {
		s.mu.Lock()
		if len(s.wait) == 0 {
			s.busy = false
			s.mu.Unlock()
			return
		}
		n := min(len(s.wait), maxBatch)
		batch := append([]waiter(nil), s.wait[:n]...)
		s.wait = s.wait[n:]
		r := s.bo.Rate(f.now())
		s.mu.Unlock()
		f.grant(s, batch, r)
	}
}

// grant takes up to len(batch) slots from the sender's GCRA. The batch's
// first waiter's wait limit sets the horizon: slots further ahead are not
// taken. The i-th slot is emission intervals after the previous one; the
// first Burst slots of an idle sender are free at once.
func (f *Fleet) grant(s *fleetSender, batch []waiter, r float64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	interval := time.Duration(float64(time.Second) / r)
	horizon := batch[0].max
	lim := redis_rate.Limit{Rate: int(math.Max(1, math.Round(r*100))), Period: 100 * time.Second,
		Burst: s.cfg.Burst + int(horizon/interval)}
	ahead := min(maxBatch, int(r*prefetch.Seconds())) // a fast sender takes slots for the next moment too
	res, err := f.take(ctx, s.id, lim, interval, len(batch)+ahead)
	if err != nil {
		for _, w := range batch {
			w.ch <- slot{err: fmt.Errorf("ratelimit: %s: %w", s.id, err)}
		}
		return
	}
	now := f.now()
	last := res.ResetAfter - time.Duration(s.cfg.Burst)*interval // wait of the last slot granted
	if extra := res.Allowed - len(batch); extra > 0 {
		s.mu.Lock()
		s.pool = append(s.pool, slotRun{floor: now, first: now.Add(last - time.Duration(extra-1)*interval), every: interval, n: extra})
		s.mu.Unlock()
	}
	for i, w := range batch {
		if i < res.Allowed {
			wait := max(0, last-time.Duration(res.Allowed-1-i)*interval)
			if wait <= w.max {
				w.ch <- slot{wait: wait, ok: true}
				continue
			}
		}
		s.mu.Lock()
		if res.RetryAfter > 0 {
			s.full = now.Add(res.RetryAfter)
		}
		d := f.deferLocked(s, now, max(res.RetryAfter, interval))
		s.mu.Unlock()
		w.ch <- slot{wait: d}
	}
}

// take takes up to n whole slots. When not all n fit before the horizon,
// it takes the whole slots that do (AllowAtMost would also take the fraction
// of the next one, which nobody can use: at a full horizon that wasted a
// share of the rate on every call). A result with no slot says when one
// slot frees up.
func (f *Fleet) take(ctx context.Context, sender string, lim redis_rate.Limit, interval time.Duration, n int) (*redis_rate.Result, error) {
	key := f.keys.Limit(sender)
	res, err := f.gcra.AllowN(ctx, key, lim, n)
	if err != nil || res.Allowed > 0 {
		return res, err
	}
	// res.RetryAfter is how long until all n fit: the excess in slots.
	fit := n - int(math.Ceil(float64(res.RetryAfter)/float64(interval)))
	if fit <= 0 {
		res.RetryAfter -= time.Duration(n-1) * interval // until one slot fits
		return res, nil
	}
	res, err = f.gcra.AllowN(ctx, key, lim, fit)
	if err == nil && res.Allowed == 0 { // another process took them meanwhile
		res.RetryAfter = interval
	}
	return res, err
}

// deferLocked says when a job that cannot have a slot soon should come
// back: after base, and one slot per live worker after the previous
// deferred job, so that deferred jobs return spread out, not together.
func (f *Fleet) deferLocked(s *fleetSender, now time.Time, base time.Duration) time.Duration {
	step := time.Duration(float64(time.Second) / s.bo.Rate(now) * float64(f.liveWorkers()))
	at := now.Add(base)
	if s.dfr.After(at) {
		at = s.dfr
	}
	s.dfr = at.Add(step)
	return at.Sub(now)
}

// maxSpare bounds the slots given back that a process keeps.
const maxSpare = 1024

// Unused gives back a slot Reserve handed out that no send used: the claim
// held the job (a paused campaign, a suppressed recipient, a cooldown, the
// messaging limit). The sender's next Reserve in this process takes it while
// it is fresh (not older than one slot at the current rate), before the
// local front and Redis, which both counted it already: a recipient that is
// held costs the sender none of its rate.
func (f *Fleet) Unused(sender string, at time.Time) {
	s := f.senders[sender]
	if s == nil {
		return
	}
	s.mu.Lock()
	if len(s.spare) < maxSpare {
		s.spare = append(s.spare, at)
	}
	s.mu.Unlock()
}

// popSpare takes the oldest slot given back that is still fresh, dropping
// those too old to use without sending faster than the rate.
func (s *fleetSender) popSpare(now time.Time) (time.Time, bool) {
	if len(s.spare) == 0 {
		return time.Time{}, false
	}
	late := now.Add(-time.Duration(float64(time.Second) / s.bo.Rate(now)))
	for len(s.spare) > 0 {
		at := s.spare[0]
		s.spare = s.spare[1:]
		if !at.Before(late) {
			return at, true
		}
	}
	return time.Time{}, false
}

// popSlot takes the next slot taken ahead, dropping those too old to use
// without sending faster than the rate.
func (s *fleetSender) popSlot(now time.Time) (time.Time, bool) {
	late := now.Add(-time.Duration(float64(time.Second) / s.bo.Rate(now)))
	for len(s.pool) > 0 {
		at, ok := s.pool[0].pop(late)
		if ok {
			return at, true
		}
		s.pool = append(s.pool[:0], s.pool[1:]...) // keeps its array: no allocation per grant
	}
	return time.Time{}, false
}

// slotRun is n slots taken in one call: first, first+every, ..., none
// before floor (the first slots of an idle sender are free at once).
type slotRun struct {
	floor, first time.Time
	every        time.Duration
	n, used      int
}

// pop takes the run's next slot that is not before late.
func (r *slotRun) pop(late time.Time) (time.Time, bool) {
	for r.used < r.n {
		at := r.first.Add(time.Duration(r.used) * r.every)
		if at.Before(r.floor) {
			at = r.floor
		}
		r.used++
		if !at.Before(late) {
			return at, true
		}
	}
	return time.Time{}, false
}

func (f *Fleet) liveWorkers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return max(1, f.workers)
}

// Rate implements Limiter.
func (f *Fleet) Rate(sender string) float64 {
	s := f.senders[sender]
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bo.Rate(f.now())
}

// Held implements Limiter.
func (f *Fleet) Held(ctx context.Context, sender string) (time.Duration, error) {
	s := f.senders[sender]
	if s == nil {
		return 0, nil
	}
	if err := f.refresh(ctx, s); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return max(0, s.bo.HoldUntil.Sub(f.now())), nil
}

// Throttled implements Limiter: it lowers the sender's rate for the whole
// fleet, through Redis, and holds its sends for retryAfter.
func (f *Fleet) Throttled(ctx context.Context, sender string, retryAfter time.Duration) {
	s := f.senders[sender]
	if s == nil {
		return
	}
	key := f.backoffKey(sender)
	var nb Backoff
	err := f.rdb.Watch(ctx, func(tx *redis.Tx) error {
		cur, err := readBackoff(ctx, tx, key, s.cfg.Rate)
		if err != nil {
			return err
		}
		nb = cur.Throttle(f.now(), retryAfter)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, key, "r0", nb.R0, "at", nb.At.UnixMilli(), "hold", nb.HoldUntil.UnixMilli())
			p.Expire(ctx, key, time.Hour)
			return nil
		})
		return err
	}, key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil { // Redis is unreachable or busy: slow down here at least
		nb = s.bo.Throttle(f.now(), retryAfter)
	}
	s.bo, s.boAt = nb, f.now()
	s.adjust(f.now())
}

// refresh reads the shared backoff and the live workers, at most once a
// second and every five seconds.
func (f *Fleet) refresh(ctx context.Context, s *fleetSender) error {
	now := f.now()
	s.mu.Lock()
	// One ask reads the back-off; the others meanwhile go by what is known.
	stale := now.Sub(s.boAt) >= backoffRefresh && !s.boReading
	s.boReading = s.boReading || stale
	s.mu.Unlock()
	if stale {
		bo, err := readBackoff(ctx, f.rdb, f.backoffKey(s.id), s.cfg.Rate)
		s.mu.Lock()
		s.boReading = false
		// A throttle recorded here while Redis was read is newer than
		// what was read (or was never written, when Redis failed): keep it.
		if err == nil && !s.boAt.After(now) {
			s.bo, s.boAt = bo, now
			s.adjust(now)
		}
		s.mu.Unlock()
		if err != nil {
			return err
		}
	}
	f.mu.Lock()
	stale = now.Sub(f.workerAt) >= workerRefresh
	if stale {
		f.workerAt = now
	}
	f.mu.Unlock()
	if !stale {
		return nil
	}
	key := f.keys.Workers()
	pipe := f.rdb.Pipeline()
	pipe.ZAdd(ctx, key, redis.Z{Score: float64(now.Unix()), Member: f.id})
	pipe.ZRemRangeByScore(ctx, key, "-inf", strconv.FormatInt(now.Add(-workerTTL).Unix(), 10))
	n := pipe.ZCard(ctx, key)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("ratelimit: live workers: %w", err)
	}
	f.mu.Lock()
	f.workers = int(n.Val())
	f.mu.Unlock()
	return nil
}

func (f *Fleet) backoffKey(sender string) string { return f.keys.Backoff(sender) }

// adjust keeps the local front at the effective rate.
func (s *fleetSender) adjust(now time.Time) {
	r := s.bo.Rate(now)
	if math.Abs(r-s.set) >= s.cfg.Rate/100 || (r == s.cfg.Rate && r != s.set) {
		s.loc.SetLimitAt(now, rate.Limit(r))
		s.set = r
	}
}

func readBackoff(ctx context.Context, c redis.Cmdable, key string, configured float64) (Backoff, error) {
	h, err := c.HGetAll(ctx, key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return Backoff{}, fmt.Errorf("ratelimit: read backoff: %w", err)
	}
	b := Backoff{Configured: configured}
	if r0, err := strconv.ParseFloat(h["r0"], 64); err == nil && r0 > 0 {
		at, _ := strconv.ParseInt(h["at"], 10, 64)
		hold, _ := strconv.ParseInt(h["hold"], 10, 64)
		b.R0, b.At, b.HoldUntil = r0, time.UnixMilli(at), time.UnixMilli(hold)
	}
	return b, nil
}
