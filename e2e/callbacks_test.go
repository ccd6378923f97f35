package e2e_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
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
