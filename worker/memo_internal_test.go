package worker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/redistest"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// countingLimiter hands out every slot at once and counts them.
type countingLimiter struct{ reserved atomic.Int64 }

func (l *countingLimiter) Reserve(context.Context, string, time.Duration) (time.Duration, bool, error) {
	l.reserved.Add(1)
	return 0, true, nil
}
func (l *countingLimiter) Throttled(context.Context, string, time.Duration)    {}
func (l *countingLimiter) Rate(string) float64                                 { return 1000 }
func (l *countingLimiter) Held(context.Context, string) (time.Duration, error) { return 0, nil }

// A job that skipped its slot because the memo said its campaign was
// cancelled, while Redis says it is not (the cancel was lost in a failover),
// takes nothing and goes back; run again, it takes a slot and sends once.
func TestWorker_WrongCancelMemoNeverSendsWithoutASlot(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	fake, err := fakeapi.New(fakeapi.Config{Keys: []string{"k"}})
	require.NoError(t, err)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	s := &sender.Sender{ID: "default", Provider: mmapi.Provider360, BaseURL: api.URL, Rate: 1000, Burst: 100}
	s.SetKey("k")
	lim := &countingLimiter{}
	w, err := New(Config{Redis: r.Opt, Queue: r.Queue, ResultsQueue: r.Results, Senders: []*sender.Sender{s},
		Limiter: lim, HTTPTimeout: 2 * time.Second, ShutdownTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = w.rdb.Close() })

	ctx := context.Background()
	c := campaign.Campaign{ID: "lost-cancel", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	c.Normalize()
	_, err = w.store.Register(ctx, &c)
	require.NoError(t, err)
	require.NoError(t, r.Client.HIncrBy(ctx, r.Keys.Campaign(c.ID), "enqueued", 1).Err())
	// The memo saw the cancel; Redis no longer has it.
	w.cancels.entries[c.ID] = cancelEntry{cancelled: true, at: time.Now().Add(time.Hour)}

	const to = "447700900123"
	p, err := json.Marshal(task.Send{Campaign: c.ID, To: to})
	require.NoError(t, err)
	job := asynq.NewTask(task.TypeSend, p)

	err = w.ProcessTask(ctx, job)
	var re *retryError
	require.ErrorAs(t, err, &re, "back to the queue, without spending a retry")
	require.Equal(t, reasonRateLimit, re.reason)
	require.Zero(t, lim.reserved.Load(), "no slot taken")
	require.Zero(t, fake.Sends(to), "nothing sent")
	marker, err := r.Client.HGet(ctx, r.Keys.Ledger(c.ID), to).Result()
	require.True(t, errors.Is(err, redis.Nil) || marker == "", "no claim marker left behind: %q", marker)

	require.NoError(t, w.ProcessTask(ctx, job), "the memo was forgotten: the job takes its slot and sends")
	require.EqualValues(t, 1, lim.reserved.Load())
	require.Equal(t, 1, fake.Sends(to))
	st, err := w.store.Status(ctx, c.ID)
	require.NoError(t, err)
	require.EqualValues(t, 1, st.Counts.Sent)
	require.Equal(t, campaign.StateCompleted, st.State)
}
