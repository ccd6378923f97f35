package e2e_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// webhookAlone bounds the api's peak RSS while it records one
// authenticated webhook of the largest size (MMLITE_MAX_WEBHOOK_BODY,
// 8 MiB) however its statuses are written: 16 times the body over the
// api's base.
const webhookAlone = memBase + 16*(8<<20)

// containerLimit is the memory limit of the api's container in
// deploy/kubernetes (GOMEMLIMIT 450MiB under it).
const containerLimit = 512 << 20

// bigWebhook is a signed webhook of 8 MiB of the shortest statuses of a
// kind: sent (read by the quick parser) or failed (by decode).
func bigWebhook(kind string) (string, []string) {
	var b strings.Builder
	b.WriteString(`{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":` +
		`{"metadata":{"phone_number_id":"106540352242922"},"statuses":[`)
	for i := 0; b.Len() < 8<<20-100; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		if kind == "sent" {
			fmt.Fprintf(&b, `{"id":"w%d","status":"sent"}`, i)
		} else {
			fmt.Fprintf(&b, `{"id":"w%d","status":"failed","errors":[{"code":131049}]}`, i)
		}
	}
	b.WriteString(`]}}]}]}`)
	mac := hmac.New(sha256.New, []byte("app-secret")) // startAPI's MMLITE_META_APP_SECRET
	mac.Write([]byte(b.String()))
	return b.String(), []string{"X-Hub-Signature-256", "sha256=" + hex.EncodeToString(mac.Sum(nil))}
}

// An authenticated webhook far larger than the providers send (8 MiB of
// the shortest statuses, a quarter of a million) is recorded a chunk at a
// time: one took the api to 713 MiB when its statuses were recorded in
// one step, past the container's limit, so that the provider's every
// delivery of it killed the api again. Alone, each stays under 16 times
// its size over the api's base; four at once under the container's limit.
func TestAPI_MemoryOfLargeAuthenticatedWebhooks(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc/<pid>/status (VmHWM), which only Linux has")
	}
	if testing.Short() {
		t.Skip("sends 48 MiB of webhooks to the api")
	}
	// Recording 1.2 million statuses takes minutes in the embedded Redis's
	// scripting, seconds in Redis.
	redistest.SkipUnlessReal(t)
	bin := buildMMLite(t)
	r := redistest.New(t)
	api := startAPI(t, bin, r)
	stop := api.watch(t, 4*memBound)
	sent, sentSig := bigWebhook("sent")
	failed, failedSig := bigWebhook("failed")
	post := func(payload string, sig []string) {
		a, err := send(api.addr, "/webhooks/whatsapp", "application/json", sig, (&body{}).str(payload))
		if assert.NoError(t, err) {
			assert.Equal(t, http.StatusOK, a.code, "%.300s", a.raw)
		}
	}
	var peaks []string
	for _, h := range []struct{ name, body string }{{"sent", sent}, {"failed", failed}} {
		sig := sentSig
		if h.name == "failed" {
			sig = failedSig
		}
		api.resetPeak()
		start := time.Now()
		post(h.body, sig)
		p := api.peakRSS(t)
		t.Logf("8 MiB of %s statuses: peak RSS %.1f MiB, %s", h.name, float64(p)/(1<<20), time.Since(start).Round(time.Millisecond))
		peaks = append(peaks, fmt.Sprintf("%s %d MiB", h.name, p>>20))
		assert.LessOrEqual(t, p, int64(webhookAlone), "peak RSS over %d MiB for one webhook of %s statuses", webhookAlone>>20, h.name)
	}
	api.resetPeak()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if i%2 == 0 {
				post(sent, sentSig)
			} else {
				post(failed, failedSig)
			}
		})
	}
	wg.Wait()
	killed := stop()
	require.False(t, killed, "the api went past 4 times its bound and was stopped (%v):\n%s", peaks, tail(api.out.String()))
	p := api.peakRSS(t)
	t.Logf("four at once: peak RSS %.1f MiB", float64(p)/(1<<20))
	require.LessOrEqual(t, p, int64(containerLimit), "peak RSS over the container's limit for four webhooks at once")
}
