package store

import (
	"strconv"
	"strings"
	"time"
)

// Place is a recipient's place in a messaging limit's window, taken by a
// claim at At (its score in the window is At in ms + 0.5: see claimScript).
type Place struct {
	LimitScope string
	At         time.Time
}

// luaFreePlace gives back the place in a limit's window (the sorted set
// key) that the claim at (ms; its score is at + 0.5, see claimScript) took
// for the recipient to, unless a later claim has taken it since (an empty
// at is none), and wakes the job that has waited longest for a place
// (waiters, see keyspace.LimitWaiters): it moves from asynq's retry set
// (retry) to now.
//
// A waiter's score is when it began to wait (ms); woken, it stays listed
// with that score negated, so that its turn is kept should a newcomer
// take the place before it runs (its claim, limited again, gives the
// score back: see claimScript), and a waiter is woken once. The next one
// is looked at (up to 50) past a waiter that is not in the retry set: one
// still running or about to (on its way there, or due by its own retry
// time) keeps its turn, one done is dropped. A waiter leaves the set when
// it takes a place or finds its recipient reached; a woken one whose job
// ended otherwise is dropped by a later free. Like unparkScript, it reads
// asynq's task hashes (the retry set's slot) from Redis without passing
// them as keys.
const luaFreePlace = `
local function freePlace(key, to, at, waiters, retry, nowMS)
  if at == '' then return end
  local sc = redis.call('ZSCORE', key, to)
  if not sc or tonumber(sc) ~= tonumber(at) + 0.5 then return end
  redis.call('ZREM', key, to)
  local tasks = string.sub(retry, 1, -6) .. 't:' -- asynq:{queue}:retry -> asynq:{queue}:t:
  local ws = redis.call('ZRANGEBYSCORE', waiters, 0, '+inf', 'WITHSCORES', 'LIMIT', 0, 50)
  for i = 1, #ws, 2 do
    local tid = ws[i]
    if redis.call('ZSCORE', retry, tid) then
      redis.call('ZADD', waiters, 'XX', '-' .. ws[i + 1], tid)
      redis.call('ZADD', retry, 'XX', math.floor(tonumber(nowMS) / 1000), tid)
      return
    end
    local state = redis.call('HGET', tasks .. tid, 'state')
    if state ~= 'active' and state ~= 'pending' then redis.call('ZREM', waiters, tid) end
  end
  -- Woken waiters whose job ended otherwise (sent, expired, cancelled) are
  -- dropped, a few at a time, the longest woken first.
  for _, tid in ipairs(redis.call('ZREVRANGEBYSCORE', waiters, '(0', '-inf', 'LIMIT', 0, 20)) do
    local state = redis.call('HGET', tasks .. tid, 'state')
    if state ~= 'active' and state ~= 'pending' and state ~= 'retry' then redis.call('ZREM', waiters, tid) end
  end
end
`

// WithPlace is the ledger with which the next Settle or Release deals
// with p, the place in its limit's window that the attempt's claim took
// (see Claim.Place). A send the API refused reached no one: its Settle or
// Release gives the place back, unless a later claim has taken it since. A
// Settle of a message (an outcome with a wamid) keeps the place with it:
// Meta counts a messaging limit in recipients delivered to, so that a
// failed status of the message gives it back (see Deliveries.FreeFailed).
// A nil p does neither.
func (s Ledger) WithPlace(p *Place, refused bool) Ledger {
	s.place, s.refused = p, refused
	return s
}

// value is the place as the wamid hash keeps it (field p): its scope and
// its claim time in ms, or "" for nil.
func (p *Place) value() string {
	if p == nil {
		return ""
	}
	return p.LimitScope + "\n" + p.atMS()
}

// atMS is the place's claim time in ms, as luaFreePlace takes it.
func (p *Place) atMS() string { return strconv.FormatInt(p.At.UnixMilli(), 10) }

// placeOf reads a place value back; nil for "" or one it cannot read.
func placeOf(v string) *Place {
	i := strings.LastIndexByte(v, '\n')
	if i < 0 {
		return nil
	}
	ms, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil {
		return nil
	}
	return &Place{LimitScope: v[:i], At: time.UnixMilli(ms)}
}

// placeKeys are the keys luaFreePlace takes for a place of scope: its
// limit's window, the jobs waiting for it, asynq's retry set.
func (s *base) placeKeys(scope string) (reach, waiters, retry string) {
	return s.keys.Reach(scope), s.keys.LimitWaiters(scope), s.keys.AsynqRetry()
}

// freeArgs are the keys (see placeKeys) and the argument of the place to
// give back (see WithPlace and luaFreePlace), or the fallback key (any of
// the campaign's slot) thrice and "" for none.
func (s Ledger) freeArgs(fallback string) (reach, waiters, retry, at string) {
	if s.place == nil || !s.refused {
		return fallback, fallback, fallback, ""
	}
	reach, waiters, retry = s.placeKeys(s.place.LimitScope)
	return reach, waiters, retry, s.place.atMS()
}

// kept is the place to keep with a message (see WithPlace), as the wamid
// hash keeps it, or "".
func (s Ledger) kept() string {
	if s.refused {
		return ""
	}
	return s.place.value()
}
