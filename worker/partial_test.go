package worker_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A campaign-fatal answer that comes while Redis is down pauses the
// campaign once Redis answers again: the refused recipient waits with the
// others for the operator, and is sent after the resume. It was left
// claimed when the pause could not be written, and reported unknown (never
// sent) once its claim went stale, though the API had refused it.
func TestWorker_CampaignFatalDuringARedisOutagePausesOnceRedisIsBack(t *testing.T) {
	t.Parallel()
	r := redistest.NewURL(t, "")
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) > 1 {
			_, _ = w.Write([]byte(`{"messaging_product":"whatsapp","messages":[{"id":"wamid.ok"}]}`))
			return
		}
		// Redis goes down while the API answers, for longer than go-redis
		// retries a command.
		r.Mini.Close()
		go func() {
			time.Sleep(4 * time.Second)
			_ = r.Mini.Restart()
		}()
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"message":"(#132001) Template name does not exist in the translation","code":132001}}`))
	}))
	defer api.Close()
	b := setupOn(t, r, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	to := testkit.To(1)
	b.enqueue(t, task.Send{Campaign: c.ID, To: to})
	cfg := b.config()
	cfg.Senders[0].BaseURL = api.URL
	b.start(t, cfg)

	var st *campaign.Status
	require.Eventually(t, func() bool {
		var err error
		st, err = b.Store.Campaigns.Status(b.Ctx, c.ID)
		return err == nil && st.State != campaign.StateRunning
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, campaign.StatePaused, st.State, "counts: %+v", st.Counts)
	require.Contains(t, st.PausedReason, "code 132001")
	require.Empty(t, b.Results(t), "the refused recipient waits with the campaign")

	_, err := b.Store.Campaigns.Resume(b.Ctx, c.ID)
	require.NoError(t, err)
	_, err = b.Inspector.RunAllRetryTasks(b.R.Queue)
	require.NoError(t, err)
	res := b.WaitResults(t, 1, 20*time.Second)
	require.Equal(t, task.StatusSent, res[0].Status)
	require.EqualValues(t, 2, calls.Load())
}
