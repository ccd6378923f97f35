package campaign

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/task"
)

// Announce puts a mmlite:campaign event on the results queue for the
// campaign's current state: completed, cancelled (once every remaining
// recipient has its result) or paused (with the reason). The task id makes
// the event of one state (or one pause) unique.
func (s *Store) Announce(ctx context.Context, results *asynq.Client, queue, id string) error {
	st, err := s.Status(ctx, id)
	if err != nil {
		return err
	}
	ev := task.CampaignEvent{CampaignID: id, State: st.State, Counts: st.Counts, FinishedAt: time.Now().UTC()}
	taskID := "campaign:" + id + ":" + st.State
	switch {
	case st.State == StatePaused && st.PausedAt != nil:
		ev.Reason, ev.FinishedAt = st.PausedReason, *st.PausedAt
		taskID += ":" + strconv.FormatInt(st.PausedAt.UnixMilli(), 10)
	case st.FinishedAt != nil:
		ev.FinishedAt = *st.FinishedAt
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("campaign: encode event: %w", err)
	}
	_, err = results.EnqueueContext(ctx, asynq.NewTask(task.TypeCampaign, b), asynq.Queue(queue), asynq.TaskID(taskID), asynq.MaxRetry(25))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("campaign: announce %s: %w", id, err)
	}
	return nil
}
