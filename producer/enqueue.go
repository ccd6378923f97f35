package producer

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// Source yields recipients one at a time. A row that cannot be used comes
// back as a *RowError, which is counted and skipped; io.EOF ends the input;
// any other error stops the enqueue. Enqueue checks every row a Source
// yields (its number, components and metadata, and that its text is UTF-8);
// the package's readers refuse text that is not UTF-8 themselves, naming
// the line and the column or field, and their rows are not checked for it
// again.
type Source interface {
	Next() (r Recipient, line int, err error)
}

// readsUTF8 reports whether src is one of the package's readers, which
// refuse a row that is not UTF-8 as they read it. Any other Source, one
// wrapping a reader included, may change a row after the reader's check.
func readsUTF8(src Source) bool {
	switch src.(type) {
	case *CSVSource, *JSONLSource, *ArraySource:
		return true
	}
	return false
}

// Options tune one Enqueue.
type Options struct {
	// DryRun validates every row and counts duplicates within the input,
	// without writing anything.
	DryRun bool
	// Progress, when set, receives a snapshot after every batch.
	Progress func(Summary)
}

// batch is one Redis call's worth of jobs.
type batch struct {
	args  []any // script arguments: the fixed ones, then id, message pairs
	n     int
	size  int   // bytes of the messages
	lines []int // each job's row, for the rows a sealed campaign refuses
	held  int   // units of the enqueue's in-flight budget, until written
}

const (
	// maxBatchBytes ends a batch early when its rows are large (a row can
	// be up to MaxLine); rows of ordinary size fill BatchSize long before.
	maxBatchBytes = 1 << 20
	// maxInFlight bounds the jobs handed to the writers and not yet
	// written (waiting for a writer or in a Redis call), however slow
	// Redis is: an enqueue holds at most about maxInFlight, the batch
	// being filled (maxBatchBytes plus a row) and the row being read.
	// Batches of ordinary rows (500 rows of a few hundred bytes) never
	// wait for it: all the batches the writers can hold take a fraction.
	maxInFlight = 8 << 20
	budgetUnit  = 64 << 10
)

// Enqueue streams recipients from src into one job each for campaign c,
// which must be registered (unless DryRun). Valid rows are enqueued even
// when others are rejected. On a fatal error the summary says what was
// enqueued before it; running the same input again adds nothing twice.
// When ctx ends before every row read was written (even if src then ends),
// the error is context.Cause(ctx).
func (p *Producer) Enqueue(ctx context.Context, c *campaign.Campaign, src Source, o Options) (*Summary, error) {
	e := &enqueuer{p: p, c: c, o: o, sum: &Summary{CampaignID: c.ID, Errors: []RowError{}, DryRun: o.DryRun},
		indexed: indexed(src), checkText: !readsUTF8(src)}
	if o.DryRun {
		e.seen = map[string]struct{}{}
	} else if err := e.prepare(ctx); err != nil {
		return e.sum, err
	}
	err := e.run(ctx, src)
	p.enqueued.WithLabelValues("accepted").Add(float64(e.sum.Accepted))
	p.enqueued.WithLabelValues("duplicate").Add(float64(e.sum.Duplicates))
	p.enqueued.WithLabelValues("rejected").Add(float64(e.sum.Rejected))
	// Rows a sealed campaign refused are known only once their batch is
	// written: list every error in the order of the input.
	slices.SortStableFunc(e.sum.Errors, func(a, b RowError) int { return a.Line - b.Line })
	if err == nil && e.sealed > 0 && e.sealed == e.sum.Rejected && e.sum.Accepted+e.sum.Duplicates == 0 {
		err = sentence.Of(ErrSealed, "campaign %s is sealed: every row was a new recipient", c.ID)
	}
	return e.sum, err
}

type enqueuer struct {
	p *Producer
	c *campaign.Campaign
	o Options
	// indexed: the rows are array elements, named by RowError.Index too.
	indexed bool
	// checkText: the rows' text is checked here, not by their Source.
	checkText bool
	keys      []string
	runID     string       // names this enqueue's batches' answers (see enqueueScript)
	batches   atomic.Int64 // numbers them
	head      []any        // the script's arguments before the jobs (the times are the batch's: see write)
	start     time.Time    // the first slot: the campaign's send_at, or the enqueue's start
	seen      map[string]struct{}

	// budget holds a unit per budgetUnit bytes of the batches in flight
	// (maxInFlight in all); only the reader takes units, the writers give
	// them back.
	budget chan struct{}

	// added counts the rows put in batches (by the reader), written those
	// the writers wrote (under mu); run reads both once the writers stop.
	added   int64
	mu      sync.Mutex
	written int64
	sum     *Summary
	sealed  int64 // rows refused because the campaign is sealed
}

// prepare reads the sender's rate and fixes the script's keys and arguments.
func (e *enqueuer) prepare(ctx context.Context) error {
	if _, err := e.p.store.Campaigns.Get(ctx, e.c.ID); err != nil {
		return err
	}
	s, err := e.p.sender(ctx, e.c.Sender)
	if err != nil {
		return err
	}
	rate := s.Rate
	if err := e.p.publishQueue(ctx); err != nil {
		return err
	}
	ks := e.p.keys
	now := e.p.now()
	start, clock := now, ks.Clock(e.c.Sender)
	if e.c.SendAt != nil && e.c.SendAt.After(now) {
		start = *e.c.SendAt
		if e.c.SendAt.After(now.Add(time.Minute)) {
			// A campaign for later paces on a clock of its own start time,
			// so that it does not push today's campaigns behind it.
			clock = ks.Clock(e.c.Sender + "@" + strconv.FormatInt(e.c.SendAt.Unix(), 10))
		}
	}
	e.keys = []string{ks.Campaign(e.c.ID), ks.Ledger(e.c.ID), ks.AsynqScheduled(), ks.AsynqPending(), clock, ks.Suppressed(s.Scope())}
	e.runID = rand.Text()
	e.start = start
	e.head = []any{ks.AsynqTaskPrefix(), now.UnixMilli(), strconv.FormatInt(now.UnixNano(), 10), start.UnixMilli(),
		strconv.FormatFloat(1000/rate, 'f', 6, 64), len(e.c.ID) + 1, pendingAhead.Milliseconds(), clockIdleTTL.Milliseconds(), e.c.ExpiresUnix() * 1000}
	return nil
}

func (e *enqueuer) run(ctx context.Context, src Source) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	batches := make(chan *batch, e.p.cfg.Concurrency)
	e.budget = make(chan struct{}, maxInFlight/budgetUnit)
	var wg sync.WaitGroup
	for range e.p.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				if ctx.Err() == nil {
					if err := e.write(ctx, b); err != nil {
						cancel(err)
					}
				}
				e.giveBack(b.held)
			}
		}()
	}
	err := e.read(ctx, src, batches) // never panics: the writers always get to stop
	close(batches)
	wg.Wait()
	// A failed write is the enqueue's error; so is the caller's context
	// ending before every row read was written (an input that ends after
	// a SIGTERM is not a finished enqueue), but not after.
	if cause := context.Cause(ctx); err == nil && cause != nil && (!errors.Is(cause, context.Canceled) || e.written < e.added) {
		err = cause
	}
	return err
}

// read parses and validates rows and hands full batches to the writers;
// what was read before an error is still handed over. A Source that panics
// is a bug, but one input must not take the process down with it (nor
// strand the writers): the panic becomes the enqueue's error.
func (e *enqueuer) read(ctx context.Context, src Source, out chan<- *batch) (err error) {
	b := e.newBatch()
	defer func() {
		if p := recover(); p != nil {
			e.p.cfg.Logger.Error("producer: recipient source panicked", "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("producer: reading recipients failed: %v", p)
		}
		if b.n > 0 {
			_ = e.hand(ctx, b, out)
		}
	}()
	for ctx.Err() == nil {
		r, line, err := src.Next()
		var re *RowError
		switch {
		case err == io.EOF:
			return nil
		case errors.As(err, &re):
			e.reject(*re)
			continue
		case err != nil && ctx.Err() != nil:
			return context.Cause(ctx) // a source that stops when the enqueue is interrupted
		case err != nil:
			return &InputError{Err: err}
		}
		if err := r.normalize(e.checkText); err != nil {
			e.reject(RowError{Line: line, Reason: err.Error()})
			continue
		}
		if e.seen != nil {
			e.dryRun(r.To)
			continue
		}
		if err := e.add(b, &r, line); err != nil {
			e.reject(RowError{Line: line, Reason: err.Error()})
			continue
		}
		if b.n == e.p.cfg.BatchSize || b.size >= maxBatchBytes {
			if err := e.hand(ctx, b, out); err != nil {
				b.n = 0 // not for the deferred hand either
				return err
			}
			b = e.newBatch()
		}
	}
	return context.Cause(ctx)
}

// hand gives a batch to the writers once the in-flight budget has room
// for it (a batch larger than the whole budget takes all of it); the
// writer that takes it gives its units back.
func (e *enqueuer) hand(ctx context.Context, b *batch, out chan<- *batch) error {
	need := min((b.size+budgetUnit-1)/budgetUnit, cap(e.budget))
	for b.held < need {
		select {
		case e.budget <- struct{}{}:
			b.held++
		case <-ctx.Done():
			e.giveBack(b.held)
			b.held = 0
			return context.Cause(ctx)
		}
	}
	select {
	case out <- b:
		return nil
	case <-ctx.Done():
		e.giveBack(b.held)
		b.held = 0
		return context.Cause(ctx)
	}
}

func (e *enqueuer) giveBack(units int) {
	for range units {
		<-e.budget
	}
}

func (e *enqueuer) newBatch() *batch {
	args := make([]any, len(e.head), len(e.head)+2*e.p.cfg.BatchSize)
	copy(args, e.head)
	return &batch{args: args}
}

// add encodes one job into the batch.
func (e *enqueuer) add(b *batch, r *Recipient, line int) error {
	s := task.Send{Campaign: e.c.ID, To: r.To, Components: r.Components, Metadata: r.Metadata, ExpiresAt: e.c.ExpiresUnix()}
	if e.c.Sender != sender.DefaultID {
		s.Sender = e.c.Sender
	}
	payload, err := json.Marshal(&s)
	if err != nil {
		return fmt.Errorf("components: %w", err)
	}
	id := task.SendID(e.c.ID, r.To)
	msg := asynqwire.Message(nil, task.TypeSend, payload, id, e.p.cfg.Queue, e.p.cfg.MaxRetry+1, int64(taskTimeout.Seconds()))
	b.args = append(b.args, id, msg)
	b.n++
	b.size += len(id) + len(msg)
	b.lines = append(b.lines, line)
	e.added++
	return nil
}

// write runs the script for one batch and counts what it did.
func (e *enqueuer) write(ctx context.Context, b *batch) error {
	// A batch is paced from the time it is written: rows read after a
	// stall in the input (a slow upload) get slots from then, not slots in
	// the past, all due at once.
	now := e.p.now()
	b.args[1], b.args[2], b.args[3] = now.UnixMilli(), strconv.FormatInt(now.UnixNano(), 10), max(e.start.UnixMilli(), now.UnixMilli())
	keys := append(e.keys[:len(e.keys):len(e.keys)], e.p.keys.EnqueueAnswer(e.runID+":"+strconv.FormatInt(e.batches.Add(1), 10)))
	res, err := enqueueScript.Run(ctx, e.p.rdb, keys, b.args...).Int64Slice()
	if err != nil {
		switch {
		case redis.HasErrorPrefix(err, "NOCAMPAIGN"):
			return sentence.Of(campaign.ErrNotFound, "campaign %s not found", e.c.ID)
		case redis.HasErrorPrefix(err, "CANCELLED"):
			return sentence.Of(ErrCancelled, "campaign %s is cancelled", e.c.ID)
		}
		return fmt.Errorf("producer: enqueue batch: %w", err)
	}
	e.mu.Lock()
	e.written += int64(b.n)
	for i, v := range res {
		switch v {
		case jobAccepted:
			e.sum.Accepted++
		case jobSuppressed:
			e.sum.Accepted++
			e.sum.Suppressed++
		case jobDuplicate:
			e.sum.Duplicates++
		case jobSealed:
			e.sealed++
			e.sum.reject(e.where(RowError{Line: b.lines[i], Reason: "campaign is sealed"}))
		}
	}
	snap := e.snapshot()
	e.mu.Unlock()
	if e.o.Progress != nil {
		e.o.Progress(snap)
	}
	return nil
}

func (e *enqueuer) dryRun(to string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, dup := e.seen[to]; dup {
		e.sum.Duplicates++
	} else {
		e.seen[to] = struct{}{}
		e.sum.Accepted++
	}
	if e.o.Progress != nil && e.sum.Rows()%1000 == 0 {
		e.o.Progress(e.snapshot())
	}
}

func (e *enqueuer) reject(re RowError) {
	re = e.where(re)
	e.mu.Lock()
	e.sum.reject(re)
	e.mu.Unlock()
}

// where sets the index of a row of an array.
func (e *enqueuer) where(re RowError) RowError {
	if e.indexed {
		i := re.Line
		re.Index = &i
	}
	return re
}

// snapshot copies the counts (not the errors) for progress reports.
func (e *enqueuer) snapshot() Summary {
	s := *e.sum
	s.Errors = nil
	return s
}

// publishQueue adds the send queue to asynq's list of queues, once.
func (p *Producer) publishQueue(ctx context.Context) error {
	if err := p.published.Ensure(ctx, p.rdb, p.cfg.Queue); err != nil {
		return fmt.Errorf("producer: publish queue: %w", err)
	}
	return nil
}
