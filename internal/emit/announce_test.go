package emit_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/emit"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/stretchr/testify/require"
)

// The mmlite:campaign task of an automatic pause, and its callback, carry
// the error the campaign's status shows (Meta's code behind the pause), so
// that a consumer switching on error.code can from the event (found in
// review: the event had the reason only, and an upstream system had to
// read the status to tell a template's pause from a sender's).
func TestAnnounce_PausedEventCarriesTheError(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	ctx := context.Background()
	cbQueue := r.Queue + "-callbacks"
	in := asynq.NewInspectorFromRedisClient(r.Client)
	t.Cleanup(func() { _ = in.DeleteQueue(cbQueue, true) })
	e := emit.New(r.Client, r.Results, time.Hour).WithCallbacks(cbQueue, false)
	st := store.New(r.Client, r.Keys, store.Options{})
	c := campaign.Campaign{ID: "spring", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	c.Normalize()
	_, err := st.Campaigns.Register(ctx, &c)
	require.NoError(t, err)
	const reason = "template_paused: FLAGGED"
	_, err = st.Campaigns.PauseAutomatically(ctx, "spring", reason, store.PauseError(reason, 0))
	require.NoError(t, err)

	status, err := e.Announce(ctx, st.Campaigns, "spring")
	require.NoError(t, err)
	require.NotNil(t, status.PausedAt)
	at, err := json.Marshal(status.PausedAt)
	require.NoError(t, err)
	want := `{"campaign_id": "spring", "state": "paused", "reason": "template_paused: FLAGGED",
	  "error": {"code": 132015, "title": "template_paused: FLAGGED", "details": "", "http_status": 0},
	  "counts": {"enqueued": 0, "sent": 0, "failed": 0, "expired": 0, "cancelled": 0, "unknown": 0,
	             "suppressed": 0, "delivered": 0, "read": 0, "fallback": 0, "undelivered": 0},
	  "finished_at": ` + string(at) + `}`
	id := "campaign:spring:paused:" + strconv.FormatInt(status.PausedAt.UnixMilli(), 10)
	for queue, taskID := range map[string]string{r.Results: id, cbQueue: outbound.CallbackIDPrefix + id} {
		info, err := in.GetTaskInfo(queue, taskID)
		require.NoError(t, err, queue)
		require.JSONEq(t, want, string(info.Payload), queue)
	}
}
