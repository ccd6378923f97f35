package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mmlite/mmlite/internal/ident"
	"github.com/mmlite/mmlite/internal/sentence"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
)

// transitionScript moves a campaign between states. It returns the state it
// found, prefixed with "ok:" when it changed it, "same:" when it already was
// in the target state, or "no:" when the change is not allowed. An
// operator's pause (not announced) of a paused campaign takes its reason,
// and drops the error of the pause it takes over. A cancelled campaign
// takes no new recipients: the cancel seals it too.
//
// A pause under holds (see Hold) happens only while one is on ("lifted:"
// otherwise), under the first that is, and lists the campaign in that
// hold's set in the same step: what lifts the hold resumes it.
//
// A resume or a cancel takes the campaign off the lists of waiting
// campaigns in the same step (see luaWait). A cancel lists the campaign
// among those whose remaining jobs are to be made due (see FinishCancel).
//
// KEYS: 1 campaign, 2 announce set, 3 the index of waiting lists, 4 the
// cancelling set, then each hold's key and set (a pause under holds). ARGV: 1 target state, 2
// reason ("" under a template's hold: its own, read in the step, and its
// error, see PauseError; for a resume, the start of the reason it
// requires, "" for any), 3 error JSON (pause), 4 now (ms), 5 "1" to
// announce the pause, 6 id.
var transitionScript = redis.NewScript(luaWait + luaUnwait + luaPauseError + `
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'gone:' end
local to = ARGV[1]
if st == to then
  -- An operator's pause of a campaign paused automatically takes over, so
  -- that what paused it first (a guard, onboarding) does not resume it;
  -- the error behind that pause goes with its reason, as an operator's
  -- pause carries none.
  if to == 'paused' and ARGV[5] ~= '1' then
    redis.call('HSET', KEYS[1], 'paused_reason', ARGV[2])
    redis.call('HDEL', KEYS[1], 'fatal')
  end
  return 'same:' .. st
end
if to == 'paused' then
  if st ~= 'running' then return 'no:' .. st end
  local reason, fatal = ARGV[2], ARGV[3]
  if #KEYS > 4 then
    local on
    for i = 5, #KEYS - 1, 2 do
      if redis.call('EXISTS', KEYS[i]) == 1 then on = i break end
    end
    if not on then return 'lifted:' .. st end
    if reason == '' then
      reason = redis.call('GET', KEYS[on])
      fatal = pauseError(reason, 0)
    end
    wait(KEYS[3], KEYS[on + 1], ARGV[6])
  end
  redis.call('HSET', KEYS[1], 'state', 'paused', 'paused_reason', reason, 'paused_at', ARGV[4])
  if fatal ~= '' then redis.call('HSET', KEYS[1], 'fatal', fatal) end
  if ARGV[5] == '1' then redis.call('SADD', KEYS[2], ARGV[6]) end
elseif to == 'running' then
  if st ~= 'paused' then return 'no:' .. st end
  if ARGV[2] ~= '' and string.sub(redis.call('HGET', KEYS[1], 'paused_reason') or '', 1, #ARGV[2]) ~= ARGV[2] then
    return 'no:' .. st
  end
  local c = redis.call('HMGET', KEYS[1], 'sent', 'failed')
  redis.call('HSET', KEYS[1], 'state', 'running', 'paused_reason', '', 'base_sent', c[1] or '0', 'base_failed', c[2] or '0')
  redis.call('HDEL', KEYS[1], 'fatal', 'paused_at')
  unwait(KEYS[3], {ARGV[6]})
elseif to == 'cancelled' then
  if st ~= 'running' and st ~= 'paused' then return 'no:' .. st end
  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'cancelled_at', ARGV[4])
  redis.call('HSETNX', KEYS[1], 'sealed', ARGV[4])
  unwait(KEYS[3], {ARGV[6]})
  redis.call('SADD', KEYS[4], ARGV[6])
end
return 'ok:' .. st
`)

// Transition is what a state change did.
type Transition struct {
	From    campaign.State // the state found
	Changed bool           // false when the campaign already was in the target state
	Lifted  bool           // PauseUnder, Rehold: no hold was on, nothing changed
}

func (s Campaigns) transition(ctx context.Context, id string, to campaign.State, reason string, e *task.Error, announce bool,
	holds ...Hold) (Transition, error) {
	var errJSON []byte
	if e != nil {
		errJSON, _ = json.Marshal(e)
	}
	flag := "0"
	if announce {
		flag = "1"
	}
	keys := []string{s.keys.Campaign(id), s.keys.Announce(), s.keys.WaitLists(), s.keys.Cancelling()}
	for _, h := range holds {
		keys = append(keys, h.Key, h.Set)
	}
	r, err := transitionScript.Run(ctx, s.rdb, keys, string(to), reason, errJSON, s.now().UnixMilli(), flag, id).Text()
	if err != nil {
		return Transition{}, fmt.Errorf("campaign: %s %s: %w", to, id, err)
	}
	verdict, from, _ := strings.Cut(r, ":")
	switch verdict {
	case "gone":
		return Transition{}, sentence.Of(campaign.ErrNotFound, "campaign %s not found", ident.Name(id))
	case "no":
		return Transition{From: campaign.State(from)}, sentence.Of(campaign.ErrState, "campaign %s is %s: it cannot be %s", ident.Name(id), from, done(to))
	}
	return Transition{From: campaign.State(from), Changed: verdict == "ok", Lifted: verdict == "lifted"}, nil
}

// Pause stops new sends of a running campaign at once across the fleet: the
// next claim of any of its recipients sees it. reason starts with one of the
// Pause* words. An operator's pause is not announced.
func (s Campaigns) Pause(ctx context.Context, id, reason string) (Transition, error) {
	return s.transition(ctx, id, campaign.StatePaused, reason, nil, false)
}

// PauseAutomatically is Pause for a pause mmlite decides itself (an error
// every further send would meet, e the error behind it); the pause is
// queued for announcing.
func (s Campaigns) PauseAutomatically(ctx context.Context, id, reason string, e *task.Error) (Transition, error) {
	return s.transition(ctx, id, campaign.StatePaused, reason, e, true)
}

// PauseUnder is PauseAutomatically for a guard's hold (a paused sender or
// template): while the hold is on, it pauses the campaign and lists it in
// the hold's set, in one step, so that lifting the hold at any moment
// resumes it; once lifted, it changes nothing (Lifted).
func (s Campaigns) PauseUnder(ctx context.Context, id, reason string, e *task.Error, h Hold) (Transition, error) {
	return s.transition(ctx, id, campaign.StatePaused, reason, e, true, h)
}

// Rehold pauses a running campaign under the first of holds that is on
// (a template's, whose value is its reason), with that hold's reason, in
// one step (see PauseUnder): for a campaign resumed while a hold was set
// whose pausing passed over it, paused then. It says whether the campaign
// is paused once it returns (by this call or already); one not found,
// cancelled or ended is not.
func (s Campaigns) Rehold(ctx context.Context, id string, holds ...Hold) (paused bool, err error) {
	if len(holds) == 0 {
		return false, nil
	}
	tr, err := s.transition(ctx, id, campaign.StatePaused, "", nil, true, holds...)
	switch {
	case errors.Is(err, campaign.ErrState), errors.Is(err, campaign.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return !tr.Lifted, nil
}

// Resume lets a paused campaign send again. Automatic pauses for the share
// of failures count again from here. It takes the campaign off the lists of
// waiting campaigns in the same step (see luaWait): a condition that
// still holds pauses and lists it again.
func (s Campaigns) Resume(ctx context.Context, id string) (Transition, error) {
	return s.ResumeFrom(ctx, id, "")
}

// ResumeFrom is Resume of a campaign paused for a reason that starts with
// pausedFor (a guard's), checked in the same step: one paused for another
// reason meanwhile (an operator's pause) stays paused (campaign.ErrState).
func (s Campaigns) ResumeFrom(ctx context.Context, id, pausedFor string) (Transition, error) {
	return s.transition(ctx, id, campaign.StateRunning, pausedFor, nil, false)
}

// Cancel stops a campaign for good, and seals it; every remaining
// recipient will be reported cancelled, but for an attempt that may have
// sent (unknown: see Ledger.Claim). It takes the campaign off the lists
// of waiting campaigns in the same step (see luaWait), so that lifting
// their conditions later finds nothing of it.
func (s Campaigns) Cancel(ctx context.Context, id string) (Transition, error) {
	return s.transition(ctx, id, campaign.StateCancelled, "", nil, false)
}

// done words what a transition to state does to a campaign, for the
// sentence that refuses it: "paused", "resumed", "cancelled".
func done(to campaign.State) string {
	if to == campaign.StateRunning {
		return "resumed"
	}
	return string(to)
}
