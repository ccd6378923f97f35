package guard

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Webhooks come at least once and in any order: a template's PAUSED may be
// delivered again after its REINSTATED, a quality update after a newer one.
// The time of the last event acted on for a subject is kept, so that an
// older one is not acted on; one of the same time is (a copy of it, whose
// first delivery may have failed part-way).

// eventMemory is how long an event's time is kept: Meta delivers a webhook
// again for up to 7 days.
const eventMemory = 8 * 24 * time.Hour

// laterLua defines later(key, at), for the scripts that act on an event:
// whether an event of the subject later than at (unix ms; 0, an event
// without a time: never) is recorded at key (see Space.GuardEvent).
const laterLua = `
local function later(key, at)
  local last = redis.call('GET', key)
  return tonumber(at) > 0 and last ~= false and tonumber(last) > tonumber(at)
end
`

// eventMillis is an event's time for laterLua: 0 when it has none.
func eventMillis(at time.Time) int64 {
	if at.IsZero() {
		return 0
	}
	return at.UnixMilli()
}

// newerScript records when the subject's event happened unless a later one
// was recorded, and then sets the hash field KEYS[2] ARGV[3] to ARGV[4]
// (when given), in the same step. It returns 0 for an older event.
// KEYS: 1 the subject's time, 2 a hash (optional). ARGV: 1 the event's
// time (ms), 2 how long it is kept (ms), 3 field, 4 value.
var newerScript = redis.NewScript(laterLua + `
if later(KEYS[1], ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if KEYS[2] then redis.call('HSET', KEYS[2], ARGV[3], ARGV[4]) end
return 1
`)

// newer records the subject's event at at, and sets field of hash to
// value with it (hash "": nothing); false when a later event of the
// subject was recorded. An event without a time is always new.
func (g *Guard) newer(ctx context.Context, subject string, at time.Time, hash, field string, value any) (bool, error) {
	if at.IsZero() {
		if hash != "" {
			return true, g.rdb.HSet(ctx, hash, field, value).Err()
		}
		return true, nil
	}
	keys := []string{g.keys.GuardEvent(subject)}
	args := []any{at.UnixMilli(), eventMemory.Milliseconds()}
	if hash != "" {
		keys, args = append(keys, hash), append(args, field, value)
	}
	n, err := newerScript.Run(ctx, g.rdb, keys, args...).Int()
	if err != nil {
		return false, fmt.Errorf("guard: %s: %w", subject, err)
	}
	return n == 1, nil
}

// TemplateEvent records a template status event of a WABA's template at
// at; false when a later one was recorded: the event is an older copy,
// not to act on. A later one may still be recorded before the event is
// acted on (two deliveries at once, an answer 132015): PauseTemplate and
// ResumeTemplate, given the event's time, then do nothing.
func (g *Guard) TemplateEvent(ctx context.Context, waba, name, language string, at time.Time) (bool, error) {
	return g.newer(ctx, templateSubject(templateID(waba, name, language)), at, "", "", nil)
}

// templateSubject is the subject of a template's events (id as
// templateID's).
func templateSubject(tid string) string { return "template:" + tid }

// SetLimit records a limit scope's messaging limit (0 unlimited), learnt
// from a webhook of at; it wins over the senders file. It returns false,
// and changes nothing, when a later update was recorded.
func (g *Guard) SetLimit(ctx context.Context, scope string, limit int, at time.Time) (bool, error) {
	ok, err := g.newer(ctx, "limit:"+scope, at, g.keys.Limits(), scope, strconv.Itoa(limit))
	if err != nil {
		return false, fmt.Errorf("guard: set the messaging limit of %s: %w", scope, err)
	}
	return ok, nil
}
