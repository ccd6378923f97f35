package e2e_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/producer"
	"github.com/mmlite/mmlite/worker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

const (
	apiKey     = testkit.APIKey
	apiToken   = "e2e-token"
	hookSecret = "e2e-hook"
)

// fleet is one mmlite installation: the test kit (Redis, the fake API), the
// api and its producer; workers are started by the tests.
type fleet struct {
	*testkit.Kit
	api *httptest.Server
	p   *producer.Producer
}

func newFleet(t testing.TB, fc fakeapi.Config) *fleet {
	t.Helper()
	return newFleetOn(t, redistest.New(t), fc)
}

// newFleetOn is newFleet on a given Redis; edit, when given, changes the
// producer's (and so the api's) configuration.
func newFleetOn(t testing.TB, r *redistest.Redis, fc fakeapi.Config, edit ...func(*producer.Config)) *fleet {
	t.Helper()
	f := &fleet{Kit: testkit.NewOn(t, r, fc)}
	pc := producer.Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results, CancelWait: 10 * time.Second}
	for _, e := range edit {
		e(&pc)
	}
	var err error
	f.p, err = producer.New(pc)
	require.NoError(t, err)
	api, err := httpapi.New(httpapi.Config{Producer: f.p, Token: apiToken, WebhookSecret: hookSecret, ResultsQueue: r.Results,
		Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	f.api = httptest.NewServer(api.Handler())
	t.Cleanup(f.api.Close)
	return f
}

// workerConfig is a fast worker for the fleet's fake API.
func (f *fleet) workerConfig(rate float64) worker.Config {
	s := f.Sender("default", rate)
	s.PhoneNumberID, s.WABAID = "106540352242922", "102290129340398"
	return worker.Config{Redis: f.R.Opt, Queue: f.R.Queue, ResultsQueue: f.R.Results, Senders: []*sender.Sender{s},
		Concurrency: 20, HTTPTimeout: 2 * time.Second, ShutdownTimeout: 5 * time.Second, MaxWait: 500 * time.Millisecond,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, ForwardInterval: 100 * time.Millisecond}
}

func (f *fleet) startWorker(t testing.TB, cfg worker.Config) *worker.Worker {
	t.Helper()
	w, err := worker.New(cfg)
	require.NoError(t, err)
	require.NoError(t, w.Start(f.Ctx))
	t.Cleanup(w.Shutdown)
	return w
}

// submit registers a campaign of sender "default" and enqueues n recipients.
func (f *fleet) submit(t *testing.T, id string, n int) []string {
	t.Helper()
	return f.submitFor(t, id, "default", n)
}

// submitFor registers a campaign of a sender and enqueues n recipients.
func (f *fleet) submitFor(t testing.TB, id, senderID string, n int) []string {
	t.Helper()
	c := &campaign.Campaign{ID: id, Sender: senderID, Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := f.p.Register(f.Ctx, c)
	require.NoError(t, err)
	tos := make([]string, n)
	var csv strings.Builder
	csv.WriteString("to\n")
	for i := range tos {
		tos[i] = fmt.Sprintf("4477009%05d", i)
		csv.WriteString(tos[i] + "\n")
	}
	sum, err := f.p.Enqueue(f.Ctx, c, producer.NewCSVSource(strings.NewReader(csv.String())), producer.Options{})
	require.NoError(t, err)
	require.EqualValues(t, n, sum.Accepted)
	_, err = f.p.Seal(f.Ctx, id)
	require.NoError(t, err)
	return tos
}

// call does an authenticated API request and decodes a status answer.
func (f *fleet) call(t *testing.T, method, path string) (int, *campaign.Status) {
	t.Helper()
	req, err := http.NewRequest(method, f.api.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var st campaign.Status
	_ = json.Unmarshal(b, &st)
	return resp.StatusCode, &st
}

// waitState waits for a campaign's state (and, for a final state, its end).
func (f *fleet) waitState(t testing.TB, id string, state campaign.State, within time.Duration) *campaign.Status {
	t.Helper()
	var st *campaign.Status
	require.Eventually(t, func() bool {
		st = f.Status(t, id)
		return st.State == state && (state != campaign.StateCancelled || st.FinishedAt != nil)
	}, within, 20*time.Millisecond, "campaign %s never reached %s", id, state)
	return st
}

func (f *fleet) accepted() int64 { return f.Fake.Stats().Accepted }

// waitNoneInFlight waits until no send of campaign id is in flight: every
// recipient a worker claimed (a C| marker in the ledger) has settled. After a
// pause no claim succeeds (Claim checks the state in the same script), so
// from then on not one POST may start, however long the last sends took.
func (f *fleet) waitNoneInFlight(t testing.TB, id string) {
	t.Helper()
	require.Eventually(t, func() bool {
		markers, err := f.R.Client.HGetAll(f.Ctx, f.R.Keys.Ledger(id)).Result()
		if err != nil {
			return false
		}
		for _, m := range markers {
			if strings.HasPrefix(m, "C|") {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "sends of %s still in flight", id)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// publish tells producers the senders' rates, as a starting worker does.
func (f *fleet) publish(t testing.TB, ss ...*sender.Sender) {
	t.Helper()
	require.NoError(t, registry.New(f.R.Client, f.R.Keys).Publish(f.Ctx, ss))
}

// histogramCount sums the sample counts of a histogram in a registry.
func histogramCount(t testing.TB, g prometheus.Gatherer, name string) uint64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	var n uint64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				n += m.GetHistogram().GetSampleCount()
			}
		}
	}
	return n
}

// slowAndFast is a worker for two senders of the fleet's fake API: "slow"
// at 5/s and "fast" at 200/s.
func (f *fleet) slowAndFast(concurrency int) worker.Config {
	cfg := f.workerConfig(5)
	cfg.Senders[0].ID = "slow"
	fast := &sender.Sender{ID: "fast", Provider: mmapi.Provider360, BaseURL: f.FakeSrv.URL, Rate: 200, Burst: 20}
	fast.SetKey(apiKey)
	cfg.Senders = append(cfg.Senders, fast)
	cfg.Concurrency = concurrency
	return cfg
}

// isolate runs one worker for senders "slow" and "fast" (see slowAndFast),
// enqueues slowN recipients of the slow one, then fastN of the fast one, and
// returns how long the fast campaign took and where the slow one stands.
func (f *fleet) isolate(tb testing.TB, concurrency, slowN, fastN int, within time.Duration) (time.Duration, *campaign.Status) {
	tb.Helper()
	f.startWorker(tb, f.slowAndFast(concurrency))
	f.submitFor(tb, "slow-campaign", "slow", slowN)
	start := time.Now()
	f.submitFor(tb, "fast-campaign", "fast", fastN)
	f.waitState(tb, "fast-campaign", campaign.StateCompleted, within)
	return time.Since(start), f.Status(tb, "slow-campaign")
}

// pauseQuietly pauses a campaign once the fake API accepted at least after
// of its sends, and checks that no send starts for hold once the sends
// claimed before the pause have finished. It returns the pause's answer and
// the sends accepted at the pause.
func (f *fleet) pauseQuietly(t *testing.T, id string, after int64, hold time.Duration) (*campaign.Status, int64) {
	t.Helper()
	require.Eventually(t, func() bool { return f.accepted() >= after }, 30*time.Second, 10*time.Millisecond)
	code, st := f.call(t, "POST", "/v1/campaigns/"+id+"/pause")
	require.Equal(t, 200, code)
	require.Equal(t, campaign.StatePaused, st.State)
	f.waitNoneInFlight(t, id) // sends claimed before the pause finish; none may start after this
	atPause := f.accepted()
	time.Sleep(hold)
	require.Equal(t, atPause, f.accepted(), "no send starts while the campaign is paused")
	return st, atPause
}

// resumeToCompletion resumes a paused campaign and waits until it completed
// with exactly one send per recipient. It returns the resume's answer and
// the final status.
func (f *fleet) resumeToCompletion(t *testing.T, id string, tos []string) (resumed, done *campaign.Status) {
	t.Helper()
	code, resumed := f.call(t, "POST", "/v1/campaigns/"+id+"/resume")
	require.Equal(t, 200, code)
	done = f.waitState(t, id, campaign.StateCompleted, 60*time.Second)
	require.EqualValues(t, len(tos), done.Counts.Sent)
	for _, to := range tos {
		require.Equal(t, 1, f.Fake.Sends(to), "exactly one send for %s", to)
	}
	return resumed, done
}
