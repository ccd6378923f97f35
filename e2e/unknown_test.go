package e2e_test

import (
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/worker"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// hooksTo makes the fleet's fake API post its status webhooks to the api.
func (f *fleet) hooksTo(t *testing.T, fc fakeapi.Config) {
	t.Helper()
	fc.Keys, fc.WebhookURL, fc.WebhookSecret = []string{apiKey}, f.api.URL+"/webhooks/whatsapp", hookSecret
	if fc.WebhookDelay == 0 {
		fc.WebhookDelay = fakeapi.Duration(50 * time.Millisecond)
	}
	require.NoError(t, f.Fake.SetConfig(fc))
	f.Fake.Start(f.Ctx)
	t.Cleanup(f.Fake.Close)
}

// ticking makes the keys of an embedded Redis expire as time passes, as a
// real server's do (miniredis's clock moves only when told): the workers'
// housekeeping runs every round, its lock expiring in between.
func (f *fleet) ticking(t *testing.T) {
	t.Helper()
	if f.R.Mini == nil {
		return
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				f.R.Mini.FastForward(50 * time.Millisecond)
			}
		}
	}()
}

// matcher is a worker that matches unknown outcomes soon after their
// attempt, with a registry of its own.
func (f *fleet) matcher(rate float64) (worker.Config, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	cfg := f.workerConfig(rate)
	cfg.UnknownGrace, cfg.HousekeepingInterval, cfg.Registerer = time.Second, 200*time.Millisecond, reg
	return cfg, reg
}

// statusEvents reads the mmlite:status tasks on the results queue.
func (f *fleet) statusEvents(t testing.TB) []task.StatusEvent {
	t.Helper()
	return testkit.Pending[task.StatusEvent](t, f.Inspector, f.R.Results, task.TypeStatus)
}

// Issue 14: kill -9 of a worker mid-campaign leaves recipients unknown
// although the API accepted them; the provider's status webhooks, which
// came meanwhile, resolve every one of them to sent: the counts move from
// unknown to sent, an mmlite:status event "sent" (resolved) says so for
// each, and their later statuses are counted as usual.
func TestWorkerKill9_UnknownOutcomesResolvedByWebhooks(t *testing.T) {
	t.Parallel()
	bin := buildMMLite(t)
	srv := redistest.StartPersistent(t)
	f := newFleetOn(t, redistest.NewURL(t, srv.URL), fakeapi.Config{})
	// The webhooks of a message come after its answer: a status for a
	// message whose answer is on its way is another matter.
	f.hooksTo(t, fakeapi.Config{Latency: fakeapi.Duration(300 * time.Millisecond), WebhookDelay: fakeapi.Duration(600 * time.Millisecond)})
	cfg, reg := f.matcher(100)
	f.publish(t, cfg.Senders...)
	var out1 redistest.SyncBuffer
	victim := f.workerProcess(t, bin, &out1)
	tos := f.submit(t, "c1", 400)
	require.Eventually(t, func() bool { return f.accepted() >= 100 }, 60*time.Second, 10*time.Millisecond,
		"the worker never sent:\n%s", &out1)
	require.NoError(t, victim.Process.Kill())
	_ = victim.Wait()
	f.startWorker(t, cfg) // takes over the dead worker's jobs once their lease ends

	waitAllResults(t, f, len(tos), time.Now())
	// An unknown recipient was claimed by the dead worker: its message was
	// accepted (the kill cut off the answer), or never sent (the kill came
	// before the POST). Only the first kind has webhooks.
	unknown, notSent := 0, 0
	for _, r := range f.Results(t) {
		if r.Status == task.StatusUnknown {
			unknown++
			if f.Fake.Sends(r.To) == 0 {
				notSent++
			}
		}
	}
	accepted := unknown - notSent
	require.Positive(t, accepted, "sends were in flight in the killed worker:\n%s", &out1)
	t.Logf("%d recipients unknown after the kill: %d accepted by the API, %d never sent", unknown, accepted, notSent)

	// A round of matching commits its resolutions in Redis, then counts and
	// emits them one by one: the counts can be read before the round ends.
	var st *campaign.Status
	var resolvedEvents []task.StatusEvent
	require.Eventually(t, func() bool {
		st = f.Status(t, "c1")
		resolvedEvents = resolvedEvents[:0]
		for _, ev := range f.statusEvents(t) {
			if ev.Resolved {
				resolvedEvents = append(resolvedEvents, ev)
			}
		}
		return st.Counts.Unknown == int64(notSent) && len(resolvedEvents) >= accepted &&
			testkit.Counters(t, reg, "mmlite_unknown_outcomes_total")["resolved"] >= float64(accepted)
	}, 30*time.Second, 100*time.Millisecond, "every unknown outcome whose message was accepted is resolved")
	require.EqualValues(t, len(tos)-notSent, st.Counts.Sent)
	require.Equal(t, f.accepted(), st.Counts.Sent, "sent exactly when the API accepted it")
	require.Equal(t, float64(accepted), testkit.Counters(t, reg, "mmlite_unknown_outcomes_total")["resolved"])
	require.Zero(t, f.Fake.Stats().Duplicates, "no recipient was sent twice")

	for _, ev := range resolvedEvents {
		require.Equal(t, "c1", ev.CampaignID)
		require.Equal(t, task.StatusSent, ev.Status)
		require.NotEmpty(t, ev.WAMID)
		a := f.do(t, "GET", "/v1/campaigns/c1/recipients/"+ev.To, "")
		require.Contains(t, a.raw, `"status":"sent"`)
		require.Contains(t, a.raw, ev.WAMID)
		require.Contains(t, a.raw, `"resolved_at"`)
	}
	require.Len(t, resolvedEvents, accepted, "one resolved event per resolved outcome")
	require.Eventually(t, func() bool { return f.Status(t, "c1").Counts.Delivered == f.accepted() }, 30*time.Second,
		100*time.Millisecond, "every message's delivered status counts, those that came before the resolution too")
}

// Two unknown attempts to the same recipient from the same number (two
// campaigns, each timing out after the API accepted its message) are never
// told apart: both stay unknown, however many webhooks come. An unknown
// attempt alone, to another recipient, is resolved.
func TestUnknownOutcomes_TwoAttemptsToOneRecipientStayUnknown(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	f.ticking(t)
	// The API accepts each message, then answers after the worker gave up.
	f.hooksTo(t, fakeapi.Config{Latency: fakeapi.Duration(time.Second)})
	cfg, reg := f.matcher(100)
	cfg.HTTPTimeout = 300 * time.Millisecond
	f.startWorker(t, cfg)
	shared := []string{"447700900001", "447700900002", "447700900003"}
	f.register(t, &campaign.Campaign{ID: "a"}, rows(shared...), true)
	f.register(t, &campaign.Campaign{ID: "b"}, rows(shared...), true)
	f.register(t, &campaign.Campaign{ID: "alone"}, rows("447700900009"), true)
	for _, id := range []string{"a", "b", "alone"} {
		f.waitState(t, id, campaign.StateCompleted, 30*time.Second)
	}
	require.Eventually(t, func() bool {
		m := testkit.Counters(t, reg, "mmlite_unknown_outcomes_total") // counted after the round's counts move in Redis
		return f.Status(t, "alone").Counts.Sent == 1 && m["ambiguous"] == 6 && m["resolved"] == 1
	}, 30*time.Second, 100*time.Millisecond, "%v", testkit.Counters(t, reg, "mmlite_unknown_outcomes_total"))
	time.Sleep(time.Second) // more housekeeping rounds, and every webhook, change nothing
	for _, id := range []string{"a", "b"} {
		st := f.Status(t, id)
		require.EqualValues(t, 3, st.Counts.Unknown, "campaign %s", id)
		require.Zero(t, st.Counts.Sent, "campaign %s", id)
	}
	for _, to := range shared {
		require.Equal(t, 2, f.Fake.Sends(to), "both campaigns' messages were accepted")
	}
	require.Equal(t, map[string]float64{"resolved": 1, "ambiguous": 6, "expired": 0}, testkit.Counters(t, reg, "mmlite_unknown_outcomes_total"))
}

// Status webhooks that beat the API's answer to the worker (Meta may post
// "sent" before the response is read) are counted and emitted once each,
// like any other: the settle that records the send takes them, and the
// housekeeping replays them.
func TestStatusesBeforeTheAnswerAreCountedOnce(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	all := 1.0
	f.hooksTo(t, fakeapi.Config{Latency: fakeapi.Duration(400 * time.Millisecond), WebhookDelay: fakeapi.Duration(5 * time.Millisecond),
		ReadShare: &all})
	f.ticking(t)
	cfg, _ := f.matcher(500)
	f.startWorker(t, cfg)
	tos := f.submit(t, "c1", 20)
	f.waitState(t, "c1", campaign.StateCompleted, 30*time.Second)

	var seen map[string]int
	require.Eventually(t, func() bool {
		c := f.Status(t, "c1").Counts
		seen = map[string]int{}
		for _, ev := range f.statusEvents(t) {
			seen[ev.WAMID+" "+ev.Status]++
		}
		return c.Delivered == int64(len(tos)) && c.Read == int64(len(tos)) && len(seen) == 3*len(tos)
	}, 30*time.Second, 100*time.Millisecond, "every status counted and emitted (a read before its delivered leaves it no event)")
	for k, n := range seen {
		require.Equal(t, 1, n, "emitted once: %s", k)
	}
	c := f.Status(t, "c1").Counts
	require.EqualValues(t, len(tos), c.Sent)
	require.Zero(t, c.Unknown)
	require.Zero(t, f.Fake.Stats().WebhookErrors)
}
