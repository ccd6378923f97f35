package e2e_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// kill -9 of one of two `mmlite worker` processes with MMLITE_RESULTS_URL
// set, in the middle of a campaign, then a worker started again: every
// recipient's result reaches the callback URL, signed, under one
// idempotency key (its result task's id), with the result task's payload.
func TestCallbacks_OnePerRecipientAfterWorkerKill(t *testing.T) {
	t.Parallel()
	bin := buildMMLite(t)
	srv := redistest.StartPersistent(t)
	f := newFleetOn(t, redistest.NewURL(t, srv.URL), fakeapi.Config{Latency: fakeapi.Duration(300 * time.Millisecond)})
	rc := newReceiver(t, "cb-secret", "Idempotency-Key", "application/json", 0)
	env := []string{"MMLITE_RESULTS_URL=" + rc.URL + "/mmlite/results", "MMLITE_RESULTS_SECRET=cb-secret"}
	f.publish(t, f.workerConfig(100).Senders...)
	var out1, out2, out3 redistest.SyncBuffer
	victim := f.workerProcess(t, bin, &out1, env...)
	f.workerProcess(t, bin, &out2, env...)
	tos := f.submit(t, "c1", 600)

	require.Eventually(t, func() bool { return f.accepted() >= 200 }, 60*time.Second, 10*time.Millisecond,
		"the workers never sent:\n%s\n%s", &out1, &out2)
	require.NoError(t, victim.Process.Kill())
	_ = victim.Wait()
	killed := time.Now()
	f.workerProcess(t, bin, &out3, env...) // the victim's replacement

	waitAllResults(t, f, len(tos), killed)
	unknown := checkOneResultEach(t, f, "c1", tos)
	results := map[string]task.Result{}
	for _, r := range f.Results(t) {
		results[task.ResultID(r.CampaignID, r.To)] = r
	}
	var byKey map[string][][]byte
	deadline := time.Now().Add(recoveryBound + time.Minute)
	for {
		accepted, _, bad := rc.snapshot()
		require.Empty(t, bad, "every callback is signed and carries its idempotency key")
		byKey = map[string][][]byte{}
		for k, bs := range accepted {
			if _, ok := results[k]; ok {
				byKey[k] = bs
			}
		}
		if len(byKey) == len(tos) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	require.Len(t, byKey, len(tos), "one callback per recipient:\n%s", &out3)
	dups := 0
	for k, bs := range byKey {
		var got task.Result
		require.NoError(t, json.Unmarshal(bs[0], &got))
		require.Equal(t, results[k].Status, got.Status, k)
		require.Equal(t, results[k].To, got.To, k)
		for _, b := range bs[1:] {
			require.True(t, bytes.Equal(bs[0], b), "a callback sent again is the same")
			dups++
		}
	}
	accepted, _, _ := rc.snapshot()
	others := []string{}
	for k := range accepted {
		if _, ok := results[k]; !ok {
			others = append(others, k)
		}
	}
	t.Logf("%d callbacks for %d recipients (%d unknown), %d POSTed again after the kill; other callbacks: %s",
		len(byKey), len(tos), unknown, dups, strings.Join(others, ", "))
}

// With MMLITE_RESULTS_URL set and MMLITE_RESULTS_QUEUE="", every result,
// status event (from the provider's webhooks) and campaign event reaches
// the callback URL (a campaign's callback_url, for its own), with its
// task's payload and id, and nothing piles up on the results queue.
func TestCallbacks_EveryEventWithoutResultsQueue(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	cbQueue := r.Queue + "-callbacks"
	f := newFleetOn(t, r, fakeapi.Config{}, func(c *producer.Config) {
		c.CallbackQueue, c.NoResultsQueue, c.CallbackHosts = cbQueue, true, safeurl.Hosts{"127.0.0.1"}
	})
	read := 1.0
	require.NoError(t, f.Fake.SetConfig(fakeapi.Config{Keys: []string{apiKey}, WebhookURL: f.api.URL + "/webhooks/whatsapp",
		WebhookSecret: hookSecret, WebhookDelay: fakeapi.Duration(10 * time.Millisecond), ReadShare: &read, Seed: 3}))
	f.Fake.Start(f.Ctx)
	t.Cleanup(f.Fake.Close)

	rc := newReceiver(t, "cb-secret", "Idempotency-Key", "application/json", 1)
	own := newReceiver(t, "cb-secret", "Idempotency-Key", "application/json", 0) // campaign c2's callback_url
	out, err := outbound.NewServer(r.Client, outbound.Config{Callbacks: outbound.NewCallbacks(rc.URL, "cb-secret"), CallbackQueue: cbQueue, CallbackURL: f.Store.Campaigns.CallbackURL,
		CallbackHosts: safeurl.Hosts{"127.0.0.1"},
		RetryBase:     20 * time.Millisecond, RetryMax: 50 * time.Millisecond, ForwardInterval: 50 * time.Millisecond, Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	require.NoError(t, out.Start())
	t.Cleanup(out.Shutdown)
	t.Cleanup(func() { _ = f.Inspector.DeleteQueue(cbQueue, true) })

	cfg := f.workerConfig(500)
	cfg.CallbackQueue, cfg.NoResultsQueue = cbQueue, true
	f.startWorker(t, cfg)
	tos := f.submit(t, "c1", 20)
	c2 := &campaign.Campaign{ID: "c2", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}},
		CallbackURL: own.URL + "/c2"}
	_, err = f.p.Register(f.Ctx, c2)
	require.NoError(t, err)
	_, err = f.p.Enqueue(f.Ctx, c2, producer.NewCSVSource(strings.NewReader("to\n447700900001\n447700900002\n")), producer.Options{})
	require.NoError(t, err)
	_, err = f.p.Seal(f.Ctx, "c2")
	require.NoError(t, err)
	f.waitState(t, "c1", campaign.StateCompleted, 30*time.Second)
	f.waitState(t, "c2", campaign.StateCompleted, 30*time.Second)

	// Per recipient: its result, and its message's sent, delivered and read.
	require.Eventually(t, func() bool {
		accepted, _, _ := rc.snapshot()
		n := map[string]int{}
		for k := range accepted {
			n[strings.SplitN(k, ":", 2)[0]]++
		}
		return n["c1"] == len(tos) && n["status"] == 3*len(tos) && n["campaign"] == 1
	}, 30*time.Second, 20*time.Millisecond)
	// c2's go to its own callback_url: 2 results, 6 statuses, 1 event.
	require.Eventually(t, func() bool { a, _, _ := own.snapshot(); return len(a) == 2+3*2+1 }, 30*time.Second, 20*time.Millisecond)
	accepted, attempts, bad := rc.snapshot()
	require.Empty(t, bad)
	for k, bs := range accepted {
		require.NotContains(t, string(bs[0]), `"c2"`, "c2's callbacks go to its callback_url only")
		require.Len(t, bs, 1, k)
		require.Equal(t, 2, attempts[k], "%s: refused once, then accepted under the same key", k)
		if strings.HasPrefix(k, "campaign:") {
			var ev task.CampaignEvent
			require.NoError(t, json.Unmarshal(bs[0], &ev))
			require.Equal(t, "completed", ev.State, k)
		}
	}
	require.Empty(t, f.Results(t), "the results queue is off")
}
