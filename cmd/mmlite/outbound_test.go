package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/mmlite/mmlite/internal/keyspace"
	"github.com/mmlite/mmlite/internal/outbound"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/pkg/task"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// A relay destination or a callback URL in clear text is refused at start,
// naming the setting; so is a results queue turned off without callbacks,
// and a trusted proxy that is not an address.
func TestOutboundSettings_RefusedAtStart(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	redis := "redis://" + mr.Addr() + "/0"
	out, code := run(t, "api", "--redis-url", redis, "--http-addr", "127.0.0.1:0", "--api-token", "t",
		"--webhook-forward", "http://crm.example.com/hooks", "--webhook-forward-secret", "s")
	require.Equal(t, 1, code)
	require.Contains(t, out, `MMLITE_WEBHOOK_FORWARD: url: want https:// (http:// only on a loopback address), got "http://crm.example.com/hooks"`)

	out, code = run(t, "worker", "--redis-url", redis, "--api-key", "k", "--metrics-addr", "",
		"--webhook-destinations", write(t, "d.yaml", "destinations:\n  - name: crm\n    url: http://10.1.2.3/h\n    secret_env: X\n"))
	require.Equal(t, 1, code)
	require.Contains(t, out, "line 2: destinations[0] (crm): url: want https://")

	out, code = run(t, "worker", "--redis-url", redis, "--api-key", "k", "--metrics-addr", "", "--results-url", "https://crm.example.com/r")
	require.Equal(t, 1, code)
	require.Contains(t, out, "MMLITE_RESULTS_SECRET is empty")

	out, code = run(t, "api", "--redis-url", redis, "--http-addr", "127.0.0.1:0", "--api-token", "t",
		"--results-url", "https://crm.example.com/r", "--callback-hosts", "crm2.example.com, https://crm3.example.com/")
	require.Equal(t, 1, code)
	require.Contains(t, out, `MMLITE_CALLBACK_HOSTS: "https://crm3.example.com/" is not a host or host:port`)

	out, code = run(t, "api", "--redis-url", redis, "--http-addr", "127.0.0.1:0", "--api-token", "t",
		"--trusted-proxies", "10.0.0.0/8, ingress.local")
	require.Equal(t, 1, code)
	require.Contains(t, out, `MMLITE_TRUSTED_PROXIES (--trusted-proxies): item 2, "ingress.local", is not an IP address`)

	out, code = run(t, "campaign", "status", "x", "--redis-url", redis, "--results-queue", "")
	require.Equal(t, 1, code)
	require.Contains(t, out, "MMLITE_RESULTS_QUEUE is empty but MMLITE_RESULTS_URL is not set")

	out, code = run(t, "outbound", "status", "--redis-url", redis, "--webhook-forward", "http://127.0.0.1:9/h", "--webhook-forward-secret", "s")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "forward")
	require.Contains(t, out, "results")
	out, code = run(t, "outbound", "replay", "--redis-url", redis, "--destination", "results")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "results: 0 archived deliveries queued again")
	out, code = run(t, "outbound", "replay", "--redis-url", redis, "--destination", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, out, `no destination named "nope"`)
}

// A replayed delivery starts afresh, as if just stored: no retries counted
// (the outbound server measures a delivery's age from them: one archived
// for age would be archived again at its first failure), no last error;
// same id, payload and headers.
func TestOutboundReplay_StartsAfresh(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	queue := outbound.RelayQueuePrefix + "forward"
	id := "relay:forward:abc"
	archiveAfterRetries(t, rdb, asynq.NewTaskWithHeaders(outbound.TypeRelay, []byte("{}\n{\"n\":1}"), map[string]string{"h": "v"}),
		asynq.Queue(queue), asynq.TaskID(id), asynq.MaxRetry(2))

	out, code := run(t, "outbound", "replay", "--redis-url", "redis://"+mr.Addr()+"/0",
		"--webhook-forward", "http://127.0.0.1:9/h", "--webhook-forward-secret", "s", "--destination", "forward")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "forward: 1 archived deliveries queued again")
	ti, err := asynq.NewInspectorFromRedisClient(rdb).GetTaskInfo(queue, id)
	require.NoError(t, err)
	require.Equal(t, asynq.TaskStatePending, ti.State)
	require.Zero(t, ti.Retried, "a fresh retry budget")
	require.Empty(t, ti.LastErr)
	require.Equal(t, outbound.MaxRetry, ti.MaxRetry, "retried until MMLITE_RELAY_MAX_AGE, whatever limit it was written with")
	require.Equal(t, "{}\n{\"n\":1}", string(ti.Payload))
	require.Equal(t, map[string]string{"h": "v"}, ti.Headers)
}

// archiveAfterRetries enqueues a task and has asynq fail it until it is
// archived, its retries spent.
func archiveAfterRetries(t *testing.T, rdb goredis.UniversalClient, task *asynq.Task, opts ...asynq.Option) {
	t.Helper()
	c := asynq.NewClientFromRedisClient(rdb)
	info, err := c.Enqueue(task, opts...)
	require.NoError(t, err)
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{Queues: map[string]int{info.Queue: 1}, LogLevel: asynq.FatalLevel,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return 0 }, DelayedTaskCheckInterval: 50 * time.Millisecond})
	require.NoError(t, srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return errors.New("down") })))
	in := asynq.NewInspectorFromRedisClient(rdb)
	require.Eventually(t, func() bool {
		ti, err := in.GetTaskInfo(info.Queue, info.ID)
		return err == nil && ti.State == asynq.TaskStateArchived
	}, 10*time.Second, 20*time.Millisecond)
	srv.Shutdown()
}

// mmlite outbound status and replay read the destinations' names and
// queues, and sign nothing: they run without the signing secrets (found in
// review: the runbook's commands asked for every destination's secret in
// the operator's shell), and check their log settings as every command
// does.
func TestOutboundStatus_NeedsNoSecrets(t *testing.T) {
	mr := miniredis.RunT(t)
	t.Setenv("CRM_WEBHOOK_SECRET", "")
	dests := write(t, "destinations.yaml", "destinations:\n  - name: crm\n    url: https://crm.example.com/hooks/whatsapp\n    secret_env: CRM_WEBHOOK_SECRET\n")
	out, code := run(t, "outbound", "status", "--redis-url", "redis://"+mr.Addr()+"/0", "--webhook-destinations", dests)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "crm")
	out, code = run(t, "outbound", "replay", "--redis-url", "redis://"+mr.Addr()+"/0", "--webhook-forward", "https://crm.example.com/h")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "forward: 0 archived deliveries queued again")

	out, code = run(t, "outbound", "status", "--redis-url", "redis://"+mr.Addr()+"/0", "--log-level", "bogus")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "MMLITE_LOG_LEVEL")
}

// Settings that only mean something beside another were taken alone and
// dropped without a word: MMLITE_RESULTS_SECRET or MMLITE_RESULTS_BATCH
// without MMLITE_RESULTS_URL (the operator believes callbacks are on), and
// MMLITE_WEBHOOK_FORWARD_SECRET beside a destinations file (whose secrets
// are its own). Each is refused at start, naming both settings.
func TestOutboundSettings_OrphansRefused(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	redis := "redis://" + mr.Addr() + "/0"
	worker := []string{"worker", "--redis-url", redis, "--api-key", "k", "--metrics-addr", ""}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{append(worker, "--results-secret", "s"), "MMLITE_RESULTS_SECRET is set but MMLITE_RESULTS_URL is not"},
		{append(worker, "--results-batch", "50"), "MMLITE_RESULTS_BATCH is set but MMLITE_RESULTS_URL is not"},
		{append(worker, "--results-batch-wait", "1s"), "MMLITE_RESULTS_BATCH_WAIT is set but MMLITE_RESULTS_URL is not"},
		{append(worker, "--webhook-forward-secret", "s"), "MMLITE_WEBHOOK_FORWARD_SECRET is set but MMLITE_WEBHOOK_FORWARD is not"},
		{[]string{"api", "--redis-url", redis, "--http-addr", "127.0.0.1:0", "--api-token", "t", "--webhook-forward-secret", "s",
			"--webhook-destinations", write(t, "d.yaml", "destinations:\n  - name: crm\n    url: https://crm.example.com/h\n    secret_env: X\n")},
			"MMLITE_WEBHOOK_FORWARD_SECRET is set but MMLITE_WEBHOOK_FORWARD is not"},
	} {
		// A process that takes the settings runs until the context ends.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, code := runCtx(t, ctx, "", tc.args...)
		cancel()
		require.Equal(t, 1, code, out)
		require.Contains(t, out, tc.want)
	}
}

// The api only stores the relay tasks; the workers sign them. It required
// every destination's secret all the same, spreading the signing secrets
// to the pods that face the internet (found in review). It now starts
// without them; the workers still refuse to start without.
func TestOutboundSettings_APINeedsNoSigningSecret(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	redis := "redis://" + mr.Addr() + "/0"
	file := write(t, "d.yaml", "destinations:\n  - name: crm\n    url: https://crm.example.com/h\n    secret_env: MMLITE_TEST_UNSET_SECRET\n")
	for _, relay := range [][]string{{"--webhook-forward", "https://crm.example.com/h"}, {"--webhook-destinations", file}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		out, code := runCtx(t, ctx, "", append([]string{"api", "--redis-url", redis, "--http-addr", "127.0.0.1:0", "--api-token", "t",
			"--webhook-secret", "w"}, relay...)...)
		cancel()
		require.Equal(t, 0, code, out)
		require.NotContains(t, out, "secret")

		out, code = run(t, append([]string{"worker", "--redis-url", redis, "--api-key", "k", "--metrics-addr", ""}, relay...)...)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "SECRET")
	}
}

// Two installations on one Redis (two MMLITE_QUEUE names) shared the relay
// and callback queues, mmlite-relay-<name> and mmlite-callbacks: the
// workers of one delivered the other's callbacks, customers' numbers in
// them, to their own MMLITE_RESULTS_URL, signed with their own secret
// (found in acceptance). Another installation's deliveries are now queued
// apart: its replay leaves the default installation's archive alone, and
// the default keeps the documented names.
func TestOutbound_TwoInstallationsKeepTheirDeliveries(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	archiveAfterRetries(t, rdb, asynq.NewTask(outbound.TypeRelay, []byte("{}\n{\"n\":1}")),
		asynq.Queue(outbound.RelayQueuePrefix+"forward"), asynq.TaskID("relay:forward:abc"), asynq.MaxRetry(0))
	archiveAfterRetries(t, rdb, asynq.NewTask("mmlite:result", []byte(`{"campaign_id":"c","to":"447700900123"}`)),
		asynq.Queue(outbound.CallbackQueue), asynq.TaskID("cb:c:447700900123"), asynq.MaxRetry(0))

	redis := "redis://" + mr.Addr() + "/0"
	settings := []string{"--redis-url", redis, "--webhook-forward", "http://127.0.0.1:9/h", "--results-url", "http://127.0.0.1:9/r"}
	out, code := run(t, append([]string{"--queue", "other", "outbound", "replay"}, settings...)...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "forward: 0 archived deliveries queued again", "another installation's relay queue")
	require.Contains(t, out, "results: 0 archived deliveries queued again", "another installation's callback queue")

	out, code = run(t, append([]string{"outbound", "replay"}, settings...)...)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "forward: 1 archived deliveries queued again")
	require.Contains(t, out, "results: 1 archived deliveries queued again")
}

// mmlite outbound status, Redis unreachable, said which setting to look at
// but not the step that failed, as every other command (and outbound
// replay) does: "cannot reach Redis at ...: dial tcp ...".
func TestOutboundStatus_UnreachableRedisNamesTheStep(t *testing.T) {
	t.Parallel()
	addr := redistest.ClosedAddr(t)
	for cmd, step := range map[string]string{"status": "outbound: status: ", "replay": "outbound: replay: "} {
		out, code := run(t, "outbound", cmd, "--redis-url", "redis://"+addr+"/0", "--webhook-forward", "https://crm.example.com/h")
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "cannot reach Redis at redis://"+addr+"/0 (MMLITE_REDIS_URL / --redis-url): "+step, cmd)
		require.Contains(t, out, "connection refused", cmd)
	}
}

// MMLITE_RELAY_MAX_AGE out of its bounds was refused only on a worker
// that delivers something: one without destinations or callbacks took
// 10s without a word, and refused to start only once a destination was
// added, on a later deploy. It is refused on every worker.
func TestOutboundSettings_MaxAgeCheckedWithoutDestinations(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	for _, age := range []string{"10s", "2400h"} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, code := runCtx(t, ctx, "", "worker", "--redis-url", "redis://"+mr.Addr()+"/0", "--api-key", "k", "--metrics-addr", "",
			"--relay-max-age", age)
		cancel()
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "MMLITE_RELAY_MAX_AGE must be between 1m and 2160h0m0s (90 days), got ", out)
	}
}

// A destinations file or a senders file that cannot be read said only
// "open /etc/mmlite/d.yaml: no such file or directory": not which setting
// named it. The error names it.
func TestSettingsFile_UnreadableNamesTheSetting(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	huge := write(t, "huge.yaml", strings.Repeat("#", 2<<20)) // a comment over the 1 MiB a settings file may hold
	for flag, setting := range map[string]string{"--webhook-destinations": "MMLITE_WEBHOOK_DESTINATIONS", "--senders-file": "MMLITE_SENDERS_FILE"} {
		for file, want := range map[string]string{missing: "open " + missing + ": no such file or directory", huge: huge + ": larger than 1048576 bytes"} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			out, code := runCtx(t, ctx, "", "worker", "--redis-url", "redis://"+mr.Addr()+"/0", "--api-key", "k", "--metrics-addr", "", flag, file)
			cancel()
			require.Equal(t, 1, code, out)
			require.Contains(t, out, setting+": "+want, out)
		}
	}
}

// An archived task that cannot be read, in one destination's archive,
// stopped mmlite outbound replay there: the deliveries after it and the
// other destinations' were not queued again. They are; the command says
// what it queued for each, names the unreadable task and exits 1.
func TestOutboundReplay_UnreadableTaskHoldsBackNoOther(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	fwd := keyspace.New(outbound.RelayQueuePrefix + "forward")
	ctx := context.Background()
	require.NoError(t, rdb.HSet(ctx, fwd.AsynqTask("broken"), "msg", "\xff\xff\xff", "state", "archived").Err())
	require.NoError(t, rdb.ZAdd(ctx, fwd.AsynqArchived(), goredis.Z{Score: 1, Member: "broken"}).Err())
	archiveAfterRetries(t, rdb, asynq.NewTask(task.TypeResult, []byte(`{"campaign_id":"c"}`)),
		asynq.Queue(outbound.CallbackQueue), asynq.TaskID(outbound.CallbackIDPrefix+"c:447700900123"), asynq.MaxRetry(0))

	out, code := run(t, "outbound", "replay", "--redis-url", "redis://"+mr.Addr()+"/0",
		"--webhook-forward", "http://127.0.0.1:9/h", "--webhook-forward-secret", "s")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "forward: 0 archived deliveries queued again")
	require.Contains(t, out, "results: 1 archived deliveries queued again")
	require.Contains(t, out, "forward: outbound: replay: 1 archived task cannot be read, left in the archive (broken)")
}
