package emit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
)

// Announce emits the event of a campaign's current state, once: completed,
// cancelled (once every remaining recipient has its result) or paused
// automatically (with the reason and the status's error). Then it takes the campaign off the
// announce set, unless its state changed meanwhile, so that the next
// state is announced too. It returns the status it announced.
func (e *Emitter) Announce(ctx context.Context, cs store.Campaigns, id string) (*campaign.Status, error) {
	st, err := cs.Status(ctx, id)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, cs.Announced(ctx, id, nil)
	}
	if err != nil {
		return nil, err
	}
	ev, taskID := event(st)
	if taskID != "" {
		b, err := json.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("emit: encode campaign event: %w", err)
		}
		if _, err := e.once(ctx, id, taskID, task.TypeCampaign, b); err != nil {
			return nil, err
		}
		if st.FinishedAt != nil {
			// Nothing of the campaign runs any more: its markers go with its
			// other keys, after the retention.
			for _, k := range e.sinks() {
				if err := e.rdb.PExpire(ctx, k.keys.Emitted(id), e.retention).Err(); err != nil {
					return nil, fmt.Errorf("emit: %w", err)
				}
			}
		}
	}
	return st, cs.Announced(ctx, id, st)
}

// event is the event of a campaign's state and its task id, "" when the
// state has none.
func event(st *campaign.Status) (task.CampaignEvent, string) {
	ev := task.CampaignEvent{CampaignID: st.ID, State: string(st.State), Counts: st.Counts, FinishedAt: time.Now().UTC()}
	prefix := "campaign:" + st.ID + ":"
	switch {
	case (st.State == campaign.StateCompleted || st.State == campaign.StateCancelled) && st.FinishedAt != nil:
		ev.FinishedAt = *st.FinishedAt
		return ev, prefix + string(st.State)
	case st.State == campaign.StatePaused && st.PausedAt != nil && !strings.HasPrefix(st.PausedReason, campaign.PauseOperator+":"):
		ev.Reason, ev.Error, ev.FinishedAt = st.PausedReason, st.Error, *st.PausedAt
		return ev, prefix + string(st.State) + ":" + strconv.FormatInt(st.PausedAt.UnixMilli(), 10)
	}
	return ev, ""
}
