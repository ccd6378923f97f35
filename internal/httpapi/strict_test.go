package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/pkg/campaign"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// rows returns n recipient objects joined by commas, numbered from first.
func rows(first, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"to": "4477009%05d"}`, first+i)
	}
	return strings.Join(parts, ", ")
}

// enqueued is how many jobs the store counts for campaign id (0 when the
// campaign does not exist).
func (b *bundle) enqueued(t *testing.T, id string) int64 {
	t.Helper()
	st, err := b.p.Store().Campaigns.Status(context.Background(), id)
	if err != nil {
		require.ErrorIs(t, err, campaign.ErrNotFound)
		return 0
	}
	return st.Counts.Enqueued
}

// summary is the summary of an answer, nil when it has none.
func (a answer) summary() map[string]any {
	if s, ok := a.body["summary"].(map[string]any); ok {
		return s
	}
	return nil
}

func TestCreateCampaign_RepeatedRecipientsKey(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 1)+`], "recipients": [`+rows(1, 2)+`]}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], `"recipients" appears twice`)
	require.NotNil(t, a.summary(), "rows of the first array were kept: %s", a.raw)
	require.EqualValues(t, 1, a.summary()["accepted"])
	require.EqualValues(t, 1, b.enqueued(t, "spring-sale-2026"), "the answer says exactly what was kept")

	// Recipients before the campaign are buffered: a second array is refused
	// before anything is enqueued, even before the campaign is registered.
	for _, body := range []string{
		`{"recipients": [` + rows(10, 1) + `], "campaign": {"id": "early-1", "template": {"name": "t", "language": {"code": "en"}}}, "recipients": [` + rows(11, 1) + `]}`,
		`{"recipients": [` + rows(10, 1) + `], "recipients": [` + rows(11, 1) + `], "campaign": {"id": "early-1", "template": {"name": "t", "language": {"code": "en"}}}}`,
	} {
		a = b.do(t, "POST", "/v1/campaigns", "", body)
		require.Equal(t, http.StatusBadRequest, a.code, a.raw)
		require.Contains(t, a.body["error"], `"recipients" appears twice`)
		require.Nil(t, a.summary(), a.raw)
		require.Zero(t, b.enqueued(t, "early-1"))
	}
}

func TestCreateCampaign_TwoCampaignKeys(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "first", "template": {"name": "t", "language": {"code": "en"}}},
		"campaign": {"id": "second", "template": {"name": "t", "language": {"code": "en"}}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], `"campaign" appears twice`)
	_, err := b.p.Store().Campaigns.Get(context.Background(), "second")
	require.ErrorIs(t, err, campaign.ErrNotFound, "the second campaign is refused before it is registered")

	// A second, conflicting definition after accepted rows: refused as a
	// repeated key, with what was kept (it was a 409 without a summary).
	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 2)+`],
		"campaign": {"id": "spring-sale-2026", "template": {"name": "other", "language": {"code": "en"}}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], `"campaign" appears twice`)
	require.NotNil(t, a.summary(), a.raw)
	require.EqualValues(t, 2, a.summary()["accepted"])
	require.EqualValues(t, 2, b.enqueued(t, "spring-sale-2026"))
}

func TestCreateCampaign_MissingClose(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 2)+`]`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "the JSON ends too early: missing '}'")
	require.NotNil(t, a.summary(), a.raw)
	require.EqualValues(t, 2, a.summary()["accepted"])
	require.EqualValues(t, 2, b.enqueued(t, "spring-sale-2026"))

	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "no-close", "template": {"name": "t", "language": {"code": "en"}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "the JSON ends too early: missing '}'")

	// Buffered recipients are enqueued only once the body is known whole.
	a = b.do(t, "POST", "/v1/campaigns", "", `{"recipients": [`+rows(5, 2)+`], "campaign": {"id": "early-2", "template": {"name": "t", "language": {"code": "en"}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "the JSON ends too early: missing '}'")
	require.Nil(t, a.summary(), a.raw)
	require.Zero(t, b.enqueued(t, "early-2"))
}

func TestCreateCampaign_TrailingData(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	obj := `{"campaign": ` + campaignJSON + `, "recipients": [` + rows(0, 1) + `]}`
	for i, tail := range []string{" x", `{"campaign": {}}`, "\n]", ` ""`} {
		body := obj + tail
		a := b.do(t, "POST", "/v1/campaigns", "", body)
		require.Equal(t, http.StatusBadRequest, a.code, "%q: %s", tail, a.raw)
		at := len(obj) + len(tail) - len(strings.TrimLeft(tail, " \n"))
		require.Contains(t, a.body["error"], fmt.Sprintf("trailing data after the JSON object at byte %d", at), tail)
		require.NotNil(t, a.summary(), a.raw)
		require.EqualValues(t, min(i, 1), a.summary()["duplicates"], "the same row again is a duplicate")
		require.EqualValues(t, 1, a.summary()["accepted"].(float64)+a.summary()["duplicates"].(float64))
	}
	require.EqualValues(t, 1, b.enqueued(t, "spring-sale-2026"))

	a := b.do(t, "POST", "/v1/campaigns", "", `{"recipients": [`+rows(5, 1)+`], "campaign": {"id": "early-3", "template": {"name": "t", "language": {"code": "en"}}}} 1`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "trailing data after the JSON object")
	require.Zero(t, b.enqueued(t, "early-3"), "buffered rows wait for the end of the body")

	// White space after the object is fine, up to the size limit.
	open := `{"campaign": ` + campaignJSON + `, "open": true, "recipients": [` + rows(0, 1) + `]}`
	require.Equal(t, http.StatusAccepted, b.do(t, "POST", "/v1/campaigns", "", open+" \r\n\t ").code)
	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(1, 1)+`]}`+strings.Repeat(" ", 5000))
	require.Equal(t, http.StatusRequestEntityTooLarge, a.code, a.raw)
	require.NotNil(t, a.summary(), a.raw)
	require.EqualValues(t, 1, a.summary()["accepted"])
	require.EqualValues(t, 2, b.enqueued(t, "spring-sale-2026"))
}

// startUpload begins a request whose body the test writes as it goes.
func (b *bundle) startUpload(t *testing.T, path, contentType string) (*io.PipeWriter, <-chan answer) {
	t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest("POST", b.srv.URL+path, pr)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	out := make(chan answer, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- answer{code: -1, raw: err.Error()}
			return
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		a := answer{code: resp.StatusCode, raw: string(raw)}
		_ = json.Unmarshal(raw, &a.body)
		out <- a
	}()
	t.Cleanup(func() { _ = pw.Close() })
	return pw, out
}

// cancelMidUpload writes head, waits until want rows are enqueued, cancels
// the campaign and writes tail (1 MiB and more, to see that the answer
// reaches a client still sending). It returns the answer.
func (b *bundle) cancelMidUpload(t *testing.T, id, path, contentType, head string, want int64, tail func(w io.Writer)) answer {
	t.Helper()
	return b.midUpload(t, id, path, contentType, head, want, func() {
		require.NoError(t, b.r.Client.HSet(context.Background(), b.r.Keys.Campaign(id), "state", "cancelled").Err())
	}, tail)
}

// midUpload writes head, waits until want rows are enqueued, calls act and
// writes tail. It returns the answer.
func (b *bundle) midUpload(t *testing.T, id, path, contentType, head string, want int64, act func(), tail func(w io.Writer)) answer {
	t.Helper()
	pw, out := b.startUpload(t, path, contentType)
	_, err := io.WriteString(pw, head)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.enqueued(t, id) == want }, 10*time.Second, 5*time.Millisecond)
	act()
	go func() {
		tail(pw)
		_ = pw.Close()
	}()
	select {
	case a := <-out:
		_ = pw.CloseWithError(io.ErrClosedPipe)
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("no answer")
	}
	return answer{}
}

func TestCreateCampaign_CancelledMidUploadKeepsSummary(t *testing.T) {
	t.Parallel()
	b := setupP(t, func(c *producer.Config) { c.BatchSize, c.Concurrency = 2, 1 },
		func(c *httpapi.Config) { c.MaxBody, c.MaxUpload = 8<<20, 8<<20 })
	a := b.cancelMidUpload(t, "spring-sale-2026", "/v1/campaigns", "application/json",
		`{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 4)+`, `, 4, func(w io.Writer) {
			for i := range 1000 {
				if _, err := fmt.Fprintf(w, "%s, ", rows(4+40*i, 40)); err != nil {
					return
				}
			}
			_, _ = io.WriteString(w, rows(90000, 1)+"]}")
		})
	require.Equal(t, http.StatusConflict, a.code, a.raw)
	require.Contains(t, a.body["error"], "cancelled")
	require.NotNil(t, a.summary(), a.raw)
	require.EqualValues(t, 4, a.summary()["accepted"])
	require.EqualValues(t, 4, b.enqueued(t, "spring-sale-2026"))
}

func TestAddRecipients_CancelledMidUploadKeepsSummary(t *testing.T) {
	t.Parallel()
	b := setupP(t, func(c *producer.Config) { c.BatchSize, c.Concurrency = 2, 1 },
		func(c *httpapi.Config) { c.MaxBody, c.MaxUpload = 8<<20, 8<<20 })
	require.Equal(t, 202, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	path := "/v1/campaigns/spring-sale-2026/recipients"
	for _, tc := range []struct {
		ct, head, row string
		want          int64 // rows in head
	}{
		{"text/csv", "to\n441234500000\n441234500001\n441234500002\n441234500003\n", "4477%08d\n", 4},
		{"application/x-ndjson", `{"to": "441234500004"}` + "\n" + `{"to": "441234500005"}` + "\n", `{"to": "4477%08d"}` + "\n", 2},
	} {
		before, want := b.enqueued(t, "spring-sale-2026"), tc.want
		a := b.cancelMidUpload(t, "spring-sale-2026", path, tc.ct, tc.head, before+want, func(w io.Writer) {
			for i := range 50000 {
				if _, err := fmt.Fprintf(w, tc.row, i); err != nil {
					return
				}
			}
		})
		require.Equal(t, http.StatusConflict, a.code, a.raw)
		require.NotNil(t, a.summary(), "%s: %s", tc.ct, a.raw)
		require.EqualValues(t, want, a.summary()["accepted"], tc.ct)
		require.EqualValues(t, before+want, b.enqueued(t, "spring-sale-2026"))
		require.NoError(t, b.r.Client.HSet(context.Background(), b.r.Keys.Campaign("spring-sale-2026"), "state", "running").Err())
	}
}

// A storage failure mid-upload is a 500 that still says what was kept.
func TestCreateCampaign_RedisFailsMidUploadKeepsSummary(t *testing.T) {
	t.Parallel()
	b := setupP(t, func(c *producer.Config) { c.BatchSize, c.Concurrency = 2, 1 }, nil)
	if b.r.Mini == nil {
		t.Skip("needs the embedded Redis to inject a failure")
	}
	a := b.midUpload(t, "spring-sale-2026", "/v1/campaigns", "application/json", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 2)+`, `, 2,
		func() { b.r.Mini.SetError("LOADING injected") },
		func(w io.Writer) { _, _ = io.WriteString(w, rows(2, 4)+"]}") })
	b.r.Mini.SetError("")
	require.Equal(t, http.StatusInternalServerError, a.code, a.raw)
	require.NotNil(t, a.summary(), a.raw)
	require.EqualValues(t, 2, a.summary()["accepted"])
	require.EqualValues(t, 2, b.enqueued(t, "spring-sale-2026"))
}

// Recipients before their campaign are held until it comes: within the body
// limit, numbered and counted as when streamed.
func TestCreateCampaign_RecipientsBeforeCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"recipients": [`+rows(0, 1)+`, 5, `+rows(0, 1)+`, {"to": "1"}, `+rows(1, 1)+`], "campaign": `+campaignJSON+`}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	var sum producer.Summary
	require.NoError(t, json.Unmarshal([]byte(a.raw), &sum))
	require.Equal(t, producer.Summary{CampaignID: "spring-sale-2026", Accepted: 2, Duplicates: 1, Rejected: 2,
		Errors: []producer.RowError{{Line: 1, Index: ptr(1), Reason: sum.Errors[0].Reason}, {Line: 3, Index: ptr(3), Reason: sum.Errors[1].Reason}}}, sum)
	require.Contains(t, sum.Errors[1].Reason, `"1" is not an international phone number`)
	require.EqualValues(t, 2, b.enqueued(t, "spring-sale-2026"))

	a = b.do(t, "POST", "/v1/campaigns", "", `{"recipients": [`+rows(100, 200)+`], "campaign": {"id": "too-big", "template": {"name": "t", "language": {"code": "en"}}}}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, a.code, a.raw)
	require.Nil(t, a.summary())
	_, err := b.p.Store().Campaigns.Get(context.Background(), "too-big")
	require.ErrorIs(t, err, campaign.ErrNotFound)
}

func ptr[T any](v T) *T { return &v }

// A 400 names the field at fault, once: "open: : want bool" named it
// twice and a campaign's repeated key registered its last value.
func TestCreateCampaign_ErrorsNameTheirField(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for body, want := range map[string]string{
		`{"campaign": ` + campaignJSON + `, "open": "yes"}`:                                                                                            "open: want bool, got string",
		`{"campaign": {"id": "a", "id": "b", "template": {"name": "t", "language": {"code": "en"}}}}`:                                                  `campaign: line 1, column 13: "id" appears twice`,
		`{"campaign": {"ID": "a", "template": {"name": "t", "language": {"code": "en"}}}}`:                                                             `campaign: line 1, column 2: unknown field "ID"`,
		`{"campaign": {"id": "a", "template": {"name": "t", "language": {"code": "en"}, "components": [{"type": 5}]}}}`:                                "campaign: template.components[0].type: want string, got number",
		`{"campaign": ` + campaignJSON + `, "recipients": [{"to": "441234567890", "to": "441234567899"}, {"to": "441234567891", "components": [{}]}]}`: "",
	} {
		a := b.do(t, "POST", "/v1/campaigns", "", body)
		if want == "" {
			require.Equal(t, http.StatusAccepted, a.code, a.raw)
			require.Equal(t, []any{
				map[string]any{"line": 0.0, "index": 0.0, "reason": `"to" appears twice`},
				map[string]any{"line": 1.0, "index": 1.0, "reason": `components[0]: missing "type"`},
			}, a.body["errors"])
			continue
		}
		require.Equal(t, http.StatusBadRequest, a.code, a.raw)
		require.Equal(t, want, a.body["error"], body)
	}
	require.Zero(t, b.enqueued(t, "a"), "no campaign was registered")
	require.Zero(t, b.enqueued(t, "b"))
}

// A button's index of any JSON type got 202; a campaign or a recipient
// with two body components too, one of them dropped. The campaign's are
// refused, the recipient's are rejected rows.
func TestCreateCampaign_BadIndexAndRepeatedComponents(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "c1", "template": {"name": "t", "language": {"code": "en"},
		"components": [{"type": "button", "sub_type": "url", "index": {"x": 1}}]}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], `template.components[0].index: want a number from 0 to 9`)
	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "c2", "template": {"name": "t", "language": {"code": "en"},
		"components": [{"type": "body"}, {"type": "body"}]}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], `template.components[1]: a second body component (one per type, sub_type and index)`)

	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [
		{"to": "447700900001", "components": [{"type": "button", "sub_type": "url", "index": {"x": 1}}]},
		{"to": "447700900002", "components": [{"type": "body"}, {"type": "body"}]},
		{"to": "447700900003"}]}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"], a.raw)
	errs := a.body["errors"].([]any)
	require.Len(t, errs, 2, a.raw)
	require.Contains(t, errs[0].(map[string]any)["reason"], "components[0].index: want a number from 0 to 9")
	require.Contains(t, errs[1].(map[string]any)["reason"], "components[1]: a second body component")
}

// A JSON body that starts with a UTF-8 byte order mark (Notepad and
// PowerShell write one) is read as a campaign file or an upload is: the
// mark is skipped, and byte offsets stay those of the body. It was a 400
// "invalid character 'ï' looking for beginning of value". A UTF-16 body is
// refused, saying so.
func TestJSONBodies_ByteOrderMark(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	const mark = "\xEF\xBB\xBF"
	a := b.do(t, "POST", "/v1/campaigns", "application/json", mark+`{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 1)+`], "open": true}`)
	require.Equal(t, 202, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"], a.raw)
	require.EqualValues(t, 1, b.enqueued(t, "spring-sale-2026"))

	body := mark + `{"campaign": ` + campaignJSON + `} x`
	a = b.do(t, "POST", "/v1/campaigns", "application/json", body)
	require.Equal(t, 400, a.code, a.raw)
	require.Equal(t, fmt.Sprintf("trailing data after the JSON object at byte %d: the body is one JSON object", len(body)-1), a.body["error"], a.raw)

	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/follow-up", "application/json", mark+`{"id": "fu", "statuses": ["sent"]}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Contains(t, a.body["error"], `statuses[0]: "sent" cannot be followed up`, "the body was read: %s", a.raw)
	a = b.do(t, "POST", "/v1/campaigns/spring-sale-2026/test", "application/json", mark+`{"to": "12"}`)
	require.Equal(t, 400, a.code, a.raw)
	require.Contains(t, a.body["error"], `to: "12" is not an international phone number`, "the body was read: %s", a.raw)

	for _, path := range []string{"/v1/campaigns", "/v1/campaigns/spring-sale-2026/follow-up", "/v1/campaigns/spring-sale-2026/test"} {
		a = b.do(t, "POST", path, "application/json", "\xFF\xFE{\x00}\x00")
		require.Equal(t, 400, a.code, "%s: %s", path, a.raw)
		require.Equal(t, "the body is UTF-16: send it as UTF-8", a.body["error"], "%s: %s", path, a.raw)
	}
}

// A body that is a number too large for a float64 is answered as any
// other body that is not an object; it was "want float64, got number
// 1e400", Go's words for a type the client never sent.
func TestCreateCampaign_HugeNumberBody(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, body := range []string{`1e400`, `-1e400`, ` 1e999 `} {
		a := b.do(t, "POST", "/v1/campaigns", "application/json", body)
		require.Equal(t, 400, a.code, a.raw)
		require.Equal(t, `the body must be a JSON object {"campaign": {...}, "recipients": [...]}`, a.body["error"], body)
	}
}

// A blank template parameter in the recipients array got 202 and the
// recipient failed at send (error 100); in the campaign, every recipient
// did. The recipient's is a rejected row, the campaign's a 400, each
// naming the field, as a CSV's blank body.1 is.
func TestCreateCampaign_BlankParameter(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "c1", "template": {"name": "t", "language": {"code": "en"},
		"components": [{"type": "body", "parameters": [{"type": "text", "text": ""}]}]}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Equal(t, "campaign: template.components[0].parameters[0].text: empty (a template parameter cannot be blank)", a.body["error"])
	require.Zero(t, b.enqueued(t, "c1"))

	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [
		{"to": "447700900001", "components": [{"type": "body", "parameters": [{"type": "text", "text": "  "}]}]},
		{"to": "447700900002", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"}]}]}]}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"], a.raw)
	require.Equal(t, []any{map[string]any{"line": 0.0, "index": 0.0,
		"reason": "components[0].parameters[0].text: empty (a template parameter cannot be blank)"}}, a.body["errors"])
}

// A named parameter with a blank parameter_name got 202 and failed at
// send (error 100): in the campaign, every recipient did. The campaign's
// is a 400, a recipient's a rejected row, each naming the field.
func TestCreateCampaign_BlankParameterName(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": {"id": "c1", "template": {"name": "t", "language": {"code": "en"},
		"components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": ""}]}]}}}`)
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Equal(t, "campaign: template.components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)", a.body["error"])
	require.Zero(t, b.enqueued(t, "c1"))

	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [
		{"to": "447700900001", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "  "}]}]},
		{"to": "447700900002", "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana", "parameter_name": "first_name"}]}]}]}`)
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.EqualValues(t, 1, a.body["accepted"], a.raw)
	require.Equal(t, []any{map[string]any{"line": 0.0, "index": 0.0,
		"reason": "components[0].parameters[0].parameter_name: empty (a parameter name cannot be blank)"}}, a.body["errors"])
}
