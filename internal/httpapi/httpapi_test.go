package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

const token = "s3cret-token"

type bundle struct {
	r   *redistest.Redis
	p   *producer.Producer
	srv *httptest.Server
	h   http.Handler // the server's handler, for calls without a network
}

func setup(t *testing.T, edit func(c *httpapi.Config)) *bundle {
	t.Helper()
	return setupP(t, nil, edit)
}

// setupP is setup with a producer config edited too (batch size, ...).
func setupP(t testing.TB, pedit func(c *producer.Config), edit func(c *httpapi.Config)) *bundle {
	t.Helper()
	r := redistest.New(t)
	reg := metrics.NewRegistry()
	pcfg := producer.Config{Client: r.Client, Queue: r.Queue, ResultsQueue: r.Results, Registerer: reg}
	if pedit != nil {
		pedit(&pcfg)
	}
	p, err := producer.New(pcfg)
	require.NoError(t, err)
	cfg := httpapi.Config{Producer: p, Token: token, Registerer: reg, MaxBody: 4096, MaxUpload: 8192, ResultsQueue: r.Results,
		Ready: func(ctx context.Context) error { return r.Client.Ping(ctx).Err() }}
	if edit != nil {
		edit(&cfg)
	}
	s, err := httpapi.New(cfg)
	require.NoError(t, err)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &bundle{r: r, p: p, srv: srv, h: s.Handler()}
}

type answer struct {
	code int
	body map[string]any
	raw  string
	hdr  http.Header
}

func (b *bundle) do(t *testing.T, method, path, contentType, body string, hdr ...string) answer {
	t.Helper()
	req, err := http.NewRequest(method, b.srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, raw: string(raw), hdr: resp.Header}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

const campaignJSON = `{"id": "spring-sale-2026", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, h := range []string{"", "Bearer wrong", "Basic " + token, "Bearer", "Bearer ", "Bearer" + token, "Bearer " + token + "x", "Bearer x " + token, token} {
		req, _ := http.NewRequest("POST", b.srv.URL+"/v1/campaigns", strings.NewReader(`{"campaign": `+campaignJSON+`}`))
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode, h)
	}
	_, err := b.p.Store().Campaigns.Get(context.Background(), "spring-sale-2026")
	require.ErrorIs(t, err, campaign.ErrNotFound, "a refused request changes nothing")
	require.Equal(t, 200, b.do(t, "GET", "/healthz", "", "", "Authorization", "").code, "probes need no token")

	_, err = httpapi.New(httpapi.Config{Producer: b.p})
	require.ErrorContains(t, err, "MMLITE_API_TOKEN is empty")
	open := setup(t, func(c *httpapi.Config) { c.Token, c.AllowNoAuth = "", true })
	require.Equal(t, http.StatusNotFound, open.do(t, "GET", "/v1/campaigns/x", "", "", "Authorization", "").code)
}

// RFC 7235: the scheme is case-insensitive; one or more spaces follow it.
func TestAuth_SchemeIsCaseInsensitive(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, h := range []string{"Bearer " + token, "bearer " + token, "BEARER " + token, "bEaReR " + token, "Bearer   " + token, "bearer \t" + token} {
		a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`, "Authorization", h)
		require.Equal(t, http.StatusAccepted, a.code, "%q: %s", h, a.raw)
	}
}

func TestCreateCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "application/json", `{"campaign": `+campaignJSON+`, "recipients": [
		{"to": "+44 1234 567890", "metadata": {"crm_id": "42"}},
		{"to": "12"},
		{"to": "441234567891", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]},
		{"to": "441234567890"}]}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.JSONEq(t, `{"campaign_id": "spring-sale-2026", "accepted": 2, "duplicates": 1, "rejected": 1,
		"errors": [{"line": 1, "index": 1, "reason": "to: \"12\" is not an international phone number: 2 digits, want 8 to 15"}]}`, a.raw)

	st := b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "")
	require.Equal(t, 200, st.code)
	require.Equal(t, "running", st.body["state"])
	require.EqualValues(t, 2, st.body["counts"].(map[string]any)["enqueued"])

	// The same request again is idempotent.
	a = b.do(t, "POST", "/v1/campaigns", "application/json", `{"campaign": `+campaignJSON+`, "recipients": [{"to": "441234567890"}]}`)
	require.Equal(t, http.StatusAccepted, a.code)
	require.EqualValues(t, 1, a.body["duplicates"])

	// Inline recipients were the whole list: the campaign is sealed, and a
	// new recipient is refused with the summary.
	require.Equal(t, true, st.body["sealed"])
	a = b.do(t, "POST", "/v1/campaigns", "application/json", `{"recipients": [{"to": "441234567892"}], "campaign": `+campaignJSON+`}`)
	require.Equal(t, http.StatusConflict, a.code, a.raw)
	require.JSONEq(t, `{"campaign_id": "spring-sale-2026", "accepted": 0, "duplicates": 0, "rejected": 1,
		"errors": [{"line": 0, "index": 0, "reason": "campaign is sealed"}]}`, mustJSON(t, a.body["summary"]))

	// Recipients before the campaign still work; "open" keeps it open.
	other := strings.Replace(campaignJSON, "spring-sale-2026", "spring-2", 1)
	a = b.do(t, "POST", "/v1/campaigns", "application/json", `{"recipients": [{"to": "441234567892"}], "open": true, "campaign": `+other+`}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"])
	st = b.do(t, "GET", "/v1/campaigns/spring-2", "", "")
	require.Equal(t, false, st.body["sealed"])
	a = b.do(t, "POST", "/v1/campaigns/spring-2/recipients", "text/csv", "to\n441234567893\n")
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	st = b.do(t, "POST", "/v1/campaigns/spring-2/seal", "", "")
	require.Equal(t, http.StatusOK, st.code, st.raw)
	require.Equal(t, true, st.body["sealed"])
	require.Equal(t, http.StatusNotFound, b.do(t, "POST", "/v1/campaigns/nope/seal", "", "").code)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestCreateCampaign_Errors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	cases := []struct {
		body string
		code int
		want string
	}{
		{`[]`, 400, "must be a JSON object"},
		{`{"campaign": `, 400, "ends too early"},
		{`{"recipients": []}`, 400, "campaign is required"},
		{`{"campaign": {"id": "bad id", "template": {"name": "Spring"}}}`, 400, "id must be 1-64"},
		{`{"campaign": {"id": "x", "template": {"name": "t", "language": {"code": "en"}}, "colour": 1}}`, 400, `unknown field "colour"`},
		{`{"campaign": {"id": "x", "message_send_ttl_seconds": "long"}}`, 400, "message_send_ttl_seconds: want int"},
		{`{"campaign": ` + campaignJSON + `, "extra": 1}`, 400, `unknown field "extra"`},
		{`{"campaign": {"id": "spring-sale-2026", "template": {"name": "other", "language": {"code": "en"}}}}`, 409, "different campaign"},
		{`{"campaign": ` + campaignJSON + `, "recipients": {}}`, 400, "recipients must be an array"},
		{`{"campaign": {"id": "late", "template": {"name": "t", "language": {"code": "en"}}, "expires_at": "2020-01-01T00:00:00Z"}}`, 400, "has already passed"},
	}
	for _, tc := range cases {
		a := b.do(t, "POST", "/v1/campaigns", "application/json", tc.body)
		require.Equal(t, tc.code, a.code, "%s: %s", tc.body, a.raw)
		require.Contains(t, a.body["error"], tc.want, tc.body)
	}
}

func TestCreateCampaign_BrokenOrHugeBodyKeepsWhatWasAccepted(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [{"to": "441234567890"}, {"to": "4412`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "recipients[1]")
	require.EqualValues(t, 1, a.body["summary"].(map[string]any)["accepted"])

	var sb strings.Builder
	for i := range 400 {
		fmt.Fprintf(&sb, `{"to": "4477009%05d"},`, i)
	}
	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "big", "template": {"name": "t", "language": {"code": "en"}}}, "recipients": [`+sb.String()+`{"to": "441234567890"}]}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.code, a.raw)
	accepted := a.body["summary"].(map[string]any)["accepted"].(float64)
	require.Greater(t, accepted, 10.0)
	st, err := b.p.Store().Campaigns.Status(context.Background(), "big")
	require.NoError(t, err)
	require.EqualValues(t, accepted, st.Counts.Enqueued, "the answer says exactly what was kept")
}

func TestAddRecipients(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	path := "/v1/campaigns/spring-sale-2026/recipients"

	a := b.do(t, "POST", path, "text/csv; charset=utf-8", "to,body.1\n441234567890,Ana\n123,Bob\n")
	require.Equal(t, 202, a.code, a.raw)
	require.JSONEq(t, `{"campaign_id": "spring-sale-2026", "accepted": 1, "duplicates": 0, "rejected": 1,
		"errors": [{"line": 3, "reason": "to: \"123\" is not an international phone number: 3 digits, want 8 to 15"}]}`, a.raw)

	a = b.do(t, "POST", path, "application/x-ndjson", `{"to": "441234567891"}`+"\n"+`{"to": "441234567890"}`+"\n")
	require.Equal(t, 202, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"])
	require.EqualValues(t, 1, a.body["duplicates"])

	require.Equal(t, http.StatusUnsupportedMediaType, b.do(t, "POST", path, "application/json", "[]").code)
	require.Equal(t, http.StatusNotFound, b.do(t, "POST", "/v1/campaigns/nope/recipients", "text/csv", "to\n").code)
	a = b.do(t, "POST", path, "text/csv", "phone\n441234567890\n")
	require.Equal(t, http.StatusBadRequest, a.code)
	require.Contains(t, a.body["error"], `line 1: column "phone" is unknown`)

	var sb strings.Builder
	sb.WriteString("to\n")
	for i := range 1000 {
		fmt.Fprintf(&sb, "4477009%05d\n", i)
	}
	a = b.do(t, "POST", path, "text/csv", sb.String())
	require.Equal(t, http.StatusRequestEntityTooLarge, a.code, a.raw)
	require.Greater(t, a.body["summary"].(map[string]any)["accepted"].(float64), 100.0)

	require.NoError(t, b.r.Client.HSet(context.Background(), b.r.Keys.Campaign("spring-sale-2026"), "state", "cancelled").Err())
	a = b.do(t, "POST", path, "text/csv", "to\n449999999999\n")
	require.Equal(t, http.StatusConflict, a.code, a.raw)
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 404, b.do(t, "GET", "/v1/campaigns/nope", "", "").code)
	a := b.do(t, "GET", "/nowhere", "", "")
	require.Equal(t, 404, a.code)
	require.Contains(t, a.body["error"], "no such endpoint")
	require.Equal(t, 200, b.do(t, "GET", "/readyz", "", "").code)
	b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [{"to": "441234567890"}]}`)
	m := b.do(t, "GET", "/metrics", "", "")
	require.Equal(t, 200, m.code)
	require.Contains(t, m.raw, `mmlite_enqueued_total{result="accepted"} 1`)
	require.Contains(t, m.raw, `mmlite_http_requests_total{code="202",route="/v1/campaigns"} 1`)
	require.NotContains(t, m.raw, "441234567890")
	if promtool, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(m.raw)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool: %s", out)
	}
}

// JSON Lines (or a JSON array) posted as text/csv was refused as a malformed
// CSV header ("line 1: header: malformed CSV: a \" in a field that is not
// quoted: ..."), which does not say that the body is JSON and the
// Content-Type wrong; mmlite enqueue says so of the same input.
func TestAddRecipients_JSONPostedAsCSV(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	path := "/v1/campaigns/spring-sale-2026/recipients"
	for _, body := range []string{`{"to": "441234567890"}` + "\n", "\ufeff \r\n" + `[{"to": "441234567890"}]`} {
		a := b.do(t, "POST", path, "text/csv", body)
		require.Equal(t, http.StatusBadRequest, a.code, a.raw)
		require.Equal(t, "the body looks like JSON, not CSV: send JSON Lines (one recipient object per line) with Content-Type: application/x-ndjson", a.body["error"], "%q", body)
	}
	a := b.do(t, "POST", path, "text/csv", "\ufeffto\r\n441234567890\r\n")
	require.Equal(t, 202, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"], "a BOM is still skipped")
	a = b.do(t, "POST", path, "text/csv", "\xff\xfet\x00o\x00")
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "the file is UTF-16")
}
