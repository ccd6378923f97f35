package outbound_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/internal/safeurl"
	"github.com/mmlite/mmlite/internal/testkit"
	"github.com/mmlite/mmlite/internal/webhook"
	"github.com/mmlite/mmlite/pkg/task"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// hit is one POST a destination received.
type hit struct {
	header http.Header
	body   []byte
}

// sink is a destination that answers each POST with the next code of
// codes (then 200), and keeps what it received.
type sink struct {
	*httptest.Server
	mu    sync.Mutex
	codes []int
	hits  []hit
}

func newSink(t *testing.T, codes ...int) *sink {
	s := &sink{codes: codes}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hits = append(s.hits, hit{r.Header.Clone(), b})
		code := 200
		if len(s.codes) > 0 {
			code, s.codes = s.codes[0], s.codes[1:]
		}
		s.mu.Unlock()
		w.WriteHeader(code)
		_, _ = io.WriteString(w, "answer "+http.StatusText(code))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) got() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func name(t *testing.T) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return "t-" + hex.EncodeToString(b)
}

// destinations loads a destinations file written from yml.
func destinations(t *testing.T, yml string, env map[string]string) ([]*outbound.Destination, error) {
	p := filepath.Join(t.TempDir(), "destinations.yaml")
	require.NoError(t, os.WriteFile(p, []byte(yml), 0o600))
	return outbound.Load(outbound.Sources{File: p, Getenv: func(k string) string { return env[k] }})
}

func dropQueues(t *testing.T, r *redistest.Redis, queues ...string) {
	t.Cleanup(func() {
		in := asynq.NewInspectorFromRedisClient(r.Client)
		for _, q := range queues {
			_ = in.DeleteQueue(q, true)
			r.Client.Del(context.Background(), keyspace.New(q).Failing())
		}
	})
}

func serve(t *testing.T, r *redistest.Redis, cfg outbound.Config) (*outbound.Server, *prometheus.Registry) {
	reg := prometheus.NewRegistry()
	cfg.Registerer, cfg.RetryBase, cfg.RetryMax, cfg.ForwardInterval = reg, 50*time.Millisecond, 100*time.Millisecond, 100*time.Millisecond
	s, err := outbound.NewServer(r.Client, cfg)
	require.NoError(t, err)
	require.NoError(t, s.Start())
	t.Cleanup(s.Shutdown)
	return s, reg
}

const statusBody = `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[{"id":"wamid.X","status":"sent"}]}}]}]}`
const inboundBody = `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"from":"441234567890","type":"text","text":{"body":"hi"}}]}}]}]}`

// A webhook reaches each destination that takes its kind, byte for byte,
// signed, with the provider's signature and a delivery id that is the same
// on every retry; a 4xx other than 408/429 is archived with the answer.
func TestRelay_DeliversRetriesAndArchives(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	all, inbox, refusing := newSink(t, 500, 429, 503), newSink(t), newSink(t, 400, 400)
	n1, n2, n3 := name(t), name(t), name(t)
	ds, err := destinations(t, `destinations:
  - name: `+n1+`
    url: `+all.URL+`/hooks?token=x
    secret_env: S1
  - name: `+n2+`
    url: `+inbox.URL+`
    secret_env: S2
    fields: [messages]
  - name: `+n3+`
    url: `+refusing.URL+`
    secret_env: S3
`, map[string]string{"S1": "one", "S2": "two", "S3": "three"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue(), ds[1].Queue(), ds[2].Queue())
	relay := outbound.NewRelay(r.Client, ds)
	ctx := context.Background()
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}, webhook.SignatureHeader: {"sha256=abc"},
		webhook.SecretHeader: {"never-forwarded"}}
	for _, b := range []string{statusBody, inboundBody, statusBody} { // the provider delivers the first again
		ev, err := webhook.Parse([]byte(b))
		require.NoError(t, err)
		require.NoError(t, relay.Store(ctx, []byte(b), h, ev.Kinds))
	}
	_, reg := serve(t, r, outbound.Config{Destinations: ds})

	require.Eventually(t, func() bool { return len(all.got()) == 5 && len(inbox.got()) == 1 && len(refusing.got()) == 2 },
		10*time.Second, 20*time.Millisecond)
	ids := map[string]int{}
	for _, x := range all.got() {
		require.Equal(t, "application/json; charset=utf-8", x.header.Get("Content-Type"))
		require.Equal(t, "sha256=abc", x.header.Get(webhook.SignatureHeader))
		require.Empty(t, x.header.Get(webhook.SecretHeader), "the 360dialog secret is never passed on")
		require.Equal(t, outbound.Sign("one", x.body), x.header.Get(outbound.SignatureHeader))
		require.True(t, webhook.SignatureOK("one", x.body, x.header.Get(outbound.SignatureHeader)))
		require.Contains(t, []string{statusBody, inboundBody}, string(x.body))
		ids[x.header.Get(outbound.DeliveryIDHeader)]++
	}
	require.Len(t, ids, 2, "one delivery id per webhook, kept across retries")
	require.Equal(t, inboundBody, string(inbox.got()[0].body), "fields: only the kinds asked for")

	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		arch, _ := in.ListArchivedTasks(ds[2].Queue())
		return len(arch) == 2
	}, 5*time.Second, 20*time.Millisecond)
	arch, err := in.ListArchivedTasks(ds[2].Queue())
	require.NoError(t, err)
	require.Contains(t, arch[0].LastErr, "HTTP 400")
	require.Contains(t, arch[0].LastErr, "answer Bad Request")
	require.NotContains(t, arch[0].LastErr, refusing.URL, "no URL in the error")
	require.Len(t, refusing.got(), 2, "not retried")

	require.Equal(t, 2.0, testkit.Counters(t, reg, "mmlite_outbound_delivered_total")[n1])
	require.Equal(t, 3.0, testkit.Counters(t, reg, "mmlite_outbound_failed_attempts_total")[n1])
	st, err := outbound.Backlog(ctx, r.Client, ds[2].Queue())
	require.NoError(t, err)
	require.Equal(t, outbound.QueueState{Archived: 2}, st)

	// Replayed, the archived deliveries go again, with their ids.
	n, err := outbound.Replay(ctx, r.Client, ds[2].Queue())
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Eventually(t, func() bool { return len(refusing.got()) == 4 }, 5*time.Second, 20*time.Millisecond)
	got := refusing.got()
	idOf := func(h hit) string { return h.header.Get(outbound.DeliveryIDHeader) }
	require.ElementsMatch(t, []string{idOf(got[0]), idOf(got[1])}, []string{idOf(got[2]), idOf(got[3])})
}

func TestLoad_RefusesBadDestinations(t *testing.T) {
	t.Parallel()
	env := map[string]string{"S": "s"}
	for yml, want := range map[string]string{
		"destinations:\n  - name: a\n    url: http://crm.example.com/hook\n    secret_env: S\n":                                                           "line 2: destinations[0] (a): url: want https://",
		"destinations:\n  - name: a\n    url: https://x.example.com\n":                                                                                    "no secret",
		"destinations:\n  - name: a\n    url: https://x.example.com\n    secret: s\n":                                                                     "must not be written in the file",
		"destinations:\n  - name: A B\n    url: https://x.example.com\n    secret_env: S\n":                                                               "name must be",
		"destinations:\n  - name: a\n    url: https://x.example.com\n    secret_env: NONE\n":                                                              "secret_env NONE is empty",
		"destinations:\n  - name: a\n    url: https://x.example.com\n    secret_env: S\n    fields: [all, messages]\n":                                    "fields",
		"destinations:\n  - name: a\n    url: https://x.example.com\n    secret_env: S\n  - name: a\n    url: https://y.example.com\n    secret_env: S\n": `line 5: destinations[1] (a): name "a" already declared`,
		"destinations:\n  - name: a\n    uri: https://x.example.com\n":                                                                                    `line 3: destinations[0]: unknown field "uri"`,
		"destinations:\n  - name: results\n    url: https://x.example.com\n    secret_env: S\n":                                                           `line 2: destinations[0] (results): name "results" is taken by the callbacks (their metrics, mmlite outbound --destination): choose another`,
	} {
		_, err := destinations(t, yml, env)
		require.ErrorContains(t, err, want, yml)
	}
	ds, err := destinations(t, "destinations:\n  - name: local\n    url: http://127.0.0.1:8080/h\n    secret_env: S\n  - name: crm\n    url: https://crm.example.com/h\n    secret_env: S\n    fields: [messages, account_update]\n", env)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	require.Equal(t, "s", ds[1].Secret())

	_, err = outbound.Load(outbound.Sources{Forward: "http://10.0.0.1/h?key=secret", ForwardSecret: "s"})
	require.ErrorContains(t, err, "MMLITE_WEBHOOK_FORWARD")
	require.NotContains(t, err.Error(), "secret\"")
	_, err = outbound.Load(outbound.Sources{Forward: "https://crm.example.com/h"})
	require.ErrorContains(t, err, "MMLITE_WEBHOOK_FORWARD_SECRET is empty")
	ds, err = outbound.Load(outbound.Sources{Forward: "http://[::1]:9/h", ForwardSecret: "s"})
	require.NoError(t, err)
	require.Equal(t, outbound.ForwardName, ds[0].Name)

	// A secret from the environment is trimmed, as secret_env's and
	// secret_file's are: white space alone is no secret, and a secret
	// pasted with its newline signs as the receiver's does.
	_, err = outbound.Load(outbound.Sources{Forward: "https://crm.example.com/h", ForwardSecret: " \n"})
	require.ErrorContains(t, err, "MMLITE_WEBHOOK_FORWARD_SECRET is empty")
	ds, err = outbound.Load(outbound.Sources{Forward: "https://crm.example.com/h", ForwardSecret: "s\n"})
	require.NoError(t, err)
	require.Equal(t, "s", ds[0].Secret())
	require.ErrorContains(t, outbound.Config{Callbacks: outbound.NewCallbacks("https://crm.example.com/r", "\t")}.WithDefaults().Validate(),
		"MMLITE_RESULTS_SECRET is empty")
	require.Equal(t, "s", outbound.NewCallbacks("https://crm.example.com/r", "s\n").Secret())
}

// The destinations file was read whole, whatever its size.
func TestLoad_DestinationsFileTooLarge(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "destinations.yaml")
	yml := "destinations:\n  - name: a\n    url: https://x.example.com\n    secret_env: S\n# " + strings.Repeat("x", outbound.MaxFile) + "\n"
	require.NoError(t, os.WriteFile(p, []byte(yml), 0o600))
	_, err := outbound.Load(outbound.Sources{File: p, Getenv: func(string) string { return "s" }})
	require.EqualError(t, err, fmt.Sprintf("%s: larger than %d bytes", p, outbound.MaxFile))

	secret := filepath.Join(t.TempDir(), "secret")
	require.NoError(t, os.WriteFile(secret, []byte(strings.Repeat("s", outbound.MaxFile+1)), 0o600))
	_, err = destinations(t, "destinations:\n  - name: a\n    url: https://x.example.com\n    secret_file: "+secret+"\n", nil)
	require.ErrorContains(t, err, fmt.Sprintf("secret_file: %s: larger than %d bytes", secret, outbound.MaxFile))
}

// An empty destinations file was "invalid YAML: EOF", and the CLI took
// that EOF for Redis's.
func TestLoad_EmptyDestinationsFile(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"", "# destinations to come\n"} {
		_, err := destinations(t, body, nil)
		require.ErrorContains(t, err, "destinations.yaml: the file is empty: want a top-level \"destinations:\" list", "%q", body)
		require.NotErrorIs(t, err, io.EOF, "%q", body)
	}
}

// Batched callbacks: up to BatchSize JSON lines a POST, signed, each line
// with its idempotency key and its task's payload; a batch refused is
// retried, task by task, until every callback is delivered.
func TestCallbacks_Batched(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	queue := name(t) + "-callbacks"
	dropQueues(t, r, queue)
	s := newSink(t, 503)
	client := asynq.NewClientFromRedisClient(r.Client)
	t.Cleanup(func() { _ = client.Close() })
	want := map[string]string{}
	for i := range 12 {
		key := fmt.Sprintf("c1:44770090%04d", i)
		payload := fmt.Sprintf(`{"campaign_id":"c1","to":"44770090%04d","status":"sent"}`, i)
		want[key] = payload
		_, err := client.Enqueue(asynq.NewTask(task.TypeResult, []byte(payload)), asynq.Queue(queue),
			asynq.TaskID(outbound.CallbackIDPrefix+key), asynq.MaxRetry(20))
		require.NoError(t, err)
	}
	serve(t, r, outbound.Config{Callbacks: outbound.NewCallbacks(s.URL, "cb"), CallbackQueue: queue, BatchSize: 5,
		BatchWait: 100 * time.Millisecond, Concurrency: 2})

	got := map[string]string{}
	require.Eventually(t, func() bool {
		clear(got)
		for i, h := range s.got() {
			if i == 0 {
				continue // refused
			}
			for _, line := range strings.Split(strings.TrimSpace(string(h.body)), "\n") {
				var l struct {
					Key   string          `json:"idempotency_key"`
					Type  string          `json:"type"`
					Event json.RawMessage `json:"event"`
				}
				require.NoError(t, json.Unmarshal([]byte(line), &l))
				require.Equal(t, task.TypeResult, l.Type)
				got[l.Key] = string(l.Event)
			}
		}
		return len(got) == len(want)
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, want, got)
	for _, h := range s.got() {
		require.Equal(t, outbound.NDJSONType, h.header.Get("Content-Type"))
		require.Equal(t, outbound.Sign("cb", h.body), h.header.Get(outbound.SignatureHeader))
		require.LessOrEqual(t, strings.Count(string(h.body), "\n"), 5, "at most BatchSize lines a POST")
	}
	require.Less(t, len(s.got()), 12, "batched: fewer POSTs than callbacks")
}

// A destination that hangs holds only its own slots: another destination's
// deliveries go on meanwhile.
func TestRelay_HungDestinationHoldsOnlyItsOwnSlots(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(hung.Close)
	t.Cleanup(func() { close(release) })
	ok := newSink(t)
	n1, n2 := name(t), name(t)
	ds, err := destinations(t, "destinations:\n  - name: "+n1+"\n    url: "+hung.URL+"\n    secret_env: S\n  - name: "+n2+"\n    url: "+ok.URL+"\n    secret_env: S\n",
		map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue(), ds[1].Queue())
	relay := outbound.NewRelay(r.Client, ds)
	for i := range 5 {
		require.NoError(t, relay.Store(context.Background(), fmt.Appendf(nil, `{"n":%d}`, i), http.Header{}, nil))
	}
	serve(t, r, outbound.Config{Destinations: ds, Concurrency: 1, HTTPTimeout: time.Hour, ShutdownTimeout: time.Second})
	require.Eventually(t, func() bool { return len(ok.got()) == 5 }, 10*time.Second, 20*time.Millisecond,
		"the healthy destination's deliveries wait for the hung one's")
}

// The destinations file of docs/configuration.md loads as it is.
func TestLoad_DocumentedExample(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/configuration.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(doc), "```yaml\ndestinations:")
	require.True(t, ok, "no destinations example in docs/configuration.md")
	yml, _, _ := strings.Cut(rest, "```")
	ds, err := destinations(t, "destinations:"+yml, map[string]string{"INBOX_WEBHOOK_SECRET": "a", "CRM_WEBHOOK_SECRET": "b", "ARCHIVE_SECRET": "c"})
	require.NoError(t, err)
	require.Len(t, ds, 3)
	require.Equal(t, "mmlite-relay-inbox", ds[0].Queue())
}

// A campaign's callback_url on a host that is not allowed is never
// called, nor is MMLITE_RESULTS_URL in its place: its callbacks are
// archived, saying why (one at a time or batched); an allowed one is.
func TestCallbacks_CampaignURLOnAHostNotAllowed(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{0, 5} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			t.Parallel()
			r := redistest.New(t)
			queue := name(t) + "-callbacks"
			dropQueues(t, r, queue)
			def, own, foreign := newSink(t), newSink(t), newSink(t)
			client := asynq.NewClientFromRedisClient(r.Client)
			t.Cleanup(func() { _ = client.Close() })
			for _, c := range []string{"ok", "foreign"} {
				enqueueResult(t, client, queue, c)
			}
			urls := map[string]string{"ok": own.URL + "/ok", "foreign": foreign.URL + "/x"}
			serve(t, r, outbound.Config{Callbacks: outbound.NewCallbacks(def.URL, "cb"), CallbackQueue: queue, BatchSize: batch,
				BatchWait: 20 * time.Millisecond, CallbackHosts: safeurl.Hosts{safeurl.HostOf(own.URL)},
				CallbackURL: func(_ context.Context, id string) (string, error) { return urls[id], nil }})

			in := asynq.NewInspectorFromRedisClient(r.Client)
			require.Eventually(t, func() bool {
				arch, _ := in.ListArchivedTasks(queue)
				return len(arch) == 1 && len(own.got()) == 1
			}, 10*time.Second, 20*time.Millisecond)
			arch, err := in.ListArchivedTasks(queue)
			require.NoError(t, err)
			require.Equal(t, outbound.CallbackIDPrefix+"foreign:447700900001", arch[0].ID)
			require.Contains(t, arch[0].LastErr, "the callback_url of campaign foreign: host "+safeurl.HostOf(foreign.URL)+" is not allowed (MMLITE_CALLBACK_HOSTS)")
			require.Contains(t, arch[0].LastErr, "replay it once MMLITE_CALLBACK_HOSTS allows the host")
			require.Empty(t, foreign.got())
			require.Empty(t, def.got(), "not sent to MMLITE_RESULTS_URL instead")
		})
	}
}

// A destination that redirects is not followed (the body and its
// signature would go wherever it points): the delivery is archived,
// saying so.
func TestRelay_RedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	r := redistest.New(t)
	target := newSink(t)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	n := name(t)
	ds, err := destinations(t, "destinations:\n  - name: "+n+"\n    url: "+redirecting.URL+"\n    secret_env: S\n", map[string]string{"S": "s"})
	require.NoError(t, err)
	dropQueues(t, r, ds[0].Queue())
	require.NoError(t, outbound.NewRelay(r.Client, ds).Store(context.Background(), []byte(`{"n":1}`), http.Header{}, nil))
	serve(t, r, outbound.Config{Destinations: ds})
	in := asynq.NewInspectorFromRedisClient(r.Client)
	require.Eventually(t, func() bool {
		arch, _ := in.ListArchivedTasks(ds[0].Queue())
		return len(arch) == 1
	}, 10*time.Second, 20*time.Millisecond)
	arch, err := in.ListArchivedTasks(ds[0].Queue())
	require.NoError(t, err)
	require.Contains(t, arch[0].LastErr, "HTTP 307")
	require.Contains(t, arch[0].LastErr, "redirects are not followed")
	require.Empty(t, target.got())
}

// enqueueCallback writes the callback task of a result, key its
// campaign and number, as a worker writes it.
func enqueueCallback(t *testing.T, client *asynq.Client, queue, key, payload string) {
	t.Helper()
	_, err := client.Enqueue(asynq.NewTask(task.TypeResult, []byte(payload)), asynq.Queue(queue),
		asynq.TaskID(outbound.CallbackIDPrefix+key), asynq.MaxRetry(outbound.MaxRetry))
	require.NoError(t, err)
}

// enqueueResult writes the callback of a result of campaign id, as a
// worker would.
func enqueueResult(t *testing.T, client *asynq.Client, queue, id string) {
	t.Helper()
	payload := fmt.Sprintf(`{"campaign_id":%q,"to":"447700900001","status":"sent"}`, id)
	_, err := client.Enqueue(asynq.NewTask(task.TypeResult, []byte(payload)), asynq.Queue(queue),
		asynq.TaskID(outbound.CallbackIDPrefix+id+":447700900001"), asynq.MaxRetry(20))
	require.NoError(t, err)
}

// A destinations file of two YAML documents (two files joined, or a "---"
// between destinations) was read up to its first: the destinations after
// the "---" were dropped without a word, their webhooks never relayed.
func TestLoad_SecondYAMLDocumentIsRefused(t *testing.T) {
	t.Parallel()
	yml := "destinations:\n  - name: a\n    url: https://x.example.com\n    secret_env: S\n" +
		"---\ndestinations:\n  - name: b\n    url: https://y.example.com\n    secret_env: S\n"
	_, err := destinations(t, yml, map[string]string{"S": "s"})
	require.ErrorContains(t, err, `line 6: a second YAML document ("---"): the file is one document, one "destinations:" list`)

	// A "---" before the only document, or after it, as tools write, is one document.
	one := yml[:strings.Index(yml, "---")]
	for _, body := range []string{"---\n" + one, one + "---\n", one + "---\n# none\n...\n"} {
		ds, err := destinations(t, body, map[string]string{"S": "s"})
		require.NoError(t, err, body)
		require.Len(t, ds, 1, body)
	}
}
