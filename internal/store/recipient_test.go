package store_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A recipient of a paused campaign is parked: its job sleeps in asynq's
// retry set until the campaign's expiry (90 days without one), and resume
// brings it back at once. That wake-up is no time it will be sent, so the
// lookup gives no due_at (found in review: a parked recipient said
// "due_at": 90 days ahead, in the API and the console).
func TestRecipient_ParkedHasNoDueAt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.register(t, "c", 1)
	to := "441234567801"
	k, rdb := b.r.Keys, b.r.Client
	wake := time.Now().Add(90 * 24 * time.Hour)
	require.NoError(t, rdb.HSet(b.ctx, k.AsynqTask(task.SendID("c", to)), "state", "retry").Err())
	require.NoError(t, rdb.ZAdd(b.ctx, k.AsynqRetry(), redis.Z{Score: float64(wake.Unix()), Member: task.SendID("c", to)}).Err())
	require.NoError(t, rdb.ZAdd(b.ctx, k.Parked("c"), redis.Z{Score: float64(time.Now().Unix()), Member: to}).Err())

	w, err := b.store.Recipient(b.ctx, "c", to)
	require.NoError(t, err)
	require.Equal(t, store.AtParked, w.State)
	require.Nil(t, w.DueAt, "a parked recipient is sent once its campaign resumes, not at its job's wake-up")
}
