package fakeapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const (
	testSecret    = "s3cret"
	testAppSecret = "app-secret"
	waitFor       = 30 * time.Second // generous: Eventually returns as soon as it holds
	tick          = 10 * time.Millisecond
)

// receiver is a webhook endpoint that records what it gets.
type receiver struct {
	srv   *httptest.Server
	fail  atomic.Int64 // answer 500 to this many more POSTs
	mu    sync.Mutex
	posts []post
}

type post struct {
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if rc.fail.Add(-1) >= 0 {
			http.Error(w, "nope", http.StatusInternalServerError)
			return
		}
		rc.mu.Lock()
		rc.posts = append(rc.posts, post{header: r.Header.Clone(), body: b})
		rc.mu.Unlock()
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) got() []post {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]post(nil), rc.posts...)
}

// statuses decodes every status received, in order.
func (rc *receiver) statuses(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, p := range rc.got() {
		var v whPayload
		require.NoError(t, json.Unmarshal(p.body, &v))
		m := decode(t, p.body).(map[string]any)
		for _, s := range m["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)["statuses"].([]any) {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func webhookConfig(rc *receiver) Config {
	return Config{
		WebhookURL:    rc.srv.URL + "/hook",
		WebhookSecret: testSecret,
		AppSecret:     testAppSecret,
		WebhookDelay:  Duration(10 * time.Millisecond),
		ReadShare:     ptr(1.0),
	}
}

func started(t *testing.T, cfg Config) *fake {
	t.Helper()
	f := newFake(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	f.Start(ctx)
	return f
}

func wamidOf(t *testing.T, r reply) string {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var resp sendResponse
	require.NoError(t, json.Unmarshal(r.body, &resp))
	return resp.Messages[0].ID
}

func TestWebhooksSentDeliveredRead(t *testing.T) {
	rc := newReceiver(t)
	f := started(t, webhookConfig(rc))
	want := map[string]string{} // wamid -> to
	for _, to := range []string{"441234567890", "441234567891", "441234567892"} {
		want[wamidOf(t, f.send360(t, testKey, body(t, to, nil)))] = to
	}
	require.Eventually(t, func() bool { return len(rc.statuses(t)) >= 9 }, waitFor, tick)

	for _, p := range rc.got() {
		require.Equal(t, "application/json", p.header.Get("Content-Type"))
		require.Equal(t, testSecret, p.header.Get("X-Webhook-Secret"))
		m := hmac.New(sha256.New, []byte(testAppSecret))
		m.Write(p.body)
		require.Equal(t, "sha256="+hex.EncodeToString(m.Sum(nil)), p.header.Get("X-Hub-Signature-256"))

		// The envelope matches the fixture, apart from the statuses.
		got := decode(t, p.body).(map[string]any)
		fix := decode(t, fixture(t, "webhook_status_sent.json")).(map[string]any)
		valueOf(got)["statuses"], valueOf(fix)["statuses"] = nil, nil
		require.Equal(t, fix, got)
	}

	sentFix := statusesOf(decode(t, fixture(t, "webhook_status_sent.json")))[0]
	batchFix := statusesOf(decode(t, fixture(t, "webhook_status_delivered_read_batch.json")))
	// conversation is dropped from v24 on, and the sent fixture still shows
	// the old CBP pricing: PMP pricing carries "type" as in the batch fixture.
	delete(sentFix, "conversation")
	sentFix["pricing"] = batchFix[0]["pricing"]
	fixShape := map[string]any{"sent": shape(sentFix), "delivered": shape(batchFix[0]), "read": shape(batchFix[1])}

	seq := map[string][]string{}
	for _, s := range rc.statuses(t) {
		id := s["id"].(string)
		require.Contains(t, want, id)
		require.Equal(t, want[id], s["recipient_id"])
		status := s["status"].(string)
		require.Equal(t, fixShape[status], shape(s), status)
		if status != "read" {
			require.Equal(t, map[string]any{"billable": true, "pricing_model": "PMP", "type": "regular", "category": "marketing_lite"}, s["pricing"])
		}
		seq[id] = append(seq[id], status)
	}
	for id := range want {
		require.Equal(t, []string{"sent", "delivered", "read"}, seq[id])
	}
	require.Eventually(t, func() bool { return f.Stats().StatusesPosted == 9 }, waitFor, tick)
	require.Zero(t, f.Stats().WebhookErrors)
}

func valueOf(v any) map[string]any {
	return v.(map[string]any)["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)
}

func statusesOf(v any) []map[string]any {
	var out []map[string]any
	for _, s := range valueOf(v)["statuses"].([]any) {
		out = append(out, s.(map[string]any))
	}
	return out
}

func TestWebhookShares(t *testing.T) {
	tests := []struct {
		name      string
		delivered *float64
		read      *float64
		category  string
		want      []string
	}{
		{name: "sent only", delivered: ptr(0.0), want: []string{"sent"}},
		{name: "no reads", read: ptr(0.0), want: []string{"sent", "delivered"}},
		{name: "fallback category", read: ptr(0.0), category: "marketing", want: []string{"sent", "delivered"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newReceiver(t)
			cfg := webhookConfig(rc)
			cfg.DeliveredShare, cfg.ReadShare, cfg.PricingCategory = tc.delivered, tc.read, tc.category
			f := started(t, cfg)
			for _, to := range []string{"441234567890", "441234567891"} {
				wamidOf(t, f.sendMeta(t, testKey, body(t, to, nil)))
			}
			n := 2 * len(tc.want)
			require.Eventually(t, func() bool { return len(rc.statuses(t)) >= n }, waitFor, tick)
			time.Sleep(300 * time.Millisecond) // nothing more comes
			statuses := rc.statuses(t)
			require.Len(t, statuses, n)
			category := tc.category
			if category == "" {
				category = "marketing_lite"
			}
			for _, s := range statuses {
				require.Contains(t, tc.want, s["status"])
				require.Equal(t, category, s["pricing"].(map[string]any)["category"])
			}
		})
	}
}

func TestWebhooksBatched(t *testing.T) {
	rc := newReceiver(t)
	f := newFake(t, webhookConfig(rc))
	evs := make([]event, 150)
	now := time.Now()
	for i := range evs {
		evs[i] = event{due: now, wamid: "wamid.x", to: "441234567890", status: "sent", category: "marketing_lite"}
	}
	require.True(t, f.queue.push(evs))
	f.Start(context.Background())
	require.Eventually(t, func() bool { return len(rc.got()) == 2 }, waitFor, tick)
	require.Len(t, statusesOf(decode(t, rc.got()[0].body)), 100)
	require.Len(t, statusesOf(decode(t, rc.got()[1].body)), 50)
	// counted once the receiver's answer is read, just after it got the body
	require.Eventually(t, func() bool { return f.Stats().WebhooksPosted == 2 }, waitFor, tick)
}

func TestWebhookRetriesAndErrors(t *testing.T) {
	rc := newReceiver(t)
	rc.fail.Store(2)
	f := started(t, webhookConfig(rc))
	wamidOf(t, f.send360(t, testKey, body(t, "441234567890", nil)))
	require.Eventually(t, func() bool { return len(rc.statuses(t)) == 3 }, waitFor, tick)
	require.Zero(t, f.Stats().WebhookErrors, "two failures are retried")

	rc.fail.Store(1 << 30)
	wamidOf(t, f.send360(t, testKey, body(t, "441234567891", nil)))
	require.Eventually(t, func() bool { return f.Stats().WebhookErrors >= 1 }, waitFor, tick)
}

func TestWebhookQueueFullDrops(t *testing.T) {
	rc := newReceiver(t)
	f := newFakeWith(t, webhookConfig(rc), func(s *Server) { s.queue = newEventQueue(2) })
	f.Start(context.Background())
	wamidOf(t, f.send360(t, testKey, body(t, "441234567890", nil)))
	require.EqualValues(t, 3, f.Stats().WebhookErrors)
}

func TestNoWebhooksWithoutStart(t *testing.T) {
	rc := newReceiver(t)
	f := newFake(t, webhookConfig(rc))
	wamidOf(t, f.send360(t, testKey, body(t, "441234567890", nil)))
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, rc.got())
}

func TestStartStop(t *testing.T) {
	rc := newReceiver(t)
	f := newFake(t, webhookConfig(rc))
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx)
	f.Start(ctx) // no-op
	require.True(t, f.dispatching.Load())
	cancel()
	require.Eventually(t, func() bool { return !f.dispatching.Load() }, waitFor, tick)
	f.Close()
	f.Close() // idempotent
	f.Start(context.Background())
	require.False(t, f.dispatching.Load(), "a closed Server does not start again")
	// Requests are still served after Close.
	wamidOf(t, f.send360(t, testKey, body(t, "441234567890", nil)))
}

func TestPostEvent(t *testing.T) {
	rc := newReceiver(t)
	f := newFake(t, webhookConfig(rc))
	ev := fixture(t, "webhook_account_update_mm_lite_terms_signed.json")
	require.NoError(t, f.PostEvent(context.Background(), ev))
	got := rc.got()
	require.Len(t, got, 1)
	require.Equal(t, ev, got[0].body)
	require.Equal(t, testSecret, got[0].header.Get("X-Webhook-Secret"))
	require.Equal(t, Signature(testAppSecret, ev), got[0].header.Get("X-Hub-Signature-256"))
	require.Equal(t, "application/json", got[0].header.Get("Content-Type"))

	require.NoError(t, f.SetConfig(Config{}))
	require.ErrorContains(t, f.PostEvent(context.Background(), ev), "webhook_url")

	require.NoError(t, f.SetConfig(webhookConfig(rc)))
	rc.fail.Store(1 << 30)
	require.Error(t, f.PostEvent(context.Background(), ev))
	require.EqualValues(t, 1, f.Stats().WebhookErrors)
}
