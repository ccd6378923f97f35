package worker_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

const testKey = testkit.APIKey

// bundle is the test kit, with an asynq client to enqueue send jobs.
type bundle struct {
	*testkit.Kit
	client *asynq.Client
}

func setup(t *testing.T, fc fakeapi.Config) *bundle {
	t.Helper()
	return setupOn(t, redistest.New(t), fc)
}

// setupOn is setup on a given Redis.
func setupOn(t *testing.T, r *redistest.Redis, fc fakeapi.Config) *bundle {
	t.Helper()
	k := testkit.NewOn(t, r, fc)
	return &bundle{Kit: k, client: asynq.NewClientFromRedisClient(r.Client)}
}

// config is a worker config for fast tests.
func (b *bundle) config() worker.Config {
	return worker.Config{
		Redis: b.R.Opt, Queue: b.R.Queue, ResultsQueue: b.R.Results,
		Senders:     []*sender.Sender{b.Sender("default", 10000)},
		Concurrency: 20, HTTPTimeout: 2 * time.Second, ShutdownTimeout: 5 * time.Second,
		MaxWait: 500 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		ForwardInterval: 100 * time.Millisecond,
	}
}

func (b *bundle) start(t *testing.T, cfg worker.Config) *worker.Worker {
	t.Helper()
	w, err := worker.New(cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start(b.Ctx))
	t.Cleanup(w.Shutdown)
	return w
}

// register stores a campaign.
func (b *bundle) register(t *testing.T, c campaign.Campaign) *campaign.Campaign {
	t.Helper()
	if c.ID == "" {
		c.ID = "spring-sale-2026"
	}
	if c.Template.Name == "" {
		c.Template = mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}
	}
	c.Normalize()
	require.NoError(t, c.Validate(time.Now()))
	_, err := b.Store.Campaigns.Register(b.Ctx, &c)
	require.NoError(t, err)
	return &c
}

// enqueue adds send jobs the way the producer does: one task per recipient.
func (b *bundle) enqueue(t *testing.T, jobs ...task.Send) {
	t.Helper()
	for _, j := range jobs {
		p, err := json.Marshal(j)
		require.NoError(t, err)
		_, err = b.client.Enqueue(asynq.NewTask(task.TypeSend, p), asynq.Queue(b.R.Queue),
			asynq.TaskID(task.SendID(j.Campaign, j.To)), asynq.MaxRetry(10))
		require.NoError(t, err)
		require.NoError(t, b.R.Client.HIncrBy(b.Ctx, b.R.Keys.Campaign(j.Campaign), "enqueued", 1).Err())
	}
	for _, j := range jobs { // that is the whole list
		_, err := b.Store.Campaigns.Seal(b.Ctx, j.Campaign)
		require.NoError(t, err)
	}
}

func sends(c string, tos []string) []task.Send {
	out := make([]task.Send, len(tos))
	for i, to := range tos {
		out[i] = task.Send{Campaign: c, To: to}
	}
	return out
}
