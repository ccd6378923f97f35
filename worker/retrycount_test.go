package worker_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// Redis errors on a job's steps spend none of its retries: two of them,
// then a throttled answer (which spends none either), had asynq archive
// the job, with no send, no result and a campaign that never completed
// (found in review).
func TestWorker_RedisErrorsSpendNoRetry(t *testing.T) {
	t.Parallel()
	to := testkit.To(3)
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = fmt.Fprint(w, `{"error":{"message":"(#130429) Rate limit hit","code":130429}}`)
			return
		}
		_, _ = fmt.Fprint(w, `{"messaging_product":"whatsapp","messages":[{"id":"wamid.ok"}]}`)
	}))
	defer api.Close()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	b.R.Client.AddHook(redistest.NewFailMatching(2, func(cmd redis.Cmder) bool { // the job's script calls
		name := strings.ToLower(cmd.Name())
		return (name == "evalsha" || name == "eval") && slices.Contains(cmd.Args(), any(to))
	}))
	cfg := b.config()
	cfg.Redis, cfg.Client = nil, b.R.Client
	cfg.Senders[0].BaseURL = api.URL
	p, err := json.Marshal(task.Send{Campaign: c.ID, To: to})
	require.NoError(t, err)
	// MaxRetry(2): what a producer with MaxRetry 1 writes (MaxRetry+1).
	_, err = b.client.Enqueue(asynq.NewTask(task.TypeSend, p), asynq.Queue(b.R.Queue), asynq.TaskID(task.SendID(c.ID, to)), asynq.MaxRetry(2))
	require.NoError(t, err)
	require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(c.ID), "enqueued", 1).Err())
	_, err = b.Store.Campaigns.Seal(b.Ctx, c.ID)
	require.NoError(t, err)
	b.start(t, cfg)
	r := b.WaitResults(t, 1, 30*time.Second)
	require.Equal(t, task.StatusSent, r[0].Status)
}
