package guard

import (
	"strings"
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
	count func(reason string, n int) // see Counting; nil counts nothing
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

// Counting returns a guard that counts the campaigns it pauses with count,
// by reason (mmlite_campaigns_paused_total): sender_paused, template_paused,
// template_disabled and fallback; a sender paused by an operator (source
// api, cli or console) counts its campaigns as operator. Every process
// that pauses through a guard counts so: the api (webhooks, /v1 and the
// console) and the workers (answers, replayed statuses); the cli counts
// nothing (it has no metrics).
func (g *Guard) Counting(count func(reason string, n int)) *Guard {
	c := *g
	c.count = count
	return &c
}

// counted counts n campaigns paused for reason (a campaign's paused_reason:
// its first word is the label).
func (g *Guard) counted(reason string, n int) {
	if g.count == nil || n <= 0 {
		return
	}
	if i := strings.IndexByte(reason, ':'); i >= 0 {
		reason = reason[:i]
	}
	g.count(reason, n)
}

// Config is the guard's configuration, with its defaults.
func (g *Guard) Config() Config { return g.cfg }

// Where an entry or a pause came from: an operator (through the api, the
// cli or the console) or what the provider said (an answer, a webhook).
const (
	SourceAPI     = "api"
	SourceCLI     = "cli"
	SourceConsole = "console"
	SourceAnswer  = "answer"
	SourceWebhook = "webhook"
)

// Sources lists them, for metric labels.
func Sources() []string {
	return []string{SourceAPI, SourceCLI, SourceConsole, SourceAnswer, SourceWebhook}
}

// byOperator says whether source is an operator's (the api, the cli, the
// console).
func byOperator(source string) bool {
	return source == SourceAPI || source == SourceCLI || source == SourceConsole
}
