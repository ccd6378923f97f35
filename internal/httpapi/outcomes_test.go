package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/store"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// A results export that breaks off once rows are written is cut short,
// never answered as if it were whole. Real Redis only: the embedded one
// answers HSCAN in one batch, so nothing breaks off mid-way there.
func TestResults_BrokenOffExportIsCutShort(t *testing.T) {
	redistest.SkipUnlessReal(t)
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	c, err := campaign.Decode([]byte(campaignJSON))
	require.NoError(t, err)
	_, err = b.p.Register(ctx, c)
	require.NoError(t, err)
	ledger := b.r.Keys.Ledger(c.ID)
	for i := range 3000 {
		require.NoError(t, b.r.Client.HSet(ctx, ledger, fmt.Sprint(447700000000+i), `F{"st":"sent","a":1,"t":1796306544000,"w":"wamid.x"}`).Err())
	}
	// Break a marker that the export's first batch does not hold.
	first, _, err := b.r.Client.HScan(ctx, ledger, 0, "", 500).Result()
	require.NoError(t, err)
	inFirst := map[string]bool{}
	for i := 0; i < len(first); i += 2 {
		inFirst[first[i]] = true
	}
	broken := ""
	for i := range 3000 {
		if k := fmt.Sprint(447700000000 + i); !inFirst[k] {
			broken = k
			break
		}
	}
	require.NotEmpty(t, broken)
	require.NoError(t, b.r.Client.HSet(ctx, ledger, broken, `F{"st":`).Err())

	req, err := http.NewRequest("GET", b.srv.URL+"/v1/campaigns/"+c.ID+"/results", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "rows were written before the broken marker")
	_, err = io.ReadAll(resp.Body)
	require.Error(t, err, "the client sees the answer cut short")
}

// A follow-up whose enqueue failed part-way (a 500 with the summary of what
// was kept) is finished by the same request again: 202, what was missing
// enqueued, the campaign sealed. Another follow-up under that id is a 409
// that says what the id holds.
func TestFollowUp_SameRequestAgainFinishesIt(t *testing.T) {
	t.Parallel()
	b := setupP(t, func(c *producer.Config) { c.BatchSize, c.Concurrency = 1, 1 }, nil)
	ctx := context.Background()
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 3)+`]}`).code)
	for i := range 3 {
		_, err := b.p.Store().Ledger.Settle(ctx, "spring-sale-2026", fmt.Sprintf("4477009%05d", i),
			store.Outcome{Status: task.StatusFailed, Error: &task.Error{Code: 131026}}, store.FailurePolicy{}, nil)
		require.NoError(t, err)
	}
	b.r.Client.AddHook(&redistest.FailFirst{Name: "evalsha", Arg: task.SendID("fu", "447700900001")})
	body := `{"id": "fu", "statuses": ["failed"]}`
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", body)
	require.Equal(t, 500, a.code, a.raw)
	kept := int64(0)
	if sum, ok := a.body["summary"].(map[string]any); ok {
		kept = int64(sum["accepted"].(float64))
	}

	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", body)
	require.Equal(t, 202, a.code, a.raw)
	require.EqualValues(t, 3-kept, a.body["accepted"], a.raw)
	require.EqualValues(t, kept, a.body["duplicates"], a.raw)
	st, err := b.p.Store().Campaigns.Status(ctx, "fu")
	require.NoError(t, err)
	require.EqualValues(t, 3, st.Counts.Enqueued, "every failed recipient is followed up")
	require.True(t, st.Sealed)

	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", `{"id": "fu", "statuses": ["failed", "expired"]}`)
	require.Equal(t, 409, a.code, a.raw)
	require.Equal(t, "campaign fu exists: it is a follow-up of spring-sale-2026 (statuses failed): choose another id",
		a.body["error"], a.raw)
}

// The follow-up and test-send bodies are read as strictly as a campaign:
// a repeated or differently cased key and text that is not UTF-8 are 400s
// (the last value won, "ID" was id, Latin-1 was sent as U+FFFD), and the
// errors speak JSON, not Go.
func TestSmallBodies_Strict(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	for body, want := range map[string]string{
		`{"id": "a", "id": "b", "statuses": ["failed"]}`:    `"id" appears twice`,
		`{"ID": "a", "statuses": ["failed"]}`:               `unknown field "ID"`,
		"{\"id\": \"caf\xe9\", \"statuses\": [\"failed\"]}": "not valid UTF-8",
		`[]`:                     "want a JSON object, got array",
		`{"statuses": "failed"}`: "statuses: want an array, got string",
	} {
		a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", body)
		require.Equal(t, 400, a.code, "%s: %s", body, a.raw)
		require.Contains(t, a.body["error"], want, body)
	}
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/test", "application/json", `{"to": "+447700900001", "to": "+447700900002"}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Contains(t, a.body["error"], `"to" appears twice`)
}

// A bad send_at / expires_at in a follow-up body is a 400 that names the
// field, the form wanted (time.Time's own error names neither) and the value
// given, as a campaign's send_at and the CLI's --send-at do (it named only
// the field); null is no time, as omitted.
func TestFollowUp_BadTimeNamesTheField(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	const want = ": want an RFC 3339 time with a time zone: YYYY-MM-DDThh:mm:ssZ (UTC) or YYYY-MM-DDThh:mm:ss+02:00"
	for body, field := range map[string][2]string{
		`{"id": "f1", "statuses": ["failed"], "send_at": "tomorrow"}`:                                        {"send_at", `"tomorrow"`},
		`{"id": "f1", "statuses": ["failed"], "expires_at": 1796306544}`:                                     {"expires_at", `1796306544`},
		`{"id": "f1", "statuses": ["failed"], "send_at": "2026-12-24T09:00:00"}`:                             {"send_at", `"2026-12-24T09:00:00"`},
		`{"id": "f1", "statuses": ["failed"], "send_at": null, "expires_at": "2026-12-24 09:00:00Z"}`:        {"expires_at", `"2026-12-24 09:00:00Z"`},
		`{"id": "f1", "statuses": ["failed"], "send_at": "2099-12-24T09:00:00Z", "expires_at": {"at": "x"}}`: {"expires_at", `{"at": "x"}`},
	} {
		a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", body)
		require.Equal(t, 400, a.code, a.raw)
		require.Equal(t, field[0]+want+", got "+field[1], a.body["error"], body)
	}
}

// A bad component in a test-send or follow-up body is named by its
// position, as in a campaign ("template.components[1].type") or a row
// ("components[1].type").
func TestSmallBodies_ComponentErrorNamesItsIndex(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	a := b.do(t, "POST", "/v1/campaigns/spring-sale-2026/test", "application/json",
		`{"to": "447700900001", "components": [{"type": "body"}, {"type": 1}]}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, "components[1].type: want string, got number", a.body["error"], a.raw)

	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json",
		`{"id": "f1", "statuses": ["failed"], "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": "body"}, {"type": 1}]}}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, "template.components[1].type: want string, got number", a.body["error"], a.raw)

	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/test", "application/json",
		`{"to": "447700900001", "components": [{"sub_type": "url"}]}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, `components[0]: missing "type"`, a.body["error"], a.raw)
}

// A follow-up or test-send body over the value limit is a 413 whose advice
// fits it: not "send the recipients in several requests".
func TestSmallBodies_OversizedAdviceFits(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	big := `{"id": "` + strings.Repeat("x", 2<<20) + `", "statuses": ["failed"]}`
	for path, want := range map[string]string{
		"/v1/campaigns/spring-sale-2026/follow-up": "request body is larger than 1048576 bytes: a follow-up is one small JSON object",
		"/v1/campaigns/spring-sale-2026/test":      "request body is larger than 1048576 bytes: a test send is one recipient",
	} {
		a := b.do(t, "POST", path, "application/json", big)
		require.Equal(t, 413, a.code, a.raw)
		require.NotContains(t, a.body["error"], "send the recipients in several requests", "%s: %s", path, a.raw)
		require.Contains(t, a.body["error"], want, "%s: %s", path, a.raw)
	}
}

// An Accept that refuses CSV (q=0) gets JSON Lines; it got CSV, as
// "text/csv" was looked for without its weight.
func TestResults_AcceptCSVWithZeroWeight(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	for accept, want := range map[string]string{
		"text/csv":                                "text/csv",
		"text/csv; q=0.5, application/x-ndjson":   "application/x-ndjson",
		"text/csv;q=0, application/x-ndjson":      "application/x-ndjson",
		"application/x-ndjson, text/csv; q=0.000": "application/x-ndjson",
	} {
		req, err := http.NewRequest("GET", b.srv.URL+"/v1/campaigns/spring-sale-2026/results", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, accept)
		require.Contains(t, resp.Header.Get("Content-Type"), want, accept)
	}
}

// A message accepted, then reported failed (undelivered), is exported as
// CSV with its failed status's code in error_code: the cell was empty
// though the code filter selected the row by that code.
func TestResultsCSV_UndeliveredCarriesItsCode(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, nil)
	a := b.hook(t, fixture(t, "webhook_status_failed.json")) // 131049 for 12125550123
	require.Equal(t, http.StatusOK, a.code, a.raw)
	for _, q := range []string{"", "?status=undelivered", "?code=131049"} {
		a := b.do(t, "GET", "/v1/campaigns/spring-sale-2026/results"+q, "", "", "Accept", "text/csv")
		require.Equal(t, http.StatusOK, a.code, a.raw)
		rows := strings.Split(strings.TrimSpace(a.raw), "\n")
		require.Equal(t, "to,status,error_code,wamid", rows[0], q)
		require.Contains(t, rows[1:], "12125550123,sent,131049,"+wamidUS, q)
		if q == "" {
			require.Contains(t, rows[1:], "441234567890,sent,,"+wamidUK, "a message not reported failed has none")
		} else {
			require.Len(t, rows, 2, q)
		}
	}
}

// A recipients file posted to POST /v1/campaigns (the wrong endpoint) is
// a 415 naming the right one, and registers nothing: JSON Lines whose
// first line was the campaign registered it and refused the rest as
// trailing data; a CSV got "invalid character".
func TestCreateCampaign_RecipientsFileNamesTheRightEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	jsonl := `{"campaign": ` + campaignJSON + "}\n" + `{"to": "447700900001"}` + "\n"
	for ct, body := range map[string]string{
		"text/csv":                         "to\n447700900001\n",
		"application/x-ndjson":             jsonl,
		"application/jsonl; charset=utf-8": jsonl,
		"multipart/form-data; boundary=x":  "--x--\r\n",
	} {
		a := b.do(t, "POST", "/v1/campaigns", ct, body)
		require.Equal(t, http.StatusUnsupportedMediaType, a.code, "%s: %s", ct, a.raw)
		require.Contains(t, a.body["error"], "POST /v1/campaigns/{id}/recipients", ct)
	}
	require.Equal(t, http.StatusNotFound, b.do(t, "GET", "/v1/campaigns/spring-sale-2026", "", "").code, "nothing registered")
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", ""} { // curl -d sends a form's type
		a := b.do(t, "POST", "/v1/campaigns", ct, `{"campaign": `+campaignJSON+`}`)
		require.Equal(t, http.StatusAccepted, a.code, "%q: %s", ct, a.raw)
	}
}
