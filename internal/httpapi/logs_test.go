package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// logLines decodes JSON log lines.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		out = append(out, m)
	}
	return out
}

// requestLevels is the level of each "request" line, by status.
func requestLevels(t *testing.T, s string) map[int]string {
	t.Helper()
	out := map[int]string{}
	for _, l := range logLines(t, s) {
		if l["msg"] == "request" {
			out[int(l["status"].(float64))] = l["level"].(string)
		}
	}
	return out
}

// Issue 12: the api logged every request at INFO (2,865 lines in 12
// minutes of webhooks). A request that went well is a debug line; a client
// error an info line; a server error a warning (its cause is an ERROR line
// of its own).
func TestRequestLogLevels(t *testing.T) {
	t.Parallel()
	var logs redistest.SyncBuffer
	b := setup(t, func(c *httpapi.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	require.Equal(t, 200, b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "").code)
	require.Equal(t, 404, b.do(t, "GET", "/v1/campaigns/nope", "", "").code)
	require.Equal(t, 400, b.do(t, "POST", "/v1/campaigns", "", `[]`).code)
	require.Equal(t, 401, b.do(t, "GET", "/v1/campaigns/nope", "", "", "Authorization", "Bearer wrong").code)
	require.Equal(t, map[int]string{200: "DEBUG", 202: "DEBUG", 400: "INFO", 401: "INFO", 404: "INFO"}, requestLevels(t, logs.String()))

	// A Redis that is gone: a 500.
	var logs5 redistest.SyncBuffer
	mr := miniredis.RunT(t)
	p, err := producer.New(producer.Config{Redis: asynq.RedisClientOpt{Addr: mr.Addr()}, Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	s, err := httpapi.New(httpapi.Config{Producer: p, Token: token, WebhookSecret: "x",
		Logger: slog.New(slog.NewJSONHandler(&logs5, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	mr.Close()
	req, _ := http.NewRequestWithContext(context.Background(), "GET", "/v1/campaigns/x", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, req)
	require.Equal(t, 500, w.Code, w.Body.String())
	require.Equal(t, map[int]string{500: "WARN"}, requestLevels(t, logs5.String()))
	require.Contains(t, logs5.String(), `"level":"ERROR","msg":"request failed"`)
}

// Issue 12: without a webhook secret the api started silently, then
// answered every webhook 401.
func TestWarnsWithoutWebhookSecret(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	p, err := producer.New(producer.Config{Redis: asynq.RedisClientOpt{Addr: mr.Addr()}, Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	start := func(edit func(c *httpapi.Config)) string {
		var logs redistest.SyncBuffer
		cfg := httpapi.Config{Producer: p, Token: token, Registerer: metrics.NewRegistry(),
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
		edit(&cfg)
		_, err := httpapi.New(cfg)
		require.NoError(t, err)
		return logs.String()
	}
	out := start(func(*httpapi.Config) {})
	lines := logLines(t, out)
	require.Len(t, lines, 1, out)
	require.Equal(t, "WARN", lines[0]["level"])
	require.Contains(t, lines[0]["msg"], "401")
	require.Contains(t, lines[0]["msg"], "MMLITE_WEBHOOK_SECRET")
	require.Contains(t, lines[0]["msg"], "MMLITE_META_APP_SECRET")

	require.Empty(t, start(func(c *httpapi.Config) { c.WebhookSecret = "s" }))
	require.Empty(t, start(func(c *httpapi.Config) { c.AppSecret, c.VerifyToken = "s", "vt" })) // without a verify token: TestWebhooks_NoVerifyTokenWarned
	require.Empty(t, start(func(c *httpapi.Config) { c.Token, c.AllowNoAuth = "", true }), "--insecure-no-auth accepts webhooks unsigned")
}

// Issue 12: the summary called a 0-based array index "line". Rows of the
// recipients array carry "index"; "line" stays, with the same value.
func TestCreateCampaign_ErrorsNameTheIndex(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	rows := `[{"to": "441234567890"}, {"to": "12"}, {"to": "441234567891"}, {"nope": 1}]`
	a := b.do(t, "POST", "/v1/campaigns", "application/json", `{"campaign": `+campaignJSON+`, "open": true, "recipients": `+rows+`}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	errs := a.body["errors"].([]any)
	require.Len(t, errs, 2, a.raw)
	for i, want := range []float64{1, 3} {
		e := errs[i].(map[string]any)
		require.Equal(t, want, e["index"], a.raw)
		require.Equal(t, want, e["line"], "kept for compatibility: %s", a.raw)
	}

	// Recipients before their campaign: the same.
	other := strings.Replace(campaignJSON, "spring-sale-2026", "spring-2", 1)
	a = b.do(t, "POST", "/v1/campaigns", "application/json", `{"recipients": `+rows+`, "campaign": `+other+`}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.Contains(t, a.raw, `{"line":1,"index":1,`)
	require.Contains(t, a.raw, `{"line":3,"index":3,`)

	// A sealed campaign's refusals too.
	a = b.do(t, "POST", "/v1/campaigns", "application/json", `{"recipients": [{"to": "441234567899"}], "campaign": `+other+`}`)
	require.Equal(t, http.StatusConflict, a.code, a.raw)
	require.Contains(t, a.raw, `{"line":0,"index":0,"reason":"campaign is sealed"}`)

	// Files have lines, not indexes.
	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/recipients", "text/csv", "to\n12\n")
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.NotContains(t, a.raw, `"index"`)
	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/recipients", "application/x-ndjson", `{"to": "12"}`+"\n")
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.NotContains(t, a.raw, `"index"`)
}
