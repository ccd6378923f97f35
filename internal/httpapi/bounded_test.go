package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/stretchr/testify/require"
)

// counted is a request body that counts the bytes read from it: head,
// then n bytes of fill, then tail, made as they are read.
type counted struct {
	r    io.Reader
	read atomic.Int64
}

func newCounted(head string, fill byte, n int64, tail string) *counted {
	return &counted{r: io.MultiReader(strings.NewReader(head), io.LimitReader(filler(fill), n), strings.NewReader(tail))}
}

type filler byte

func (f filler) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

func (c *counted) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// serve runs a request through the handler (no network, so that the only
// reader of the body is the api) and decodes the answer.
func (b *bundle) serve(method, path string, body io.Reader, hdr ...string) answer {
	req := httptest.NewRequest(method, path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, req)
	a := answer{code: w.Code, raw: w.Body.String()}
	_ = json.Unmarshal(w.Body.Bytes(), &a.body)
	return a
}

// A value of the body larger than 1 MiB is refused as soon as it passes
// the limit, naming it, with the summary of the rows kept; the api reads
// little more than the limit of it (before: the whole 40 MB, held three
// times over by encoding/json, and a 202).
func TestCreateCampaign_ValueOverLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *httpapi.Config) { c.MaxBody = 64 << 20 })
	const huge = 40 << 20
	most := int64(httpapi.DefaultMaxValue + 256<<10) // the limit, the decoder's read-ahead, what came before
	for _, tc := range []struct {
		name, head, tail, want string
		kept                   int64
	}{
		{"a recipient", `{"campaign": ` + campaignJSON + `, "recipients": [` + rows(0, 3) + `, {"to": "447700900003", "metadata": {"a": "`, `"}}]}`,
			"recipients[3]: larger than 1048576 bytes", 3},
		{"white space before a recipient", `{"campaign": ` + campaignJSON + `, "recipients": [` + rows(0, 2) + `, `, `{"to": "447700900004"}]}`,
			"recipients[2]: larger than 1048576 bytes", 2},
		{"the campaign", `{"campaign": {"id": "big-campaign", "description": "`, `"}}`, "campaign: larger than 1048576 bytes", 0},
		{"open", `{"campaign": ` + campaignJSON + `, "open": "`, `"}`, "open: larger than 1048576 bytes", 0},
		{"a key", `{"campaign": ` + campaignJSON + `, "`, `": 1}`, "a JSON value of the body is larger than 1048576 bytes", 0},
		{"a recipient before the campaign", `{"recipients": [{"to": "447700900005", "metadata": {"a": "`, `"}}], "campaign": ` + campaignJSON + `}`,
			"recipients[0]: larger than 1048576 bytes", 0},
	} {
		fill := byte('x')
		if strings.HasPrefix(tc.name, "white") {
			fill = ' '
		}
		body := newCounted(tc.head, fill, huge, tc.tail)
		a := b.serve("POST", "/v1/campaigns", body)
		require.Equal(t, http.StatusBadRequest, a.code, "%s: %.300s", tc.name, a.raw)
		require.Equal(t, tc.want, a.body["error"], tc.name)
		require.Equal(t, tc.kept, a.summaryRows(), "%s: %s", tc.name, a.raw)
		require.Less(t, body.read.Load(), most, "%s: read %d bytes of a %d-byte body", tc.name, body.read.Load(), huge)
	}
	require.EqualValues(t, 3, b.enqueued(t, "spring-sale-2026"))

	// Up to the limit, a value passes.
	big := `{"to": "447700900009", "components": [{"type": "body", "parameters": [{"type": "text", "text": "` +
		strings.Repeat("y", httpapi.DefaultMaxValue-200) + `"}]}]}`
	a := b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "open": true, "recipients": [`+big+`]}`)
	require.Equal(t, http.StatusAccepted, a.code, "%.300s", a.raw)
	require.EqualValues(t, 1, a.body["accepted"])
}

func (a answer) summaryRows() int64 {
	s := a.summary()
	if s == nil {
		return 0
	}
	return int64(s["accepted"].(float64) + s["duplicates"].(float64) + s["rejected"].(float64))
}

// Recipients before their campaign are held, so only 1 MiB of them.
func TestCreateCampaign_ManyRecipientsBeforeCampaign(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *httpapi.Config) { c.MaxBody = 64 << 20 })
	body := `{"recipients": [` + rows(0, 50_000) + `], "campaign": ` + campaignJSON + `}`
	a := b.do(t, "POST", "/v1/campaigns", "", body)
	require.Equal(t, http.StatusBadRequest, a.code, "%.300s", a.raw)
	require.Contains(t, a.body["error"], `recipients: more than 1048576 bytes of recipients before "campaign": send "campaign" first`)
	require.Nil(t, a.summary())
	require.Zero(t, b.enqueued(t, "spring-sale-2026"))

	// The same list after the campaign is streamed.
	a = b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`, "recipients": [`+rows(0, 50_000)+`]}`)
	require.Equal(t, http.StatusAccepted, a.code, "%.300s", a.raw)
	require.EqualValues(t, 50_000, a.body["accepted"], "%.600s", a.raw)
}

// waitRead waits until c was read at least n bytes.
func waitRead(t *testing.T, c interface{ Load() int64 }, n int64) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Load() >= n }, 10*time.Second, 5*time.Millisecond)
}

// holdIntake registers the spring campaign and has an upload of its
// recipients hold the only intake slot (MaxIntake 1), its body still
// coming: what pw writes reaches it; closing pw ends it, with its answer
// on done.
func holdIntake(t *testing.T, b *bundle) (pw *io.PipeWriter, done chan answer) {
	t.Helper()
	require.Equal(t, http.StatusAccepted, b.do(t, "POST", "/v1/campaigns", "", `{"campaign": `+campaignJSON+`}`).code)
	pr, pw := io.Pipe()
	first := &counted{r: pr}
	done = make(chan answer, 1)
	go func() {
		done <- b.serve("POST", "/v1/campaigns/spring-sale-2026/recipients", first, "Content-Type", "text/csv")
	}()
	_, err := io.WriteString(pw, "to\n447700900001\n")
	require.NoError(t, err)
	waitRead(t, &first.read, 1)
	return pw, done
}

// Only MaxIntake intake requests read their body at once; the others wait,
// unread, and give up when their client does.
func TestIntake_RequestsBeyondMaxIntakeWait(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *httpapi.Config) { c.MaxIntake, c.MaxBody, c.MaxUpload = 1, 1<<20, 1<<20 })
	pw, firstDone := holdIntake(t, b)

	second := newCounted(`{"campaign": `+campaignJSON+`, "recipients": [`+rows(10, 2)+`]}`, ' ', 0, "")
	secondDone := make(chan answer, 1)
	go func() { secondDone <- b.serve("POST", "/v1/campaigns", second) }()
	third := newCounted("to\n447700900020\n", ' ', 0, "")
	ctx, cancel := context.WithCancel(context.Background())
	thirdDone := make(chan answer, 1)
	go func() {
		req := httptest.NewRequestWithContext(ctx, "POST", "/v1/campaigns/spring-sale-2026/recipients", third)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "text/csv")
		w := httptest.NewRecorder()
		b.h.ServeHTTP(w, req)
		a := answer{code: w.Code, raw: w.Body.String()}
		_ = json.Unmarshal(w.Body.Bytes(), &a.body)
		thirdDone <- a
	}()
	time.Sleep(300 * time.Millisecond)
	require.Zero(t, second.read.Load(), "a request beyond MaxIntake waits before reading its body")
	require.Zero(t, third.read.Load())

	cancel() // the third's client gives up while it waits
	a := <-thirdDone
	require.Equal(t, http.StatusBadRequest, a.code, a.raw)
	require.Contains(t, a.body["error"], "the request was cancelled")
	require.Zero(t, third.read.Load())

	_, err := io.WriteString(pw, "447700900002\n")
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	a = <-firstDone
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.EqualValues(t, 2, a.body["accepted"])
	a = <-secondDone
	require.Equal(t, http.StatusAccepted, a.code, a.raw)
	require.EqualValues(t, 2, a.body["accepted"])
}

func TestNew_RefusesBadLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := httpapi.New(httpapi.Config{Producer: b.p, Token: token, MaxIntake: -1})
	require.ErrorContains(t, err, "MMLITE_MAX_INTAKE")
	_, err = httpapi.New(httpapi.Config{Producer: b.p, Token: token, LargeWebhooks: -1})
	require.ErrorContains(t, err, "LargeWebhooks")
}

// A webhook without a valid secret or a signature is refused unread; a body
// over SmallWebhook waits for one of the LargeWebhooks slots, having read
// at most SmallWebhook of it; small bodies never wait.
func TestWebhooks_LargeBodiesTakeTurns(t *testing.T) {
	t.Parallel()
	b := hookSetup(t, func(c *httpapi.Config) { c.AppSecret, c.LargeWebhooks = "app-secret", 1 })
	const big = 1 << 20
	pad := func(head string) *counted { return newCounted(head, 'z', big, `"}`) }

	unsigned := pad(`{"object": "whatsapp_business_account", "pad": "`)
	a := b.serve("POST", "/webhooks/whatsapp", unsigned, webhook.SecretHeader, "wrong")
	require.Equal(t, http.StatusUnauthorized, a.code, a.raw)
	require.Zero(t, unsigned.read.Load(), "a wrong secret and no signature: refused before the body is read")
	wrongSecret := pad(`{"pad": "`)
	a = b.serve("POST", "/webhooks/whatsapp", wrongSecret, "X-Other", "x")
	require.Equal(t, http.StatusUnauthorized, a.code, a.raw)
	require.Zero(t, wrongSecret.read.Load())

	// The first large body holds the slot while it is still coming.
	pr, pw := io.Pipe()
	first := &counted{r: pr}
	forged := []string{webhook.SecretHeader, "wrong", webhook.SignatureHeader, "sha256=" + strings.Repeat("0", 64)}
	firstDone := make(chan answer, 1)
	go func() { firstDone <- b.serve("POST", "/webhooks/whatsapp", first, forged...) }()
	_, err := io.WriteString(pw, `{"pad": "`+strings.Repeat("z", httpapi.SmallWebhook+10))
	require.NoError(t, err)
	waitRead(t, &first.read, httpapi.SmallWebhook+1)

	second := pad(`{"pad": "`)
	secondDone := make(chan answer, 1)
	go func() { secondDone <- b.serve("POST", "/webhooks/whatsapp", second, forged...) }()
	waitRead(t, &second.read, httpapi.SmallWebhook)
	time.Sleep(200 * time.Millisecond)
	require.LessOrEqual(t, second.read.Load(), int64(httpapi.SmallWebhook+1), "a large body waits for a slot")

	// A small body does not wait, and is read and checked in full.
	body := fixture(t, "webhook_status_delivered_read_batch.json")
	a = b.hook(t, body, webhook.SecretHeader, hookSecret, webhook.SignatureHeader, webhook.Sign("app-secret", []byte(body)))
	require.Equal(t, http.StatusOK, a.code, a.raw)

	_, err = io.WriteString(pw, `"}`)
	require.NoError(t, err)
	require.NoError(t, pw.Close())
	a = <-firstDone
	require.Equal(t, http.StatusUnauthorized, a.code, a.raw)
	a = <-secondDone
	require.Equal(t, http.StatusUnauthorized, a.code, a.raw)
	require.EqualValues(t, big+len(`{"pad": "`)+2, second.read.Load(), "read whole once it had the slot")
	requireMetric(t, b, `mmlite_webhook_auth_failures_total{reason="secret"} 1`, `mmlite_webhook_auth_failures_total{reason="signature"} 3`)
}
