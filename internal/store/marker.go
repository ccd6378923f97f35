package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// releaseScript gives a claim back, only if it is still the claim of the
// attempt that releases it: with at least once, a stale run that finishes
// late must not free the claim of the run that took the recipient over.
// KEYS: 1 ledger, 2 reach, 3 the limit's waiting jobs, 4 asynq's retry
// set. ARGV: 1 recipient, 2 now (ms), 3 delays, 4 the attempt, 5 the error
// JSON, 6 the claim's place to free (see luaFreePlace).
var releaseScript = redis.NewScript(luaFreePlace + `
local m = redis.call('HGET', KEYS[1], ARGV[1])
if not m or string.sub(m, 1, 1) ~= 'C' then return 0 end
local a = string.match(m, '^C|(%d+)|')
if a ~= ARGV[4] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'R|' .. a .. '|' .. ARGV[2] .. '|' .. ARGV[3] .. '|' .. ARGV[5])
freePlace(KEYS[2], ARGV[1], ARGV[6], KEYS[3], KEYS[4], ARGV[2])
return 1
`)

// Release gives the claim of one attempt back after a failure that is known
// not to have sent the message, so that a later attempt may send. delays
// is the recipient's new count of per-recipient delays; e the failure,
// kept for the result should the recipient expire before its next attempt.
func (s Ledger) Release(ctx context.Context, id, to string, attempt, delays int, e *task.Error) error {
	// What it records already happened: it must be written even when the
	// job's context ends now (shutdown, timeout).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var errJSON []byte
	if e != nil {
		errJSON, _ = json.Marshal(e)
	}
	reach, waiters, retry, at := s.freeArgs(s.keys.Ledger(id))
	keys := []string{s.keys.Ledger(id), reach, waiters, retry}
	if err := s.run(ctx, releaseScript, keys, to, s.now().UnixMilli(), delays, attempt, errJSON, at).Err(); err != nil {
		return fmt.Errorf("campaign: release: %w", err)
	}
	return nil
}

// Marker is a recipient's ledger marker, read without changing it.
type Marker struct {
	Kind      byte // 'C' claimed, 'R' released, 'F' final, 0 none
	Attempts  int
	At        time.Time // when claimed or released
	LastError *task.Error
	Outcome   *Outcome // when final
}

// Marker reads a recipient's ledger marker.
func (s Ledger) Marker(ctx context.Context, id, to string) (Marker, error) {
	m, err := s.rdb.HGet(ctx, s.keys.Ledger(id), to).Result()
	if errors.Is(err, redis.Nil) {
		return Marker{}, nil
	}
	if err != nil {
		return Marker{}, fmt.Errorf("campaign: read marker: %w", err)
	}
	return parseMarker(m)
}

func parseMarker(m string) (Marker, error) {
	if m == "" {
		return Marker{}, nil
	}
	mk := Marker{Kind: m[0]}
	if mk.Kind == 'F' {
		mk.Outcome = new(Outcome)
		if err := json.Unmarshal([]byte(m[1:]), mk.Outcome); err != nil {
			return Marker{}, fmt.Errorf("campaign: decode outcome: %w", err)
		}
		mk.Attempts = mk.Outcome.Attempts
		return mk, nil
	}
	parts := strings.SplitN(m, "|", 5)
	if len(parts) < 4 {
		return Marker{}, fmt.Errorf("campaign: malformed marker %q", m)
	}
	mk.Attempts, _ = strconv.Atoi(parts[1])
	ms, _ := strconv.ParseInt(parts[2], 10, 64)
	mk.At = time.UnixMilli(ms)
	if len(parts) == 5 && parts[4] != "" {
		mk.LastError = new(task.Error)
		if json.Unmarshal([]byte(parts[4]), mk.LastError) != nil {
			mk.LastError = nil
		}
	}
	return mk, nil
}
