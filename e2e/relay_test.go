package e2e_test

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/mmlite/mmlite/internal/metrics"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/fakeapi"
	"github.com/stretchr/testify/require"
)

// receiver is the team's endpoint: it checks each POST's signature and
// content type, refuses the first failFirst attempts
// of every delivery (503), then accepts, and keeps what it accepted by
// delivery id (or idempotency key).
type receiver struct {
	*httptest.Server
	secret    string
	failFirst int
	mu        sync.Mutex
	attempts  map[string]int
	accepted  map[string][][]byte
	bad       []string // what failed the receiver's own checks
}

func newReceiver(t testing.TB, secret, idHeader, contentType string, failFirst int) *receiver {
	rc := &receiver{secret: secret, failFirst: failFirst, attempts: map[string]int{}, accepted: map[string][][]byte{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := r.Header.Get(idHeader)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		if id == "" || !webhook.SignatureOK(secret, body, r.Header.Get(outbound.SignatureHeader)) || r.Header.Get("Content-Type") != contentType {
			rc.bad = append(rc.bad, id)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if rc.attempts[id]++; rc.attempts[id] <= rc.failFirst {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		rc.accepted[id] = append(rc.accepted[id], body)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) snapshot() (accepted map[string][][]byte, attempts map[string]int, bad []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	accepted, attempts = map[string][][]byte{}, map[string]int{}
	for k, v := range rc.accepted {
		accepted[k] = append([][]byte(nil), v...)
	}
	for k, v := range rc.attempts {
		attempts[k] = v
	}
	return accepted, attempts, append([]string(nil), rc.bad...)
}

func randomName(t testing.TB) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "e2e-" + hex.EncodeToString(b)
}

// relayAPI serves the fleet's producer with the relay on.
func (f *fleet) relayAPI(t testing.TB, dests []*outbound.Destination) *httptest.Server {
	api, err := httpapi.New(httpapi.Config{Producer: f.p, Token: apiToken, WebhookSecret: hookSecret, ResultsQueue: f.R.Results,
		Registerer: metrics.NewRegistry(), Destinations: dests})
	require.NoError(t, err)
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// relayDestination declares one destination on the receiver, from a file
// as an operator would.
func relayDestination(t testing.TB, url, secret string) []*outbound.Destination {
	name := randomName(t)
	p := filepath.Join(t.TempDir(), "destinations.yaml")
	require.NoError(t, os.WriteFile(p, []byte("destinations:\n  - name: "+name+"\n    url: "+url+"\n    secret_env: RELAY_SECRET\n    fields: [all]\n"), 0o600))
	dests, err := outbound.Load(outbound.Sources{File: p, Getenv: func(string) string { return secret }})
	require.NoError(t, err)
	return dests
}

func postWebhook(t testing.TB, url, contentType string, body []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/whatsapp", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(webhook.SecretHeader, hookSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// Every webhook the api takes (statuses, a click, an account update and a
// customer's message, which mmlite itself does not read) reaches a
// destination that fails the first 3 attempts of each: byte for byte, with
// its content type, signed, accepted once per delivery id; the api is
// restarted halfway and the deliverer starts only after both halves came
// in (the destination was down meanwhile: nothing is lost).
func TestRelay_EveryWebhookArrivesOnceByteIdentical(t *testing.T) {
	t.Parallel()
	f := newFleet(t, fakeapi.Config{})
	const contentType = "application/json; charset=UTF-8"
	rc := newReceiver(t, "relay-secret", outbound.DeliveryIDHeader, contentType, 3)
	dests := relayDestination(t, rc.URL+"/whatsapp-inbox", "relay-secret")
	t.Cleanup(func() { _ = asynq.NewInspectorFromRedisClient(f.R.Client).DeleteQueue(dests[0].Queue(), true) })

	var bodies [][]byte
	for _, name := range []string{"webhook_status_sent.json", "webhook_status_delivered_read_batch.json", "webhook_status_failed.json",
		"webhook_click.json", "webhook_account_update_mm_lite_terms_signed.json", "webhook_inbound_message.json"} {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "fixtures", name))
		require.NoError(t, err)
		bodies = append(bodies, b)
	}
	first := f.relayAPI(t, dests)
	for _, b := range bodies[:3] {
		postWebhook(t, first.URL, contentType, b)
	}
	postWebhook(t, first.URL, contentType, bodies[0]) // delivered again by the provider
	first.Close()                                     // the api restarts
	second := f.relayAPI(t, dests)
	for _, b := range bodies[3:] {
		postWebhook(t, second.URL, contentType, b)
	}

	srv, err := outbound.NewServer(f.R.Client, outbound.Config{Destinations: dests, RetryBase: 20 * time.Millisecond,
		RetryMax: 50 * time.Millisecond, ForwardInterval: 50 * time.Millisecond, Registerer: metrics.NewRegistry()})
	require.NoError(t, err)
	require.NoError(t, srv.Start())
	t.Cleanup(srv.Shutdown)

	require.Eventually(t, func() bool {
		accepted, _, _ := rc.snapshot()
		return len(accepted) == len(bodies)
	}, 30*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show
	accepted, attempts, bad := rc.snapshot()
	require.Empty(t, bad, "every POST is signed with the destination's secret, carries a delivery id and the webhook's content type")
	var got []string
	for id, bs := range accepted {
		require.Len(t, bs, 1, "delivery %s accepted once", id)
		require.Equal(t, 4, attempts[id], "delivery %s: 3 refused attempts, then accepted, all with the same id", id)
		got = append(got, string(bs[0]))
	}
	var want []string
	for _, b := range bodies {
		want = append(want, string(b))
	}
	require.ElementsMatch(t, want, got, "byte for byte")
}
