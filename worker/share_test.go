package worker_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// A sender whose API does not answer holds at most its share of a
// worker's slots: another sender's campaign, queued behind all of its
// jobs, is sent meanwhile. (Before, every slot waited on the silent API,
// until the HTTP timeout, and the other campaign with them.)
func TestWorker_SilentSenderLeavesSlotsToTheOthers(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	release := make(chan struct{})
	var calls atomic.Int64
	silent := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(silent.Close)

	cfg := b.config()
	slow := &sender.Sender{ID: "slow", Provider: mmapi.Provider360, BaseURL: silent.URL, Rate: 10000, Burst: 1000}
	slow.SetKey(testKey)
	cfg.Senders = []*sender.Sender{b.Sender("fast", 10000), slow}
	cfg.Concurrency, cfg.Dequeuers = 8, 2
	cfg.HTTPTimeout, cfg.ShutdownTimeout = time.Minute, 70*time.Second // the silent API holds its calls for good

	s := b.register(t, campaign.Campaign{ID: "silent-sender", Sender: "slow"})
	f := b.register(t, campaign.Campaign{ID: "fast-sender", Sender: "fast"})
	b.enqueue(t, sendsFrom(s, testkit.Recipients(40))...)
	b.enqueue(t, sendsFrom(f, testkit.Recipients(10))...)
	b.start(t, cfg)
	t.Cleanup(func() { close(release) }) // before the worker's shutdown

	results := b.WaitResults(t, 10, 30*time.Second)
	for _, r := range results {
		require.Equal(t, f.ID, r.CampaignID)
		require.Equal(t, task.StatusSent, r.Status)
	}
	require.Less(t, calls.Load(), int64(8), "the silent sender holds fewer than all the slots")
	require.Eventually(t, func() bool { return b.Status(t, f.ID).State == campaign.StateCompleted }, 30*time.Second, 20*time.Millisecond)
}

// sendsFrom are the campaign's jobs, naming its sender.
func sendsFrom(c *campaign.Campaign, tos []string) []task.Send {
	out := sends(c.ID, tos)
	for i := range out {
		out[i].Sender = c.Sender
	}
	return out
}
