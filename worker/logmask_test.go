package worker_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/stretchr/testify/require"
)

// An answer that echoes the recipient (a success without a message id,
// here) becomes the error's title, which the log line of the send carries:
// the number is masked there as everywhere (found in review).
func TestWorker_AnswerTitlesAreMaskedInLogs(t *testing.T) {
	t.Parallel()
	to := testkit.To(7)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":"%s","wa_id":"%s"}],"messages":[]}`, to, to)
	}))
	defer api.Close()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	cfg := b.config()
	var logs redistest.SyncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	cfg.Senders[0].BaseURL = api.URL
	b.enqueue(t, task.Send{Campaign: c.ID, To: to})
	b.start(t, cfg)
	r := b.WaitResults(t, 1, 10*time.Second)
	require.Equal(t, task.StatusUnknown, r[0].Status)
	// The line is written once the outcome is settled, after its result.
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "send finished") }, 10*time.Second, 10*time.Millisecond)
	require.NotContains(t, logs.String(), to, "phone numbers are masked in logs")
}

// A transient answer's Retry-After is honoured: the retry waits for it,
// not only for the backoff (found in review: retried after 20 ms).
func TestWorker_TransientHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":{"message":"(#2) Service temporarily unavailable","code":2}}`))
			return
		}
		_, _ = w.Write([]byte(`{"messaging_product":"whatsapp","messages":[{"id":"wamid.ok"}]}`))
	}))
	defer api.Close()
	b := setup(t, fakeapi.Config{})
	c := b.register(t, campaign.Campaign{})
	cfg := b.config()
	cfg.Senders[0].BaseURL = api.URL
	b.enqueue(t, task.Send{Campaign: c.ID, To: testkit.To(1)})
	b.start(t, cfg)
	require.Eventually(t, func() bool { return calls.Load() >= 1 }, 10*time.Second, 10*time.Millisecond)
	time.Sleep(1500 * time.Millisecond) // the backoff alone is at most 200 ms here
	require.EqualValues(t, 1, calls.Load(), "called again before its Retry-After")
	r := b.WaitResults(t, 1, 20*time.Second)
	require.Equal(t, task.StatusSent, r[0].Status)
}

// A sender whose base_url is plain http:// on a host other than loopback
// (a typo for https, or a proxy) sends its API key in clear text with
// every message: the worker says so at start, naming the sender and the
// host, never the key. One on loopback (a sidecar, tests) is left alone.
func TestWorker_ClearTextBaseURLIsWarnedOf(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	var logs redistest.SyncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	b.start(t, cfg) // the fake API: http:// on 127.0.0.1
	require.NotContains(t, logs.String(), "clear text")

	cfg = b.config()
	logs = redistest.SyncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	cfg.Senders[0].BaseURL = "http://waba-v2.360dialog.io"
	b.start(t, cfg)
	require.Contains(t, logs.String(), `"msg":"sender's base_url is plain http:// on a host other than loopback: its API key travels in clear text with every message"`)
	require.Contains(t, logs.String(), `"host":"waba-v2.360dialog.io"`)
	require.Contains(t, logs.String(), `"sender":"`+cfg.Senders[0].ID+`"`)
}

// With MMLITE_RESULTS_QUEUE="" (callbacks only) the worker writes nothing
// to the results queue, and its start line says so: it named the default
// queue, as if results still went there (found in acceptance).
func TestWorker_StartLineSaysResultsQueueOff(t *testing.T) {
	t.Parallel()
	b := setup(t, fakeapi.Config{})
	cfg := b.config()
	cfg.CallbackQueue, cfg.NoResultsQueue = b.R.Queue+"-callbacks", true
	var logs redistest.SyncBuffer
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	b.start(t, cfg)
	var started map[string]any
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, `"msg":"worker started"`) {
			require.NoError(t, json.Unmarshal([]byte(line), &started))
		}
	}
	require.NotNil(t, started, "no start line in %s", logs.String())
	require.Equal(t, "", started["results_queue"], "the results queue is off")
	require.Equal(t, cfg.CallbackQueue, started["callback_queue"])
}
