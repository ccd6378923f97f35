package httpapi_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/registry"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/mmapi"
	"github.com/mmlite/mmlite/pkg/sender"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

const (
	hookSecret = "hook-secret"
	wamidUK    = "wamid.HBgLNTk4OTQ3MTQ0NjMVAgARGBJDNjM1NUM2OEEyMDU4REZERTgA" // 441234567890 in the fixtures
	wamidUS    = "wamid.HBgLMTIxMjU1NTAxMjMVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA" // 12125550123
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "fixtures", name))
	require.NoError(t, err)
	return string(b)
}

// hookSetup has a worker-published sender and a campaign whose two
// recipients were sent with the fixtures' wamids.
func hookSetup(t *testing.T, edit func(c *httpapi.Config)) *bundle {
	t.Helper()
	b := setup(t, func(c *httpapi.Config) {
		c.WebhookSecret = hookSecret
		if edit != nil {
			edit(c)
		}
	})
	ctx := context.Background()
	s := &sender.Sender{ID: "default", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: "102290129340398"}
	require.NoError(t, registry.New(b.r.Client, b.r.Keys).Publish(ctx, []*sender.Sender{s}))
	c := &campaign.Campaign{ID: "spring-sale-2026", Template: mmapi.Template{Name: "spring_sale", Language: mmapi.Language{Code: "pt_BR"}}}
	_, err := b.p.Register(ctx, c)
	require.NoError(t, err)
	require.NoError(t, b.r.Client.HIncrBy(ctx, b.r.Keys.Campaign(c.ID), "enqueued", 2).Err())
	for to, w := range map[string]string{"441234567890": wamidUK, "12125550123": wamidUS} {
		_, err := b.p.Store().Ledger.Settle(ctx, c.ID, to, store.Outcome{Status: task.StatusSent, WAMID: w}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	return b
}

func (b *bundle) hook(t *testing.T, body string, hdr ...string) answer {
	t.Helper()
	if len(hdr) == 0 {
		hdr = []string{webhook.SecretHeader, hookSecret}
	}
	return b.do(t, "POST", "/webhooks/whatsapp", "application/json", body, append([]string{"Authorization", ""}, hdr...)...)
}

func (b *bundle) statusTasks(t *testing.T) []task.StatusEvent {
	t.Helper()
	return testkit.Pending[task.StatusEvent](t, asynq.NewInspectorFromRedisClient(b.r.Client), b.r.Results, task.TypeStatus)
}

func TestWebhooks_FixturesCountedOnce(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	for _, f := range []string{"webhook_status_sent.json", "webhook_status_delivered_read_batch.json", "webhook_status_failed.json",
		"webhook_click.json", "webhook_account_update_mm_lite_terms_signed.json"} {
		for range 2 { // webhooks come at least once
			a := b.hook(t, fixture(t, f))
			require.Equal(t, http.StatusOK, a.code, "%s: %s", f, a.raw)
		}
	}
	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	counts := st.body["counts"].(map[string]any)
	require.EqualValues(t, 1, counts["delivered"])
	require.EqualValues(t, 1, counts["read"])
	require.EqualValues(t, 1, counts["undelivered"])
	require.EqualValues(t, 0, counts["fallback"])
	require.Equal(t, map[string]any{"131049": 1.0}, st.body["delivery_errors"])

	events := b.statusTasks(t)
	require.Len(t, events, 4, "one task per (wamid, status)")
	byStatus := map[string]task.StatusEvent{}
	for _, e := range events {
		byStatus[e.Status] = e
	}
	require.Equal(t, "441234567890", byStatus["read"].To)
	require.Equal(t, "spring-sale-2026", byStatus["read"].CampaignID)
	require.Equal(t, "marketing_lite", byStatus["sent"].PricingCategory)
	require.Equal(t, &task.Error{Code: 131049, Title: "This message was not delivered to maintain healthy ecosystem engagement.",
		Details: "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."}, byStatus["failed"].Error)

	sd := b.do(t, "GET", "/v1/senders/default", "", "")
	require.Equal(t, 200, sd.code, sd.raw)
	require.Equal(t, map[string]any{"spring-sale-2026": 1.0}, sd.body["clicks"], "the repeated click counts once")
	require.NotNil(t, sd.body["onboarded_at"])

	requireMetric(t, b, `mmlite_webhook_events_total{status="read",type="status"} 2`,
		`mmlite_webhook_statuses_total{result="duplicate"} 4`, `mmlite_clicks_total{sender="default"} 1`,
		`mmlite_sender_onboarded{sender="default"} 1`, `mmlite_webhook_events_total{status="MM_LITE_TERMS_SIGNED",type="account_update"} 2`)
}

func TestWebhooks_ReorderedFallbackAndUnknown(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	read := strings.Replace(fixture(t, "webhook_status_delivered_read_batch.json"), `"status": "delivered"`, `"status": "x-delivered"`, 1)
	require.Equal(t, 200, b.hook(t, read).code) // read first, with an unknown status beside it
	fb := strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), `"category": "marketing_lite"`, `"category": "marketing"`)
	fb = strings.ReplaceAll(fb, wamidUK, wamidUS) // the other recipient's message fell back to the Cloud API
	require.Equal(t, 200, b.hook(t, fb).code)
	require.Equal(t, 200, b.hook(t, fixture(t, "webhook_status_delivered_read_batch.json")).code) // delivered after read
	unknown := strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), wamidUK, "wamid.not-ours")
	require.Equal(t, 200, b.hook(t, unknown).code, "unknown wamids are accepted")

	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	counts := st.body["counts"].(map[string]any)
	require.EqualValues(t, 1, counts["read"])
	require.EqualValues(t, 1, counts["delivered"], "read implies delivered; the late delivered is not counted again")
	require.EqualValues(t, 1, counts["fallback"])
	requireMetric(t, b, `mmlite_webhook_statuses_total{result="unknown_wamid"} 1`, `mmlite_fallback_total{sender="default"} 1`,
		`mmlite_webhook_events_total{status="other",type="status"} 1`)
}

func TestWebhooks_Authentication(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.AppSecret = "app-secret" })
	body := fixture(t, "webhook_status_delivered_read_batch.json")
	cases := []struct {
		hdr    []string
		reason string
	}{
		{[]string{webhook.SecretHeader, "wrong"}, "secret"},
		{[]string{webhook.SignatureHeader, webhook.Sign("other", []byte(body))}, "signature"},
		{[]string{webhook.SecretHeader, "wrong", webhook.SignatureHeader, "sha256=00"}, "signature"},
		{[]string{"X-Other", "x"}, "signature"},
	}
	for _, tc := range cases {
		a := b.hook(t, body, tc.hdr...)
		require.Equal(t, 401, a.code, "%v", tc.hdr)
		require.Contains(t, a.body["error"], tc.reason, "%v", tc.hdr)
	}
	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.EqualValues(t, 0, st.body["counts"].(map[string]any)["delivered"], "a 401 changes nothing")
	requireMetric(t, b, `mmlite_webhook_auth_failures_total{reason="signature"} 3`, `mmlite_webhook_auth_failures_total{reason="secret"} 1`)

	open := setup(t, nil)
	require.Equal(t, 401, open.hook(t, body).code, "no secret configured: refused")
}

// With both providers configured, a webhook carrying either valid
// credential is accepted: 360dialog's secret or Meta's signature.
func TestWebhooks_EitherProvider(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.AppSecret = "app-secret" })
	body := fixture(t, "webhook_status_delivered_read_batch.json")
	sig := webhook.Sign("app-secret", []byte(body))
	for _, hdr := range [][]string{
		{webhook.SecretHeader, hookSecret},
		{webhook.SignatureHeader, sig},
		{webhook.SecretHeader, "wrong", webhook.SignatureHeader, sig},
		{webhook.SecretHeader, hookSecret, webhook.SignatureHeader, "sha256=00"},
	} {
		a := b.hook(t, body, hdr...)
		require.Equal(t, 200, a.code, "%v: %s", hdr, a.raw)
	}
	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.EqualValues(t, 1, st.body["counts"].(map[string]any)["delivered"])
}

func TestWebhooks_BadBodies(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxWebhookBody = 2048 })
	a := b.hook(t, `{"entry": [`)
	require.Equal(t, 400, a.code)
	require.Contains(t, a.body["error"], "malformed webhook")
	a = b.hook(t, `{"entry": [], "pad": "`+strings.Repeat("x", 4096)+`"}`)
	require.Equal(t, 413, a.code)
	require.Equal(t, 200, b.hook(t, `{"object": "something_else"}`).code, "other kinds are accepted")
}

// A compressed webhook (Content-Encoding: gzip) is a 400 that says so:
// the api reads webhooks as the providers send them, uncompressed (found
// in review: it was answered "the body is not a JSON object", which sent
// its sender looking at the JSON).
func TestWebhooks_CompressedBodyNamed(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(fixture(t, "webhook_status_sent.json")))
	require.NoError(t, zw.Close())
	a := b.hook(t, gz.String(), webhook.SecretHeader, hookSecret, "Content-Encoding", "gzip")
	require.Equal(t, http.StatusBadRequest, a.code, "%s", a.raw)
	require.Contains(t, a.body["error"], "Content-Encoding gzip", "%s", a.raw)
	require.Empty(t, b.statusTasks(t), "nothing recorded")
}

func TestWebhooks_VerifyHandshake(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.VerifyToken = "vt" })
	resp, err := http.Get(b.srv.URL + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1158201444")
	require.NoError(t, err)
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	require.Equal(t, 200, resp.StatusCode)
	require.Equal(t, "1158201444", buf.String())
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), "the echoed challenge is never sniffed as HTML")
	resp, err = http.Get(b.srv.URL + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 403, resp.StatusCode)
}

// An api set up for Meta (an app secret) without a verify token can never
// answer the subscription handshake: it says so at start.
func TestWebhooks_NoVerifyTokenWarned(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		edit   func(c *httpapi.Config)
		warned bool
	}{
		{"meta only", func(c *httpapi.Config) { c.AppSecret = "app" }, true},
		{"meta with a verify token", func(c *httpapi.Config) { c.AppSecret, c.VerifyToken = "app", "vt" }, false},
		{"both providers", func(c *httpapi.Config) { c.AppSecret, c.WebhookSecret = "app", "hook" }, false},
		{"360dialog only", func(c *httpapi.Config) { c.WebhookSecret = "hook" }, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var logs redistest.SyncBuffer
			setup(t, func(cfg *httpapi.Config) {
				cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
				c.edit(cfg)
			})
			require.Equal(t, c.warned, strings.Contains(logs.String(), "MMLITE_WEBHOOK_VERIFY_TOKEN"), logs.String())
		})
	}
}

func TestWebhooks_OnboardingResumesWaitingCampaigns(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *httpapi.Config) { c.WebhookSecret = hookSecret })
	ctx := context.Background()
	s := &sender.Sender{ID: "strict", Rate: 80, Burst: 8, PhoneNumberID: "106540352242922", WABAID: "102290129340398", RequireOnboarding: true}
	require.NoError(t, registry.New(b.r.Client, b.r.Keys).Publish(ctx, []*sender.Sender{s}))

	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "waits", "sender": "strict", "template": {"name": "t", "language": {"code": "en"}}},
		"recipients": [{"to": "441234567890"}]}`)
	require.Equal(t, 202, a.code, a.raw)
	st := b.do(t, "GET", "/v1/campaigns/waits", "", "")
	require.Equal(t, "paused", st.body["state"])
	require.Contains(t, st.body["paused_reason"], "onboarding: sender strict requires MM Lite onboarding: waiting for MM_LITE_TERMS_SIGNED of WABA 102290129340398")

	require.Equal(t, 200, b.hook(t, fixture(t, "webhook_account_update_mm_lite_terms_signed.json")).code)
	st = b.do(t, "GET", "/v1/campaigns/waits", "", "")
	require.Equal(t, "running", st.body["state"])
	requireMetric(t, b, `mmlite_sender_onboarded{sender="strict"} 1`)

	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "later", "sender": "strict", "template": {"name": "t", "language": {"code": "en"}}}}`)
	require.Equal(t, 202, a.code)
	require.Equal(t, "running", b.do(t, "GET", "/v1/campaigns/later", "", "").body["state"], "an onboarded sender's campaigns start at once")
}

// requireMetric checks lines of /metrics without printing all of it.
func requireMetric(t *testing.T, b *bundle, lines ...string) {
	t.Helper()
	m := b.do(t, "GET", "/metrics", "", "").raw
	for _, l := range lines {
		require.True(t, strings.Contains(m, l+"\n"), "/metrics has no line %s", l)
	}
}

// A client that closes its side before sending the Content-Length it
// declared made the mistake: a 400, no ERROR line, no 5xx counted.
func TestWebhooks_AbortedBodyIsTheClients(t *testing.T) {
	t.Parallel()
	var logs redistest.SyncBuffer
	b := hookSetup(t, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	body := fixture(t, "webhook_status_sent.json")
	conn, err := net.Dial("tcp", b.srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /webhooks/whatsapp HTTP/1.1\r\nHost: mmlite\r\nContent-Type: application/json\r\n%s: %s\r\nContent-Length: %d\r\n\r\n%s",
		webhook.SecretHeader, hookSecret, len(body), body[:len(body)/2])
	require.NoError(t, err)
	require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, string(raw))
	require.Contains(t, string(raw), "could not read the webhook body")

	require.NotContains(t, logs.String(), `"level":"ERROR"`)
	requireMetric(t, b, `mmlite_http_requests_total{code="400",route="/webhooks/whatsapp"} 1`,
		`mmlite_http_requests_total{code="500",route="/webhooks/whatsapp"} 0`)
	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.EqualValues(t, 0, st.body["counts"].(map[string]any)["delivered"], "nothing of a partial body is recorded")
}

// A status dated past year 9999 made a status task with an empty payload
// (its time cannot be encoded): its time is read as unknown instead, and
// the status taken as of when mmlite received it (see
// TestWebhooks_StatusWithoutATimeIsTakenAsReceived).
func TestWebhooks_TimestampOutOfRange(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	body := strings.Replace(fixture(t, "webhook_status_sent.json"), `"timestamp": "1764064800"`, `"timestamp": "999999999999"`, 1)
	require.NotEqual(t, fixture(t, "webhook_status_sent.json"), body)
	before := time.Now().Truncate(time.Second)
	require.Equal(t, 200, b.hook(t, body).code)
	events := b.statusTasks(t)
	require.Len(t, events, 1)
	require.Equal(t, wamidUK, events[0].WAMID)
	require.WithinRange(t, events[0].Timestamp, before, time.Now())
}

// A client that goes away while its request is handled cancels the
// request's context: what fails then is not the api's fault either.
func TestClientGoneIsNotAServerError(t *testing.T) {
	t.Parallel()
	var logs redistest.SyncBuffer
	b := hookSetup(t, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	for _, tc := range []struct{ path, body string }{
		{"/webhooks/whatsapp", fixture(t, "webhook_status_sent.json")},
		{"/v1/campaigns", `{"campaign": {"id": "gone", "template": {"name": "t", "language": {"code": "en"}}}, "recipients": [{"to": "441234567890"}]}`},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, "POST", tc.path, strings.NewReader(tc.body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set(webhook.SecretHeader, hookSecret)
		w := httptest.NewRecorder()
		b.h.ServeHTTP(w, req)
		require.Equal(t, http.StatusBadRequest, w.Code, "%s: %s", tc.path, w.Body.String())
		require.Contains(t, w.Body.String(), "the client closed the connection")
	}
	require.NotContains(t, logs.String(), `"level":"ERROR"`)
}

// Copies of one webhook taken at the same time (the intake pipelines their
// Redis work together) count and emit its event once, and so do copies
// that come after the consumer took the event's task.
func TestWebhooks_CopiesAtOnceCountOnce(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	body := fixture(t, "webhook_status_sent.json")
	wave := func() {
		var wg sync.WaitGroup
		codes := make([]int, 24)
		for i := range codes {
			wg.Go(func() { codes[i] = b.hook(t, body).code })
		}
		wg.Wait()
		for _, c := range codes {
			require.Equal(t, http.StatusOK, c)
		}
	}
	wave()
	require.Len(t, b.statusTasks(t), 1, "one task per (wamid, status)")
	insp := asynq.NewInspectorFromRedisClient(b.r.Client)
	_, err := insp.DeleteAllPendingTasks(b.r.Results) // the consumer took it
	require.NoError(t, err)
	wave()
	require.Empty(t, b.statusTasks(t), "not emitted again")
	requireMetric(t, b, `mmlite_webhook_statuses_total{result="counted"} 1`, `mmlite_webhook_statuses_total{result="duplicate"} 47`)
}

// relaySetup is hookSetup with one relay destination; it returns the
// destination's pending list.
func relaySetup(t *testing.T) (*bundle, string) {
	t.Helper()
	var dest *outbound.Destination
	b := hookSetup(t, func(c *httpapi.Config) {
		p := filepath.Join(t.TempDir(), "destinations.yaml")
		require.NoError(t, os.WriteFile(p, []byte("destinations:\n  - name: "+strings.TrimPrefix(c.ResultsQueue, "mmlite-")+
			"\n    url: http://127.0.0.1:9/hooks\n    secret_env: S\n"), 0o600))
		dests, err := outbound.Load(outbound.Sources{File: p, Getenv: func(string) string { return "relay-secret" }})
		require.NoError(t, err)
		dest, c.Destinations = dests[0], dests
	})
	t.Cleanup(func() {
		ctx := context.Background()
		keys, _ := b.r.Client.Keys(ctx, "asynq:{"+dest.Queue()+"}:*").Result()
		if len(keys) > 0 {
			b.r.Client.Del(ctx, keys...)
		}
	})
	return b, keyspace.New(dest.Queue()).AsynqPending()
}

// A webhook of statuses (on a single Redis node) is stored for the relay
// in the step that records its first status: when that fails, nothing is
// recorded and the webhook is answered 500; the provider's next delivery
// records it and stores it for relay, once. Any other webhook is stored
// alongside its recording: when the store fails, it is answered 500 though
// its events were recorded, and the next delivery stores it.
func TestWebhooks_RelayFailureIsAnsweredAndRetried(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	ctx := context.Background()
	fail := &failing{match: strings.TrimSuffix(pending, "pending")}
	b.r.Client.AddHook(fail) // while on, every write for the relay fails
	relayed := func() int {
		ids, err := b.r.Client.LRange(ctx, pending, 0, -1).Result()
		require.NoError(t, err)
		return len(ids)
	}

	fail.on.Store(true)
	body := fixture(t, "webhook_status_sent.json")
	a := b.hook(t, body)
	require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
	require.Contains(t, a.raw, "could not store the webhook for relay") // nor on its own
	require.Empty(t, b.statusTasks(t), "recorded in the same step: not recorded either")
	fail.on.Store(false)
	a = b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	a = b.hook(t, body) // once more, while the first is still queued
	require.Equal(t, http.StatusOK, a.code, a.raw)
	require.Equal(t, 1, relayed(), "stored for relay once")
	require.Len(t, b.statusTasks(t), 1)
	requireMetric(t, b, `mmlite_webhook_statuses_total{result="counted"} 1`, `mmlite_webhook_statuses_total{result="duplicate"} 1`)

	fail.on.Store(true)
	click := fixture(t, "webhook_click.json")
	a = b.hook(t, click)
	require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
	require.Contains(t, a.raw, "could not store the webhook for relay")
	requireMetric(t, b, `mmlite_clicks_total{sender="default"} 1`)
	fail.on.Store(false)
	a = b.hook(t, click)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	require.Equal(t, 2, relayed(), "the click's webhook is stored")
	requireMetric(t, b, `mmlite_clicks_total{sender="default"} 1`)
}

// A webhook of statuses that cannot be recorded is still stored for the
// relay, although its relay tasks were to be written by the step that
// failed: the destinations get it even if the provider never delivers it
// again.
func TestWebhooks_RelayedWhenRecordingFails(t *testing.T) {
	t.Parallel()
	for _, fault := range []error{errInjected, errors.New("campaign: decode: unexpected end of JSON input")} {
		t.Run(fault.Error(), func(t *testing.T) {
			t.Parallel()
			b, pending := relaySetup(t)
			fail := &failing{match: b.r.Results, err: fault} // the recording step names the results queue
			b.r.Client.AddHook(fail)
			fail.on.Store(true)
			a := b.hook(t, fixture(t, "webhook_status_sent.json"))
			require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
			require.Contains(t, a.raw, "could not record the events")
			require.Empty(t, b.statusTasks(t))
			n, err := b.r.Client.LLen(context.Background(), pending).Result()
			require.NoError(t, err)
			require.EqualValues(t, 1, n, "stored for relay all the same")
		})
	}
}

// When Redis did not answer (a timeout, a connection refused), the relay
// tasks are not written on their own: that would hold the webhook for
// another wait on a Redis that is likely gone; the provider delivers it
// again.
func TestWebhooks_NotRelayedApartWhenRedisDidNotAnswer(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	fail := &failing{match: b.r.Results, err: fmt.Errorf("dial tcp 127.0.0.1:6379: %w", syscall.ECONNREFUSED)}
	b.r.Client.AddHook(fail)
	fail.on.Store(true)
	a := b.hook(t, fixture(t, "webhook_status_sent.json"))
	require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
	require.Contains(t, a.raw, "could not record the events")
	n, err := b.r.Client.LLen(context.Background(), pending).Result()
	require.NoError(t, err)
	require.Zero(t, n, "not tried apart")
}

// A webhook larger than SmallWebhook is stored for the relay (on a
// connection of its own) and recorded like any other.
func TestWebhooks_LargeWebhookIsRelayed(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	body := strings.TrimSpace(fixture(t, "webhook_status_sent.json"))
	body = body[:len(body)-1] + strings.Repeat(" ", httpapi.SmallWebhook) + "}"
	a := b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	n, err := b.r.Client.LLen(context.Background(), pending).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Len(t, b.statusTasks(t), 1)
}

// failing is a Redis hook that fails, while on, every command naming a key
// that contains match, alone or in a pipeline.
type failing struct {
	match string
	on    atomic.Bool
	err   error // what the commands fail with; default errInjected
}

// errInjected is an error Redis answered (a redis.Error).
var errInjected error = redisError("ERR injected failure")

type redisError string

func (e redisError) Error() string { return string(e) }
func (redisError) RedisError()     {}

func (f *failing) fault() error {
	if f.err != nil {
		return f.err
	}
	return errInjected
}

func (f *failing) hit(cmd redis.Cmder) bool {
	if !f.on.Load() {
		return false
	}
	for _, a := range cmd.Args() {
		if s, ok := a.(string); ok && strings.Contains(s, f.match) {
			return true
		}
	}
	return false
}

func (f *failing) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failing) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.hit(cmd) {
			cmd.SetErr(f.fault())
			return f.fault()
		}
		return next(ctx, cmd)
	}
}

func (f *failing) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		rest := cmds[:0:0]
		for _, c := range cmds {
			if f.hit(c) {
				c.SetErr(f.fault())
			} else {
				rest = append(rest, c)
			}
		}
		if len(rest) == 0 {
			return f.fault()
		}
		return next(ctx, rest)
	}
}

// A webhook reads the senders the workers published once, whatever it
// carries (an account update is looked at by the guards and counted).
func TestWebhooks_SendersReadOnce(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	reads := &redistest.Counter{Name: "hgetall", Key: b.r.Keys.Senders()}
	b.r.Client.AddHook(reads)
	body := strings.Replace(fixture(t, "webhook_account_update_mm_lite_terms_signed.json"), "MM_LITE_TERMS_SIGNED", "VERIFIED_ACCOUNT", 1)
	a := b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	require.EqualValues(t, 1, reads.N.Load())
}

// A webhook with a field of another type (here a status's timestamp as a
// number) is recorded and relayed: it was a 400, and the provider does not
// deliver a 4xx again.
func TestWebhooks_FieldOfAnotherTypeIsTaken(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	body := `{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
"metadata":{"phone_number_id":"106540352242922"},"statuses":[{"id":"` + wamidUK + `","status":"delivered","timestamp":1764064805,"recipient_id":"441234567890"}]}}]}]}`
	a := b.hook(t, body)
	require.Equal(t, 200, a.code, a.raw)
	require.EqualValues(t, 1, a.body["statuses"])
	n, err := b.r.Client.LLen(context.Background(), pending).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "stored for the relay")
}

// counting counts the commands, alone or in a pipeline, that name match.
type counting struct {
	match string
	n     atomic.Int64
}

func (c *counting) count(cmds ...redis.Cmder) {
	for _, cmd := range cmds {
		for _, a := range cmd.Args() {
			if s, ok := a.(string); ok && strings.Contains(s, c.match) {
				c.n.Add(1)
				break
			}
		}
	}
}

func (c *counting) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *counting) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.count(cmd); return next(ctx, cmd) }
}
func (c *counting) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { c.count(cmds...); return next(ctx, cmds) }
}

// When the statuses were recorded, their relay tasks with them, and a
// later step fails (here the count of a click in the same webhook), the
// relay tasks are not written again: once is what the 500 needs.
func TestWebhooks_RelayWrittenOnceWhenALaterStepFails(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	var status, click map[string]any
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "webhook_status_sent.json")), &status))
	require.NoError(t, json.Unmarshal([]byte(fixture(t, "webhook_click.json")), &click))
	entry := status["entry"].([]any)[0].(map[string]any)
	entry["changes"] = append(entry["changes"].([]any), click["entry"].([]any)[0].(map[string]any)["changes"].([]any)...)
	body, err := json.Marshal(status)
	require.NoError(t, err)

	writes := &counting{match: pending}
	b.r.Client.AddHook(writes)
	fail := &failing{match: b.r.Keys.Prefix() + "clicks:"}
	b.r.Client.AddHook(fail)
	as := func(st string) string { return strings.Replace(string(body), `"sent"`, `"`+st+`"`, 1) }
	require.Equal(t, http.StatusOK, b.hook(t, as("sent")).code) // loads the scripts
	writes.n.Store(0)
	require.Equal(t, http.StatusOK, b.hook(t, as("delivered")).code)
	once := writes.n.Swap(0) // what a webhook's relay write costs, as the hooks see it

	fail.on.Store(true)
	a := b.hook(t, as("read"))
	require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
	require.Equal(t, once, writes.n.Load(), "the relay tasks are written once, by the step that recorded the status")
	n, err := b.r.Client.LLen(context.Background(), pending).Result()
	require.NoError(t, err)
	require.EqualValues(t, 3, n, "one a webhook")
}

// A status whose send is recorded between its webhook's lookup and its
// keeping (the settle maps its wamid right then) is counted and emitted
// by the webhook itself: neither kept unmatched where no settle looks
// again, nor lost.
func TestWebhooks_SendRecordedWhileTheStatusIsLookedUp(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	ctx := context.Background()
	const to, wamid = "447700900123", "wamid.recorded-meanwhile"
	require.NoError(t, b.r.Client.HIncrBy(ctx, b.r.Keys.Campaign("spring-sale-2026"), "enqueued", 1).Err())
	b.r.Client.AddHook(&redistest.AfterFirst{Name: "hmget", Arg: b.r.Keys.WAMID(wamid), Pipelines: true, Fn: func() {
		_, err := b.p.Store().Ledger.Settle(ctx, "spring-sale-2026", to, store.Outcome{Status: task.StatusSent, WAMID: wamid,
			PhoneNumberID: "106540352242922"}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}})
	body := strings.ReplaceAll(strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), wamidUK, wamid), "441234567890", to)
	require.Equal(t, 200, b.hook(t, body).code)

	var got []task.StatusEvent
	for _, ev := range b.statusTasks(t) {
		if ev.WAMID == wamid {
			got = append(got, ev)
		}
	}
	require.Len(t, got, 1, "its sent status is emitted")
	require.Equal(t, to, got[0].To)
	require.Zero(t, b.r.Client.Exists(ctx, b.r.Keys.Unmatched("106540352242922", to)).Val(), "nothing kept unmatched")
	requireMetric(t, b, `mmlite_webhook_statuses_total{result="counted"} 1`)
}

// A status kept for its send's settle, whose send is recorded right after
// (between the keeping and the webhook's counting step), is left to the
// settle's replay: counted here, its event would never be emitted (the
// replay would find it counted).
func TestWebhooks_SendRecordedAfterTheStatusIsKept(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	ctx := context.Background()
	const pnid, to, wamid = "106540352242922", "447700900124", "wamid.recorded-after"
	require.NoError(t, b.r.Client.HIncrBy(ctx, b.r.Keys.Campaign("spring-sale-2026"), "enqueued", 1).Err())
	b.r.Client.AddHook(&redistest.AfterFirst{Name: "eval", Arg: b.r.Keys.Unmatched(pnid, to), Pipelines: true, Fn: func() {
		_, err := b.p.Store().Ledger.Settle(ctx, "spring-sale-2026", to, store.Outcome{Status: task.StatusSent, WAMID: wamid,
			PhoneNumberID: pnid}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}})
	body := strings.ReplaceAll(strings.ReplaceAll(fixture(t, "webhook_status_sent.json"), wamidUK, wamid), "441234567890", to)
	require.Equal(t, 200, b.hook(t, body).code)

	rs, err := b.p.Store().Ledger.Replays(ctx, 10)
	require.NoError(t, err)
	require.Len(t, rs, 1, "the settle took the status kept")
	require.True(t, rs[0].Early)
	tr, err := b.p.Store().Deliveries.Track(ctx, []store.Delivery{{WAMID: wamid, Status: task.StatusSent}})
	require.NoError(t, err)
	require.True(t, tr[0].Known)
	require.False(t, tr[0].Seen, "not recorded by the webhook: the replay records it and emits its event")
	counted, err := b.p.Store().Deliveries.Record(ctx, []store.Delivery{{WAMID: wamid, Status: task.StatusSent,
		Task: &store.ResultTask{Queue: b.r.Results, ID: "status:" + wamid + ":sent", Msg: []byte("m")}}})
	require.NoError(t, err)
	require.True(t, counted[0].Counted, "the replay's record emits it")
}

// A webhook with an object of another type (pricing as a string) is
// answered 200, its statuses recorded and itself stored for the relay: it
// was a 400, which providers do not deliver again, so it was lost to
// mmlite and to every destination (found in review).
func TestWebhooks_ObjectOfAnotherTypeIsRecordedAndRelayed(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	body := strings.Replace(fixture(t, "webhook_status_delivered_read_batch.json"), `"pricing": {`, `"pricing": "marketing_lite", "x": {`, 1)
	require.Contains(t, body, `"pricing": "marketing_lite"`)
	a := b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	n, err := b.r.Client.LLen(context.Background(), pending).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "stored for the relay")
	require.NotEmpty(t, b.statusTasks(t), "its statuses recorded")
}

// A delivered that comes after its read (webhooks come out of order) is
// emitted as its own status task, though the read counted it delivered
// already; counted once all the same. It was taken for a repeat and lost
// (found in review). Both ways a status is recorded: in one step, and
// looked up first (a status charged as a Cloud API fallback).
func TestWebhooks_DeliveredAfterReadIsEmitted(t *testing.T) {
	t.Parallel()
	for _, category := range []string{"marketing_lite", "marketing"} {
		t.Run(category, func(t *testing.T) {
			t.Parallel()
			b := hookSetup(t, nil)
			body := strings.Replace(fixture(t, "webhook_status_sent.json"), `"category": "marketing_lite"`, `"category": "`+category+`"`, 1)
			as := func(st string) string { return strings.Replace(body, `"sent"`, `"`+st+`"`, 1) }
			for _, st := range []string{"read", "delivered", "delivered", "read"} {
				a := b.hook(t, as(st))
				require.Equal(t, http.StatusOK, a.code, a.raw)
			}
			got := map[string]int{}
			for _, ev := range b.statusTasks(t) {
				got[ev.Status]++
			}
			require.Equal(t, map[string]int{"read": 1, "delivered": 1}, got)
			st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
			counts := st.body["counts"].(map[string]any)
			require.EqualValues(t, 1, counts["delivered"])
			require.EqualValues(t, 1, counts["read"])
		})
	}
}

// Clients that take every slot for large webhooks with a body that never
// comes (a signature header is enough to get that far) hold them at most
// LargeWebhookRead: a genuine large webhook of Meta's is answered after
// that, not starved until the server's read timeout (found in review).
func TestWebhooks_StalledLargeBodiesGiveTheirSlotsBack(t *testing.T) {
	t.Parallel()
	const appSecret = "app-secret"
	b := hookSetup(t, func(c *httpapi.Config) { c.AppSecret, c.LargeWebhookRead = appSecret, 300*time.Millisecond })
	addr := strings.TrimPrefix(b.srv.URL, "http://")
	for range httpapi.DefaultLargeWebhooks {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Close() })
		_, err = fmt.Fprintf(c, "POST /webhooks/whatsapp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			"X-Hub-Signature-256: sha256=%s\r\nContent-Length: %d\r\n\r\n{\"pad\": \"", strings.Repeat("0", 64), 4<<20)
		require.NoError(t, err)
	}
	time.Sleep(100 * time.Millisecond) // they hold the slots
	body := strings.TrimSpace(fixture(t, "webhook_status_sent.json"))
	body = body[:len(body)-1] + strings.Repeat(" ", httpapi.SmallWebhook) + "}"
	req, err := http.NewRequest("POST", b.srv.URL+"/webhooks/whatsapp", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(appSecret, []byte(body)))
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err, "a genuine webhook is answered while stalled clients hold the slots")
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// A webhook over MMLITE_MAX_WEBHOOK_BODY is a 413 that names the setting;
// it gave the advice for campaign uploads (found in review).
func TestWebhooks_TooLargeNamesItsSetting(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.MaxWebhookBody = 1024 })
	a := b.hook(t, `{"pad":"`+strings.Repeat("x", 2048)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.code)
	require.Contains(t, a.raw, "MMLITE_MAX_WEBHOOK_BODY")
	require.NotContains(t, a.raw, "recipients")
}

// A token or secret set from a secret's file kept the file's newline: no
// request could present it (header values lose their surrounding white
// space), so every /v1 request and every webhook was refused with 401.
// They are trimmed, as the relay's and the senders' secrets are; a token
// of white space only is an empty token (found in review).
func TestAuth_ConfiguredSecretsTrimmed(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) {
		c.Token, c.WebhookSecret, c.AppSecret, c.VerifyToken = token+"\n", " "+hookSecret+"\r\n", "app-secret\n", "vt\n"
	})
	a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.Equal(t, http.StatusOK, a.code, a.raw)
	body := fixture(t, "webhook_status_delivered_read_batch.json")
	a = b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, "the secret: %s", a.raw)
	a = b.hook(t, body, webhook.SignatureHeader, webhook.Sign("app-secret", []byte(body)))
	require.Equal(t, http.StatusOK, a.code, "the signature: %s", a.raw)
	resp, err := http.Get(b.srv.URL + "/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=1")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the verify token")

	_, err = httpapi.New(httpapi.Config{Producer: b.p, Token: " \n"})
	require.ErrorContains(t, err, "MMLITE_API_TOKEN is empty")
}

// A status whose name is a field mmlite keeps on the message's record (c,
// pricing, di, p, code, resolved) was written into that record as if it
// were a status: "code" put a timestamp where the delivery's error code
// goes (the results export and the recipient lookup showed it), "di" made
// a later delivered count twice, "resolved" took the place of an unknown
// outcome's resolution (found in review). No provider sends such a
// status; it is acknowledged and recorded nowhere, the webhook relayed
// all the same.
func TestWebhooks_StatusNamedLikeARecordFieldIsNotRecorded(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	ctx := context.Background()
	key := b.r.Keys.WAMID(wamidUK)
	before, err := b.r.Client.HGetAll(ctx, key).Result()
	require.NoError(t, err)
	for _, st := range []string{"c", "pricing", "di", "p", "code", "resolved"} {
		body := strings.Replace(fixture(t, "webhook_status_sent.json"), `"status": "sent"`, `"status": "`+st+`"`, 1)
		require.Contains(t, body, `"status": "`+st+`"`)
		a := b.hook(t, body)
		require.Equal(t, http.StatusOK, a.code, a.raw)
	}
	after, err := b.r.Client.HGetAll(ctx, key).Result()
	require.NoError(t, err)
	require.Equal(t, before, after, "the message's record is as it was")
	require.Empty(t, b.statusTasks(t))
	requireMetric(t, b, `mmlite_webhook_events_total{status="other",type="status"} 6`)
}

// A webhook of such statuses only is relayed all the same: its relay
// tasks, to be written with its first status, are written on their own.
func TestWebhooks_StatusesNamedLikeRecordFieldsAreRelayed(t *testing.T) {
	t.Parallel()
	b, pending := relaySetup(t)
	body := strings.Replace(fixture(t, "webhook_status_sent.json"), `"status": "sent"`, `"status": "code"`, 1)
	a := b.hook(t, body)
	require.Equal(t, http.StatusOK, a.code, a.raw)
	ids, err := b.r.Client.LRange(context.Background(), pending, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, ids, 1, "stored for relay")
}

// --insecure-no-auth with no webhook secret takes any POST as a webhook;
// relayed, it left mmlite signed with the destination's secret, so that
// the team's systems, which check that signature, took a webhook anyone
// could have written for the provider's. Such an api refuses to start
// with a destination off this machine (a loopback one, for development
// and tests, is relayed to), naming it; a webhook secret lifts the
// refusal.
func TestNew_UnauthenticatedWebhooksAreNotRelayedAway(t *testing.T) {
	b := setup(t, nil)
	dests := func(url string) []*outbound.Destination {
		ds, err := outbound.Load(outbound.Sources{Forward: url, ForwardSecret: "s"})
		require.NoError(t, err)
		return ds
	}
	cfg := httpapi.Config{Producer: b.p, AllowNoAuth: true, Destinations: dests("https://crm.example.com/hooks")}
	_, err := httpapi.New(cfg)
	require.ErrorContains(t, err, `destination "forward"`)
	require.ErrorContains(t, err, "MMLITE_WEBHOOK_SECRET")

	for _, c := range []httpapi.Config{
		{Producer: b.p, AllowNoAuth: true, Destinations: dests("http://127.0.0.1:9/hooks")},
		{Producer: b.p, AllowNoAuth: true, Destinations: dests("http://localhost:9/hooks")},
		{Producer: b.p, AllowNoAuth: true, Destinations: cfg.Destinations, WebhookSecret: "hook-secret"},
		{Producer: b.p, AllowNoAuth: true, Destinations: cfg.Destinations, AppSecret: "app-secret"},
		{Producer: b.p, Token: "t", Destinations: cfg.Destinations, WebhookSecret: "hook-secret"},
	} {
		c.Registerer = metrics.NewRegistry()
		_, err := httpapi.New(c)
		require.NoError(t, err, "%s", c.Destinations[0].URL)
	}
}
