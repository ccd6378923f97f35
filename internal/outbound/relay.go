package outbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/redis/go-redis/v9"
)

// Relay stores the api's webhooks as relay tasks, one per destination that
// takes them.
type Relay struct {
	rdb    redis.UniversalClient
	dests  []*Destination
	queues []string // the destinations'

	published asynqwire.Published
}

// NewRelay relays to dests; nil when there are none.
func NewRelay(rdb redis.UniversalClient, dests []*Destination) *Relay {
	if len(dests) == 0 {
		return nil
	}
	qs := make([]string, len(dests))
	for i, d := range dests {
		qs[i] = d.Queue()
	}
	return &Relay{rdb: rdb, dests: dests, queues: qs}
}

// Store writes the webhook's relay tasks; once it returns nil, the webhook
// is in Redis for every destination that takes it. kinds are the
// webhook's (see webhook.Events.Kinds), for the destinations that take
// only some.
func (r *Relay) Store(ctx context.Context, body []byte, h http.Header, kinds map[string]bool) error {
	t, err := r.Tasks(ctx, body, h, kinds)
	if err != nil {
		return err
	}
	return r.Write(ctx, t)
}

// Write writes relay tasks (a chain from Tasks) in steps of their own: for
// a caller whose step that was to write them failed.
func (r *Relay) Write(ctx context.Context, t *store.ResultTask) error {
	write := func(t *store.ResultTask) error {
		if err := asynqwire.Enqueue(ctx, r.rdb, t.Queue, t.ID, t.Msg); err != nil {
			return fmt.Errorf("outbound: store the webhook for %s: %w", strings.TrimPrefix(t.Queue, RelayQueuePrefix), err)
		}
		return nil
	}
	if t == nil {
		return nil
	}
	if t.Also == nil {
		return write(t)
	}
	// At once, not one after the other: over the api's autopipelining
	// client they share round trips, so the webhook waits for one.
	var ts []*store.ResultTask
	for ; t != nil; t = t.Also {
		ts = append(ts, t)
	}
	errs := make([]error, len(ts))
	var wg sync.WaitGroup
	for i, t := range ts {
		wg.Go(func() { errs[i] = write(t) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Tasks are the webhook's relay tasks, one per destination that takes it,
// chained by Also (nil when none does), for a caller that writes them in a
// step of its own (see store.Delivery.Always); their queues are listed
// for asynq's tools. The task id is derived from the destination and the
// body: a webhook the provider delivers again (its bytes are the same)
// while the first is still queued is stored once, and any copy carries the
// same delivery id.
func (r *Relay) Tasks(ctx context.Context, body []byte, h http.Header, kinds map[string]bool) (*store.ResultTask, error) {
	if err := r.publish(ctx); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:16])
	payload := encodeRelay(relayMeta{ContentType: h.Get("Content-Type"), Signature: h.Get(webhook.SignatureHeader),
		Stored: time.Now().UnixMilli()}, body)
	var first, last *store.ResultTask
	for _, d := range r.dests {
		if !d.wants(kinds) {
			continue
		}
		id := "relay:" + d.Name + ":" + digest
		t := &store.ResultTask{Queue: d.Queue(), ID: id, Msg: asynqwire.Message(nil, TypeRelay, payload, id, d.Queue(), MaxRetry, TimeoutSec)}
		if first == nil {
			first = t
		} else {
			last.Also = t
		}
		last = t
	}
	return first, nil
}

// publish lists the destinations' queues for asynq's tools, once.
func (r *Relay) publish(ctx context.Context) error {
	if err := r.published.Ensure(ctx, r.rdb, r.queues...); err != nil {
		return fmt.Errorf("outbound: publish the relay queues: %w", err)
	}
	return nil
}
