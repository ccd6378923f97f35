package testkit

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
	"github.com/stretchr/testify/require"
)

// APIKey is the key the fake API accepts.
const APIKey = "test-key"

// Kit is one test's Redis, fake API and readers.
type Kit struct {
	R         *redistest.Redis
	Fake      *fakeapi.Server
	FakeSrv   *httptest.Server // the fake API, served
	Inspector *asynq.Inspector
	Store     *store.Store
	Ctx       context.Context
}

// New returns a kit on a Redis of its own (see redistest.New).
func New(tb testing.TB, fc fakeapi.Config) *Kit {
	tb.Helper()
	return NewOn(tb, redistest.New(tb), fc)
}

// NewOn returns a kit on a given Redis.
func NewOn(tb testing.TB, r *redistest.Redis, fc fakeapi.Config) *Kit {
	tb.Helper()
	fc.Keys = []string{APIKey}
	fake, err := fakeapi.New(fc)
	require.NoError(tb, err)
	k := &Kit{R: r, Fake: fake, FakeSrv: httptest.NewServer(fake), Inspector: asynq.NewInspectorFromRedisClient(r.Client),
		Store: store.New(r.Client, r.Keys, store.Options{}), Ctx: context.Background()}
	tb.Cleanup(k.FakeSrv.Close)
	return k
}

// Sender is a sender of the fake API at rate messages per second.
func (k *Kit) Sender(id string, rate float64) *sender.Sender {
	s := &sender.Sender{ID: id, Provider: mmapi.Provider360, BaseURL: k.FakeSrv.URL, Rate: rate, Burst: sender.DefaultBurst(rate)}
	s.SetKey(APIKey)
	return s
}

// Status is a campaign's status.
func (k *Kit) Status(tb testing.TB, id string) *campaign.Status {
	tb.Helper()
	st, err := k.Store.Campaigns.Status(k.Ctx, id)
	require.NoError(tb, err)
	return st
}

// Results reads every mmlite:result task waiting on the results queue,
// sorted by recipient.
func (k *Kit) Results(tb testing.TB) []task.Result {
	tb.Helper()
	out := Pending[task.Result](tb, k.Inspector, k.R.Results, task.TypeResult)
	sort.Slice(out, func(i, j int) bool { return out[i].To < out[j].To })
	return out
}

// Pending decodes the payloads of the tasks of type typ waiting on queue,
// in the queue's order; none when the queue does not exist yet.
func Pending[T any](tb testing.TB, in *asynq.Inspector, queue, typ string) []T {
	tb.Helper()
	var out []T
	for page := 1; ; page++ {
		infos, err := in.ListPendingTasks(queue, asynq.PageSize(500), asynq.Page(page))
		if err != nil {
			break // the queue does not exist yet
		}
		for _, ti := range infos {
			if ti.Type != typ {
				continue
			}
			var v T
			require.NoError(tb, json.Unmarshal(ti.Payload, &v))
			out = append(out, v)
		}
		if len(infos) < 500 {
			break
		}
	}
	return out
}

// WaitResults waits until at least n results are on the results queue.
func (k *Kit) WaitResults(tb testing.TB, n int, within time.Duration) []task.Result {
	tb.Helper()
	var got []task.Result
	require.Eventually(tb, func() bool {
		got = k.Results(tb)
		return len(got) >= n
	}, within, 20*time.Millisecond, "want %d results", n)
	return got
}

// To is the i-th test recipient.
func To(i int) string { return fmt.Sprintf("4477009%05d", i) }

// Recipients are n test recipients.
func Recipients(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = To(i)
	}
	return out
}
