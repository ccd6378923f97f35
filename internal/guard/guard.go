package guard

import (
	"time"

	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/redis/go-redis/v9"
)

// Guard reads and changes the protections of one key space.
type Guard struct {
	rdb   redis.UniversalClient
	keys  keyspace.Space
	store *store.Store
	cfg   Config
	now   func() time.Time
}

// New returns the guard of the store's key space.
func New(rdb redis.UniversalClient, st *store.Store, cfg Config) *Guard {
	return &Guard{rdb: rdb, keys: st.Campaigns.Keys(), store: st, cfg: cfg.WithDefaults(), now: time.Now}
}

// WithClock returns a guard that reads the time from now (tests).
func (g *Guard) WithClock(now func() time.Time) *Guard {
	c := *g
	c.now = now
	return &c
}

// Config is the guard's configuration, with its defaults.
func (g *Guard) Config() Config { return g.cfg }

// Where an entry or a pause came from.
const (
	SourceAPI     = "api"
	SourceAnswer  = "answer"
	SourceWebhook = "webhook"
)
