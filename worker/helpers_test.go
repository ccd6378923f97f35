package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/stretchr/testify/require"
)

const testKey = "test-key"

type bundle struct {
	r         *redistest.Redis
	fake      *fakeapi.Server
	api       *httptest.Server
	store     *store.Store
	inspector *asynq.Inspector
	client    *asynq.Client
	ctx       context.Context
}

func setup(t *testing.T, fc fakeapi.Config) *bundle {
	t.Helper()
	return setupOn(t, redistest.New(t), fc)
}

// setupOn is setup on a given Redis.
func setupOn(t *testing.T, r *redistest.Redis, fc fakeapi.Config) *bundle {
	t.Helper()
	fc.Keys = []string{testKey}
	fake, err := fakeapi.New(fc)
	require.NoError(t, err)
	api := httptest.NewServer(fake)
	t.Cleanup(api.Close)
	b := &bundle{r: r, fake: fake, api: api, store: store.New(r.Client, r.Keys, store.Options{}),
		inspector: asynq.NewInspectorFromRedisClient(r.Client), client: asynq.NewClientFromRedisClient(r.Client),
		ctx: context.Background()}
	return b
}

// sender returns a sender pointed at the fake API.
func (b *bundle) sender(id string, rate float64) *sender.Sender {
	s := &sender.Sender{ID: id, Provider: mmapi.Provider360, BaseURL: b.api.URL, Rate: rate, Burst: sender.DefaultBurst(rate)}
	s.SetKey(testKey)
	return s
}

// config is a worker config for fast tests.
func (b *bundle) config() worker.Config {
	return worker.Config{
		Redis: b.r.Opt, Queue: b.r.Queue, ResultsQueue: b.r.Results,
		Senders:     []*sender.Sender{b.sender("default", 10000)},
		Concurrency: 20, HTTPTimeout: 2 * time.Second, ShutdownTimeout: 5 * time.Second,
		MaxWait: 500 * time.Millisecond, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		ForwardInterval: 100 * time.Millisecond,
	}
}

func (b *bundle) start(t *testing.T, cfg worker.Config) *worker.Worker {
	t.Helper()
	w, err := worker.New(cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start(b.ctx))
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
	_, err := b.store.Campaigns.Register(b.ctx, &c)
	require.NoError(t, err)
	return &c
}

// enqueue adds send jobs the way the producer does: one task per recipient.
func (b *bundle) enqueue(t *testing.T, jobs ...task.Send) {
	t.Helper()
	for _, j := range jobs {
		p, err := json.Marshal(j)
		require.NoError(t, err)
		_, err = b.client.Enqueue(asynq.NewTask(task.TypeSend, p), asynq.Queue(b.r.Queue),
			asynq.TaskID(task.SendID(j.Campaign, j.To)), asynq.MaxRetry(10))
		require.NoError(t, err)
		require.NoError(t, b.r.Client.HIncrBy(b.ctx, b.r.Keys.Campaign(j.Campaign), "enqueued", 1).Err())
	}
	for _, j := range jobs { // that is the whole list
		_, err := b.store.Campaigns.Seal(b.ctx, j.Campaign)
		require.NoError(t, err)
	}
}

func recipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("4477009%05d", i)
	}
	return out
}

func sends(c string, tos []string) []task.Send {
	out := make([]task.Send, len(tos))
	for i, to := range tos {
		out[i] = task.Send{Campaign: c, To: to}
	}
	return out
}

// results reads the results queue.
func (b *bundle) results(t *testing.T) []task.Result {
	t.Helper()
	var out []task.Result
	for page := 1; ; page++ {
		infos, err := b.inspector.ListPendingTasks(b.r.Results, asynq.PageSize(500), asynq.Page(page))
		if err != nil {
			return out // the queue does not exist yet
		}
		for _, ti := range infos {
			if ti.Type != task.TypeResult {
				continue
			}
			var r task.Result
			require.NoError(t, json.Unmarshal(ti.Payload, &r))
			out = append(out, r)
		}
		if len(infos) < 500 {
			break
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].To < out[j].To })
	return out
}

// waitResults waits until n results are in the results queue.
func (b *bundle) waitResults(t *testing.T, n int, within time.Duration) []task.Result {
	t.Helper()
	var got []task.Result
	require.Eventually(t, func() bool {
		got = b.results(t)
		return len(got) >= n
	}, within, 20*time.Millisecond, "want %d results", n)
	return got
}

func (b *bundle) status(t *testing.T, id string) *campaign.Status {
	t.Helper()
	st, err := b.store.Campaigns.Status(b.ctx, id)
	require.NoError(t, err)
	return st
}
