package worker

import (
	"context"
	"sync"
	"time"

	"github.com/mmlite/mmlite/pkg/campaign"
)

// defCache keeps campaign definitions, which never change once registered,
// so that a job does not read its campaign from Redis on every send.
type defCache struct {
	store *campaign.Store
	ttl   time.Duration
	max   int

	mu      sync.Mutex
	entries map[string]defEntry
}

type defEntry struct {
	c  *campaign.Campaign
	at time.Time
}

func newDefCache(store *campaign.Store) *defCache {
	return &defCache{store: store, ttl: 10 * time.Minute, max: 10000, entries: map[string]defEntry{}}
}

func (d *defCache) get(ctx context.Context, id string) (*campaign.Campaign, error) {
	d.mu.Lock()
	e, ok := d.entries[id]
	d.mu.Unlock()
	if ok && time.Since(e.at) < d.ttl {
		return e.c, nil
	}
	c, err := d.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if len(d.entries) >= d.max {
		clear(d.entries)
	}
	d.entries[id] = defEntry{c: c, at: time.Now()}
	d.mu.Unlock()
	return c, nil
}
