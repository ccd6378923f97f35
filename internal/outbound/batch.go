package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// Batched callbacks: with Config.BatchSize above 1, the callbacks bound for
// one URL go together, one JSON line each (NDJSON), in a POST of up to
// BatchSize lines sent at most BatchWait after its first line came. Every
// task waits in its handler until its batch is answered, so that asynq
// acknowledges it only then; a failed batch has each of its tasks retried
// on its own schedule (and batched again with others). A batch refused for
// good (a 4xx) is sent again at once, event by event: the receiver may
// refuse a whole batch for one bad event, and a refusal archives, so that
// only an event it refuses on its own is archived, with its own answer.

// batchLine is one callback in a batch.
type batchLine struct {
	IdempotencyKey string          `json:"idempotency_key"`
	Type           string          `json:"type"`
	Event          json.RawMessage `json:"event"`
}

// NDJSONType is the content type of a batch.
const NDJSONType = "application/x-ndjson"

type batch struct {
	url   string
	lines []batchLine
	done  chan struct{}
	err   error
}

type batcher struct {
	s       *Server
	mu      sync.Mutex
	pending map[string]*batch // by URL
	// ctx ends at the server's Shutdown, once asynq has handed back the
	// tasks still waiting: a batch is not sent after it.
	ctx  context.Context
	stop context.CancelFunc
}

func newBatcher(s *Server) *batcher {
	b := &batcher{s: s, pending: map[string]*batch{}}
	b.ctx, b.stop = context.WithCancel(context.Background())
	return b
}

// add puts a callback in its URL's batch and waits for the batch's answer.
func (b *batcher) add(ctx context.Context, d *Destination, url string, line batchLine) error {
	b.mu.Lock()
	bt := b.pending[url]
	if bt == nil {
		bt = &batch{url: url, done: make(chan struct{})}
		b.pending[url] = bt
		time.AfterFunc(b.s.cfg.BatchWait, func() {
			if b.take(bt) {
				b.send(d, bt)
			}
		})
	}
	bt.lines = append(bt.lines, line)
	full := len(bt.lines) >= b.s.cfg.BatchSize
	if full {
		delete(b.pending, url) // no line more: it goes now
	}
	b.mu.Unlock()
	if full {
		go b.send(d, bt)
	}
	select {
	case <-bt.done:
		if bt.refusedWithOthers() {
			return b.sendAlone(d, url, line)
		}
		return bt.err
	case <-ctx.Done():
		// Handed back (at shutdown) or given up: taken out of its batch if
		// that is still open; sent already, the receiver drops the copy
		// by its key.
		b.withdraw(bt, line.IdempotencyKey)
		return ctx.Err()
	}
}

// withdraw takes the line of key out of bt, if bt is still open, and
// closes bt when it is left empty.
func (b *batcher) withdraw(bt *batch, key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending[bt.url] != bt {
		return
	}
	bt.lines = slices.DeleteFunc(bt.lines, func(l batchLine) bool { return l.IdempotencyKey == key })
	if len(bt.lines) == 0 {
		delete(b.pending, bt.url)
	}
}

// take removes a batch that is still open, and reports whether it did.
func (b *batcher) take(bt *batch) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending[bt.url] != bt {
		return false // full: sent already
	}
	delete(b.pending, bt.url)
	return true
}

// send POSTs a closed batch and wakes its tasks.
func (b *batcher) send(d *Destination, bt *batch) {
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	for _, l := range bt.lines {
		_ = enc.Encode(l) // JSON, checked by deliverBatched: cannot fail
	}
	ctx, cancel := context.WithTimeout(b.ctx, b.s.cfg.HTTPTimeout)
	defer cancel()
	req, err := newRequestTo(ctx, d, bt.url, body.Bytes(), NDJSONType)
	if err == nil {
		err = ctx.Err() // stopped: its tasks were handed back
	}
	if err == nil {
		req.Header.Set(EventHeader, "batch")
		err = b.s.post(req)
	}
	bt.err = err
	close(bt.done)
}

// refusedWithOthers reports whether the receiver refused for good a batch
// of more than one callback, maybe for one of the others.
func (bt *batch) refusedWithOthers() bool {
	var r rejected
	return len(bt.lines) > 1 && errors.As(bt.err, &r)
}

// sendAlone POSTs a callback in a batch of its own, and returns its answer.
func (b *batcher) sendAlone(d *Destination, url string, line batchLine) error {
	bt := &batch{url: url, lines: []batchLine{line}, done: make(chan struct{})}
	b.send(d, bt)
	return bt.err
}

// batched reports whether callbacks go in batches.
func (s *Server) batched() bool { return s.cfg.BatchSize > 1 }

// deliverBatched hands a callback to its URL's batch.
func (s *Server) deliverBatched(ctx context.Context, d *Destination, id, typ string, payload []byte) error {
	if !json.Valid(payload) {
		// json.Encoder would leave its line out, and the batch's answer
		// would acknowledge it unsent.
		return rejected{errors.New("outbound: the callback is not JSON: it cannot be a line of a batch"),
			"replay it with MMLITE_RESULTS_BATCH off, which POSTs it as it is"}
	}
	url, err := s.callbackURL(ctx, payload)
	if err != nil {
		return err
	}
	return s.batch.add(ctx, d, url, batchLine{IdempotencyKey: idempotencyKey(id), Type: typ, Event: payload})
}
