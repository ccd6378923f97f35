package outbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/mmlite/mmlite/internal/asynqwire"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/redis/go-redis/v9"
)

// Relay stores the api's webhooks as relay tasks, one per destination that
// takes them.
type Relay struct {
	rdb   redis.UniversalClient
	dests []*Destination

	published asynqwire.Published
}

// NewRelay relays to dests; nil when there are none.
func NewRelay(rdb redis.UniversalClient, dests []*Destination) *Relay {
	if len(dests) == 0 {
		return nil
	}
	return &Relay{rdb: rdb, dests: dests}
}

// Destinations are the relay's destinations.
func (r *Relay) Destinations() []*Destination { return r.dests }

// Store writes the webhook's relay tasks; once it returns nil, the webhook
// is in Redis for every destination that takes it. The task id is derived
// from the destination and the body: a webhook the provider delivers again
// (its bytes are the same) while the first is still queued is stored once,
// and any copy carries the same delivery id. kinds are the webhook's (see
// webhook.Events.Kinds), for the destinations that take only some.
func (r *Relay) Store(ctx context.Context, body []byte, h http.Header, kinds map[string]bool) error {
	if err := r.publish(ctx); err != nil {
		return err
	}
	sum := sha256.Sum256(body)
	digest := hex.EncodeToString(sum[:16])
	payload := encodeRelay(relayMeta{ContentType: h.Get("Content-Type"), Signature: h.Get(webhook.SignatureHeader)}, body)
	store := func(d *Destination) error {
		id := "relay:" + d.Name + ":" + digest
		msg := asynqwire.Message(nil, TypeRelay, payload, id, d.Queue(), MaxRetry, TimeoutSec)
		if err := asynqwire.Enqueue(ctx, r.rdb, d.Queue(), id, msg); err != nil {
			return fmt.Errorf("outbound: store the webhook for %s: %w", d.Name, err)
		}
		return nil
	}
	var wants []*Destination
	for _, d := range r.dests {
		if d.wants(kinds) {
			wants = append(wants, d)
		}
	}
	if len(wants) == 1 {
		return store(wants[0])
	}
	// At once, not one after the other: over the api's autopipelining
	// client they share round trips, so the webhook waits for one.
	errs := make([]error, len(wants))
	var wg sync.WaitGroup
	for i, d := range wants {
		wg.Go(func() { errs[i] = store(d) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// publish lists the destinations' queues for asynq's tools, once.
func (r *Relay) publish(ctx context.Context) error {
	qs := make([]string, len(r.dests))
	for i, d := range r.dests {
		qs[i] = d.Queue()
	}
	if err := r.published.Ensure(ctx, r.rdb, qs...); err != nil {
		return fmt.Errorf("outbound: publish the relay queues: %w", err)
	}
	return nil
}
