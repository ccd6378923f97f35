package ratelimit_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/ratelimit"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Two processes share one sender's rate: their slots together are spaced
// at the rate, past the first burst.
func TestFleet_SharesTheRateAcrossProcesses(t *testing.T) {
	t.Parallel()
	a, b := twoProcesses(t, ratelimit.Config{Rate: 50, Burst: 5})
	ctx := context.Background()
	start := time.Now()
	var mu sync.Mutex
	// A slot is at Redis's time of the reservation plus its wait; that time
	// lies between the ask and the answer, so each slot is known to lie in
	// [lo, hi]. The k-th earliest slot then lies between the k-th smallest
	// lo and the k-th smallest hi: the checks below fail only on spans that
	// are short for certain, however slowly a busy machine answers.
	var lo, hi []time.Duration
	var wg sync.WaitGroup
	for i := range 80 {
		f := a
		if i%2 == 1 {
			f = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			asked := time.Since(start)
			wait, ok, err := f.Reserve(ctx, "s", 5*time.Second)
			answered := time.Since(start)
			require.NoError(t, err)
			require.True(t, ok, "all slots lie within 5 s")
			mu.Lock()
			lo, hi = append(lo, asked+wait), append(hi, answered+wait)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(lo)
	slices.Sort(hi)
	// 80 slots at 50/s with a burst of 5 span (80-5)/50 = 1.5 s; 0.75 s if
	// each process took the full rate.
	require.GreaterOrEqual(t, hi[len(hi)-1].Seconds(), 1.2, "not faster than the rate")
	for i := 5; i+50 < len(lo); i++ {
		// 50 slots span 1 s at the fleet's rate, 0.5 s if each process took
		// the full rate.
		require.GreaterOrEqual(t, hi[i+50]-lo[i], 750*time.Millisecond, "two processes together stay at one rate")
	}
	require.EqualValues(t, 50, a.Rate("s"))
	w, ok, err := a.Reserve(ctx, "unknown", 0)
	require.NoError(t, err)
	require.True(t, ok)
	require.Zero(t, w)
}

// A slot beyond the wait limit is not taken; the job is deferred, and
// deferred jobs come back spread out instead of together.
func TestFleet_DefersBeyondTheWaitLimit(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	// A slot a second: an ask answered slowly (hundreds of milliseconds
	// under -race on a loaded machine) lets in few slots of its own.
	const slotGap, limit = time.Second, 10 * time.Second
	f := ratelimit.NewFleet(r.Client, r.Keys, "a", map[string]ratelimit.Config{"s": {Rate: 1, Burst: 1}})
	ctx := context.Background()
	start := time.Now()
	var oks int
	var lastOK time.Duration
	// A deferred job's time is the process's time of the ask plus the wait,
	// and that time lies between the ask and the answer: in [lo, hi].
	var lo, hi []time.Duration
	for i := 0; i < 100 && len(lo) < 5; i++ {
		asked := time.Since(start)
		wait, ok, err := f.Reserve(ctx, "s", limit)
		answered := time.Since(start)
		require.NoError(t, err)
		if ok {
			oks, lastOK = oks+1, answered
			require.LessOrEqual(t, wait, limit)
			continue
		}
		lo, hi = append(lo, asked+wait), append(hi, answered+wait)
	}
	// The limit's worth of slots, plus the burst: 11 when the asks take no
	// time, and one more for every slot's time the asks took.
	require.GreaterOrEqual(t, oks, 10, "a limit's worth of slots, plus the burst")
	require.LessOrEqual(t, oks, 12+int(lastOK/slotGap), "a limit's worth of slots, plus the burst, plus those of the asks' %s", lastOK)
	require.Len(t, lo, 5, "jobs beyond the limit are deferred")
	for i := 1; i < len(lo); i++ {
		// A slot apart: the checks fail only on deferrals closer for
		// certain, however slowly the asks are answered.
		require.GreaterOrEqual(t, hi[i]-lo[i-1], slotGap*9/10, "deferred jobs are spread a slot apart")
	}
}

// A throttle in one process slows the sender in every process, and its
// Retry-After holds every send.
func TestFleet_ThrottleIsShared(t *testing.T) {
	t.Parallel()
	a, b := twoProcesses(t, ratelimit.Config{Rate: 80, Burst: 8})
	ctx := context.Background()
	// Halved to 40, recovering by 4/s since the throttle: a rate read
	// after lies between 40 plus 4/s of the time known to have passed and
	// 40 plus 4/s of the time since the test asked (however slowly a
	// loaded machine runs it).
	asked := time.Now()
	recovering := func(rate float64, atLeast time.Duration) {
		t.Helper()
		lo, hi := 40+4*atLeast.Seconds(), 40+4*time.Since(asked).Seconds()+0.01 // the backoff's time is kept in ms
		require.True(t, rate >= lo-0.01 && rate <= hi, "halved to 40, recovering by 4/s since: got %v, want [%.2f, %.2f]", rate, lo, hi)
	}
	// A Retry-After longer than the test: b must be held by it when it
	// asks, whenever that comes.
	a.Throttled(ctx, "s", time.Minute)
	recovering(a.Rate("s"), 0)
	time.Sleep(1100 * time.Millisecond) // b reads the shared backoff at most once a second
	wait, ok, err := b.Reserve(ctx, "s", 5*time.Second)
	require.NoError(t, err)
	require.False(t, ok, "held by Retry-After")
	require.Positive(t, wait)
	recovering(b.Rate("s"), 1100*time.Millisecond)
}

// A job that took its slot before a throttle is held by the Retry-After
// too, in this process at once and in others once they read the backoff.
func TestFleet_HeldAfterTheSlotWasTaken(t *testing.T) {
	t.Parallel()
	a, b := twoProcesses(t, ratelimit.Config{Rate: 80, Burst: 8})
	ctx := context.Background()
	for _, f := range []*ratelimit.Fleet{a, b} {
		_, ok, err := f.Reserve(ctx, "s", time.Second)
		require.NoError(t, err)
		require.True(t, ok)
		held, err := f.Held(ctx, "s")
		require.NoError(t, err)
		require.Zero(t, held)
	}
	a.Throttled(ctx, "s", 3*time.Second)
	held, err := a.Held(ctx, "s")
	require.NoError(t, err)
	require.Greater(t, held, 2*time.Second)
	require.LessOrEqual(t, held, 3*time.Second)
	require.Eventually(t, func() bool {
		held, err := b.Held(ctx, "s")
		return err == nil && held > time.Second
	}, 2*time.Second, 50*time.Millisecond, "the other process sees the hold within a second")
	unknown, err := a.Held(ctx, "nobody")
	require.NoError(t, err)
	require.Zero(t, unknown)
}

// twoProcesses are the limiters of two worker processes sharing one Redis,
// for one sender "s".
func twoProcesses(t *testing.T, c ratelimit.Config) (a, b *ratelimit.Fleet) {
	t.Helper()
	r := redistest.New(t)
	senders := map[string]ratelimit.Config{"s": c}
	return ratelimit.NewFleet(r.Client, r.Keys, "a", senders), ratelimit.NewFleet(r.Client, r.Keys, "b", senders)
}

// countHook counts the commands of one name a client sends.
type countHook struct {
	name string
	n    atomic.Int64
}

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == h.name {
			h.n.Add(1)
		}
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// Many jobs asking at once read the sender's back-off from Redis once, not
// once each.
func TestFleet_OneBackoffReadAtATime(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	reads := &countHook{name: "hgetall"}
	r.Client.AddHook(reads)
	f := ratelimit.NewFleet(r.Client, r.Keys, "a", map[string]ratelimit.Config{"s": {Rate: 50, Burst: 5}})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			_, err := f.Held(context.Background(), "s")
			require.NoError(t, err)
		})
	}
	wg.Wait()
	// One read, or two should the machine be so slow that the first is a
	// second old (the refresh interval) before the last ask.
	require.LessOrEqual(t, reads.n.Load(), int64(2))
}

// A slot given back unused (the claim held the job) serves the sender's
// next job in the process while it is fresh, without a new one from Redis;
// a stale one is dropped.
func TestFleet_UnusedSlotServesTheNextJob(t *testing.T) {
	t.Parallel()
	f, _ := twoProcesses(t, ratelimit.Config{Rate: 1, Burst: 1})
	ctx := context.Background()
	wait, ok, err := f.Reserve(ctx, "s", 0)
	require.NoError(t, err)
	require.True(t, ok, "the first slot is free at once")
	at := time.Now().Add(wait)
	_, ok, err = f.Reserve(ctx, "s", 0)
	require.NoError(t, err)
	require.False(t, ok, "at 1/s the next slot is a second away")

	f.Unused("s", at)
	wait, ok, err = f.Reserve(ctx, "s", 0)
	require.NoError(t, err)
	require.True(t, ok, "the slot given back serves the next job")
	require.LessOrEqual(t, wait, time.Duration(0), "at once; a negative wait keeps the slot's own time")
	require.Greater(t, wait, -time.Second)
	_, ok, err = f.Reserve(ctx, "s", 0)
	require.NoError(t, err)
	require.False(t, ok, "once")

	f.Unused("s", time.Now().Add(-3*time.Second))
	_, ok, err = f.Reserve(ctx, "s", 0)
	require.NoError(t, err)
	require.False(t, ok, "a slot older than one slot at the rate is not used: it would send faster than the rate")
	f.Unused("unknown", time.Now())
}

// Jobs held again and again, each giving back the slot it was handed, keep
// no slot alive beyond its time: a slot given back keeps the time it was
// granted for, so that sendable jobs after them are not a burst above the
// rate (found in review: the wait of a slot in the past was 0, and the
// worker gave it back as a slot of "now").
func TestFleet_GivenBackSlotsKeepTheirTime(t *testing.T) {
	t.Parallel()
	f, _ := twoProcesses(t, ratelimit.Config{Rate: 1, Burst: 1})
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := time.Now().Add(3 * time.Second)
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				wait, ok, err := f.Reserve(ctx, "s", 10*time.Second)
				if err != nil || !ok {
					time.Sleep(50 * time.Millisecond)
					continue
				}
				slot := time.Now().Add(wait) // as the worker keeps it
				time.Sleep(max(wait, 0))
				f.Unused("s", slot) // held: given back
				time.Sleep(300 * time.Millisecond)
			}
		})
	}
	wg.Wait()
	n := 0
	for range 10 {
		if w, ok, _ := f.Reserve(ctx, "s", 0); ok && w <= 0 {
			n++
		}
	}
	require.LessOrEqual(t, n, 2, "sends allowed at once at 1/s with a burst of 1")
}
