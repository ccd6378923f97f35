package worker

import (
	"context"
	"sync"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
)

// defCache keeps campaign definitions, which never change once registered,
// so that a job does not read its campaign from Redis on every send.
type defCache struct {
	store *store.Store
	ttl   time.Duration
	max   int

	mu      sync.Mutex
	entries map[string]defEntry
}

type defEntry struct {
	c  *campaign.Campaign
	at time.Time
}

func newDefCache(store *store.Store) *defCache {
	return &defCache{store: store, ttl: 10 * time.Minute, max: 10000, entries: map[string]defEntry{}}
}

func (d *defCache) get(ctx context.Context, id string) (*campaign.Campaign, error) {
	d.mu.Lock()
	e, ok := d.entries[id]
	d.mu.Unlock()
	if ok && time.Since(e.at) < d.ttl {
		return e.c, nil
	}
	c, err := d.store.Campaigns.Get(ctx, id)
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

// cancelMemo remembers which campaigns are cancelled, reading a campaign's
// state at most every ttl, so that the remaining jobs of a cancelled
// campaign are reported at once instead of each waiting for a rate-limit
// slot first. Redis has the last word: a job that skipped its wait only
// checks the campaign (ClaimOptions.CheckOnly), and if it is not cancelled
// after all (Redis lost the cancel in a failover, or the id was registered
// again) the job goes back for a slot, having taken nothing.
type cancelMemo struct {
	store *store.Store
	ttl   time.Duration

	mu      sync.Mutex
	entries map[string]cancelEntry
}

type cancelEntry struct {
	cancelled bool
	at        time.Time
}

func newCancelMemo(store *store.Store) *cancelMemo {
	return &cancelMemo{store: store, ttl: 500 * time.Millisecond, entries: map[string]cancelEntry{}}
}

// cancelled reports whether the campaign is known to be cancelled; a Redis
// error answers no, and the claim decides.
func (m *cancelMemo) cancelled(ctx context.Context, id string) bool {
	m.mu.Lock()
	e, ok := m.entries[id]
	if ok && time.Since(e.at) < m.ttl {
		m.mu.Unlock()
		return e.cancelled
	}
	// One job reads the state; the others meanwhile go by what was known.
	if len(m.entries) >= 10000 {
		clear(m.entries)
	}
	m.entries[id] = cancelEntry{cancelled: e.cancelled, at: time.Now()}
	m.mu.Unlock()
	st, err := m.store.Campaigns.State(ctx, id)
	if err != nil {
		return false
	}
	m.mu.Lock()
	m.entries[id] = cancelEntry{cancelled: st == campaign.StateCancelled, at: time.Now()}
	m.mu.Unlock()
	return st == campaign.StateCancelled
}

// forget drops what is known of a campaign.
func (m *cancelMemo) forget(id string) {
	m.mu.Lock()
	delete(m.entries, id)
	m.mu.Unlock()
}
