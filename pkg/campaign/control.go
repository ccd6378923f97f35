package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// ErrState is a control that the campaign's state does not allow.
var ErrState = errors.New("campaign: not allowed in this state")

// Why a campaign was paused; the first word of paused_reason.
const (
	PauseOperator      = "operator"
	PauseCampaignFatal = "campaign_fatal"
	PauseFailureRatio  = "failure_ratio"
	PauseOnboarding    = "onboarding"
)

// PauseReasons lists them, for metric labels.
var PauseReasons = []string{PauseOperator, PauseCampaignFatal, PauseFailureRatio, PauseOnboarding}

// transitionScript moves a campaign between states. It returns the state it
// found, prefixed with "ok:" when it changed it, "same:" when it already was
// in the target state, or "no:" when the change is not allowed.
//
// ARGV: 1 target state, 2 reason, 3 error JSON (pause) , 4 now (ms).
var transitionScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone:' end
local to = ARGV[1]
if st == to then return 'same:' .. st end
if to == 'paused' then
  if st ~= 'running' then return 'no:' .. st end
  redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', ARGV[2], 'paused_at', ARGV[4])
  if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'fatal', ARGV[3]) end
elseif to == 'running' then
  if st ~= 'paused' then return 'no:' .. st end
  local c = redis.call('HMGET', KEYS[1], 'sent', 'failed')
  redis.call('HSET', KEYS[1], 'state', 'running', 'paused_reason', '', 'base_sent', c[1] or '0', 'base_failed', c[2] or '0')
  redis.call('HDEL', KEYS[1], 'fatal', 'paused_at')
elseif to == 'cancelled' then
  if st ~= 'running' and st ~= 'paused' then return 'no:' .. st end
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'cancelled_at', ARGV[4])
end
return 'ok:' .. st
`)

// Transition is what a state change did.
type Transition struct {
	From    string // the state found
	Changed bool   // false when the campaign already was in the target state
}

func (s *Store) transition(ctx context.Context, id, to, reason string, e *task.Error) (Transition, error) {
	var errJSON []byte
	if e != nil {
		errJSON, _ = json.Marshal(e)
	}
	r, err := transitionScript.Run(ctx, s.rdb, []string{s.keys.Campaign(id)}, to, reason, errJSON, s.now().UnixMilli()).Text()
	if err != nil {
		return Transition{}, fmt.Errorf("campaign: %s %s: %w", to, id, err)
	}
	verdict, from, _ := strings.Cut(r, ":")
	switch verdict {
	case "gone":
		return Transition{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	case "no":
		return Transition{From: from}, fmt.Errorf("%w: campaign %s is %s", ErrState, id, from)
	}
	return Transition{From: from, Changed: verdict == "ok"}, nil
}

// Pause stops new sends of a running campaign at once across the fleet: the
// next claim of any of its recipients sees it. reason starts with one of the
// Pause* words; e is the error behind an automatic pause.
func (s *Store) Pause(ctx context.Context, id, reason string, e *task.Error) (Transition, error) {
	return s.transition(ctx, id, StatePaused, reason, e)
}

// Resume lets a paused campaign send again. Automatic pauses for the share
// of failures count again from here.
func (s *Store) Resume(ctx context.Context, id string) (Transition, error) {
	return s.transition(ctx, id, StateRunning, "", nil)
}

// Cancel stops a campaign for good; every remaining recipient will be
// reported cancelled.
func (s *Store) Cancel(ctx context.Context, id string) (Transition, error) {
	return s.transition(ctx, id, StateCancelled, "", nil)
}

// finishScript marks a campaign that has nothing left to send: a running one
// completed, a cancelled one finished. It returns 1 when it did.
var finishScript = redis.NewScript(`
local h = redis.call('HMGET', KEYS[1], 'state', 'enqueued', 'sent', 'failed', 'expired', 'cancelled', 'unknown', 'finished_at')
if not h[1] or h[8] then return 0 end
local final = 0
for i = 3, 7 do final = final + tonumber(h[i] or '0') end
local enq = tonumber(h[2] or '0')
if final < enq then return 0 end
if h[1] == 'running' and enq > 0 then
  redis.call('HSET', KEYS[1], 'state', 'completed', 'finished_at', ARGV[1])
  return 1
elseif h[1] == 'cancelled' then
  redis.call('HSET', KEYS[1], 'finished_at', ARGV[1])
  return 1
end
return 0
`)

// FinishIfDone completes a running campaign, or finishes a cancelled one,
// when every enqueued recipient already has a final outcome; a resume or a
// cancel can find it so. It returns true when it changed the campaign.
func (s *Store) FinishIfDone(ctx context.Context, id string) (bool, error) {
	n, err := finishScript.Run(ctx, s.rdb, []string{s.keys.Campaign(id)}, s.now().UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("campaign: finish %s: %w", id, err)
	}
	return n == 1, nil
}
