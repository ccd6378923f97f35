package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/httpserve"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// SIGTERM while an upload streams rows: at half the grace the api stops
// taking them and answers 503 with the summary of what it kept, before it
// exits; rows already accepted count as duplicates when the client sends
// the request again (found in review: it took rows for the whole grace,
// then exited without answering, and Serve failed).
func TestServe_ShutdownAnswersAnUploadInFlight(t *testing.T) {
	t.Parallel()
	b := setupP(t, func(c *producer.Config) { c.BatchSize, c.Concurrency = 1, 1 },
		func(c *httpapi.Config) { c.MaxBody, c.MaxUpload = 8<<20, 8<<20 })
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	p := postThroughShutdown(t, b.h, "/v1/campaigns/spring-sale-2026/recipients", "to\n441234500000\n441234500001\n",
		func() bool { return b.enqueued(t, "spring-sale-2026") == 2 },
		"Authorization", "Bearer "+token, "Content-Type", "text/csv")

	p.sigterm()
	go func() { // the client goes on sending, slowly, past the grace
		for i := range 60 { // 6 s of rows: past the cut
			if _, err := fmt.Fprintf(p.body, "4477%08d\n", i); err != nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		_ = p.body.Close()
	}()
	require.NoError(t, <-p.served, "a shutdown that answered every request is clean")
	var a stalledReply
	select {
	case a = <-p.answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the upload was not answered")
	}
	requireKept(t, b, a)
}

// requireKept checks the answer to an upload the shutdown cut short: 503,
// with the summary of what the api kept.
func requireKept(t *testing.T, b *bundle, a stalledReply) {
	t.Helper()
	require.Equal(t, http.StatusServiceUnavailable, a.code, "%s", a.body)
	require.NotEmpty(t, a.retryAfter)
	var got struct {
		Error   string            `json:"error"`
		Summary *producer.Summary `json:"summary"`
	}
	require.NoError(t, json.Unmarshal(a.body, &got), "%s", a.body)
	require.Contains(t, got.Error, "shutting down")
	require.NotNil(t, got.Summary, "what was kept: %s", a.body)
	require.Equal(t, b.enqueued(t, "spring-sale-2026"), got.Summary.Accepted, "the summary is what was kept")
}

// stalledReply is the answer to a request whose client sent part of its
// body, then nothing, while the api shut down.
type stalledReply struct {
	code       int
	retryAfter string
	body       []byte
}

// inShutdown is a request in flight on a server that is to shut down.
type inShutdown struct {
	body     *io.PipeWriter // the rest of the request's body
	sigterm  func()         // starts the shutdown, with a grace of 6 s
	served   <-chan error   // Serve's error
	answered <-chan stalledReply
}

// postThroughShutdown serves h and POSTs first to path with the headers
// hdr, keeping the request's body open, and returns once ready says the
// handler has it.
func postThroughShutdown(t *testing.T, h http.Handler, path, first string, ready func() bool, hdr ...string) inShutdown {
	t.Helper()
	srv, err := httpserve.Listen("127.0.0.1:0", h, httpserve.Timeouts{Read: time.Minute, Write: time.Minute})
	require.NoError(t, err)
	ctx, sigterm := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, 6*time.Second) }() // cut at 3 s

	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.CloseWithError(io.ErrClosedPipe) })
	req, err := http.NewRequest("POST", "http://"+srv.Addr()+path, pr)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	answered := make(chan stalledReply, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			answered <- stalledReply{code: -1, body: []byte(err.Error())}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- stalledReply{resp.StatusCode, resp.Header.Get("Retry-After"), body}
	}()
	_, err = io.WriteString(pw, first)
	require.NoError(t, err)
	require.Eventually(t, ready, 10*time.Second, 5*time.Millisecond)
	return inShutdown{body: pw, sigterm: sigterm, served: served, answered: answered}
}

// stallThroughShutdown POSTs first (then nothing more, see
// postThroughShutdown), shuts the server down, and returns the answer, how
// long the shutdown took and Serve's error.
func stallThroughShutdown(t *testing.T, h http.Handler, path, first string, ready func() bool, hdr ...string) (stalledReply, time.Duration, error) {
	t.Helper()
	p := postThroughShutdown(t, h, path, first, ready, hdr...)
	start := time.Now()
	p.sigterm() // the client sends nothing more, and keeps the request open
	err := <-p.served
	took := time.Since(start)
	select {
	case a := <-p.answered:
		return a, took, err
	case <-time.After(5 * time.Second):
		t.Fatalf("the request was not answered (shutdown: %v after %s)", err, took)
	}
	return stalledReply{}, 0, nil
}

// SIGTERM while an upload's client stalls mid-body (sends nothing, keeps
// the connection): at half the grace its read ends too, and the api answers
// 503 with the summary of what it kept (found in review: the read waited
// for the whole grace, Serve failed with "context deadline exceeded", the
// api exited 1 and the client got no answer).
func TestServe_ShutdownAnswersAStalledUpload(t *testing.T) {
	t.Parallel()
	b := setupP(t, func(c *producer.Config) { c.BatchSize, c.Concurrency = 1, 1 },
		func(c *httpapi.Config) { c.MaxBody, c.MaxUpload = 8<<20, 8<<20 })
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)

	a, took, err := stallThroughShutdown(t, b.h, "/v1/campaigns/spring-sale-2026/recipients", "to\n441234500000\n441234500001\n",
		func() bool { return b.enqueued(t, "spring-sale-2026") == 2 },
		"Authorization", "Bearer "+token, "Content-Type", "text/csv")
	require.NoError(t, err, "a shutdown that answered every request is clean")
	require.Less(t, took, 5*time.Second, "cut at half the grace")
	requireKept(t, b, a)
	require.EqualValues(t, 2, b.enqueued(t, "spring-sale-2026"))
}

// SIGTERM while a webhook's body is still coming (its client stalls): at
// half the grace the api answers 503, which the provider delivers again
// (found in review: it waited for the whole grace, then closed the
// connection without an answer, and the api exited 1).
func TestServe_ShutdownAnswersAStalledWebhook(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *httpapi.Config) { c.WebhookSecret = hookSecret })
	body := fixture(t, "webhook_status_sent.json")
	var arrived atomic.Bool
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { arrived.Store(true); b.h.ServeHTTP(w, r) })
	a, took, err := stallThroughShutdown(t, h, "/webhooks/whatsapp", body[:len(body)/2], arrived.Load,
		webhook.SecretHeader, hookSecret, "Content-Type", "application/json")
	require.NoError(t, err, "a shutdown that answered every request is clean")
	require.Less(t, took, 5*time.Second, "cut at half the grace")
	require.Equal(t, http.StatusServiceUnavailable, a.code, "%s", a.body)
	require.NotEmpty(t, a.retryAfter)
	require.Contains(t, string(a.body), "shutting down")
	require.NotContains(t, string(a.body), "rows", "a webhook has no rows kept (found in review: the answer spoke of them)")
}

// The api logged a line when it started listening and none when it
// stopped (found in review): an operator reading a pod's logs could not
// tell a graceful stop from a crash. It logs "api stopped" once its
// requests are done.
func TestServe_LogsItsStop(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	var logs redistest.SyncBuffer
	srv, err := httpapi.New(httpapi.Config{Producer: b.p, Token: "t", Registerer: metrics.NewRegistry(),
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, "127.0.0.1:0", 2*time.Second) }()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), `"msg":"api listening"`) }, 5*time.Second, 5*time.Millisecond)
	require.NotContains(t, logs.String(), "api stopped")
	cancel()
	require.NoError(t, <-served)
	require.Contains(t, logs.String(), `"msg":"api stopped"`)
}
