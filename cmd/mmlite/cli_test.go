package main

import (
	"context"
	"encoding/json"
	"net"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// Issue 12, "CLI and logs": the CLI as a new user meets it.

// A missing required flag printed the help, then the error twice.
func TestMissingRequiredFlag_OneErrorLine(t *testing.T) {
	t.Parallel()
	out, code := run(t, "enqueue", "--recipients", "list.csv")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "USAGE:", "no help dumped before the error")
	require.Equal(t, 1, strings.Count(out, "campaign"), "the error once: %s", out)
	require.Equal(t, "enqueue: --campaign is required (mmlite enqueue --help lists the flags)", strings.TrimSpace(out))

	out, code = run(t, "enqueue")
	require.Equal(t, 1, code, out)
	require.Equal(t, "enqueue: --campaign and --recipients are required (mmlite enqueue --help lists the flags)", strings.TrimSpace(out))

	out, code = run(t, "campaign", "status", "--wacth", "x")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "USAGE:")
	require.Equal(t, 1, strings.Count(out, "wacth"), out)
	require.Contains(t, out, "mmlite campaign status --help")
}

func TestHelp_EachCommandListsWhatItUses(t *testing.T) {
	t.Parallel()
	out, code := run(t, "worker", "--help")
	require.Equal(t, 0, code, out)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--dequeuers") {
			require.Equal(t, 1, strings.Count(l, "(default:"), "one default: %s", l)
			require.Contains(t, l, "(default: one per 6 of --concurrency, 1 to 16)")
		}
	}
	redis := []string{"--redis-url", "--queue", "--results-queue", "--retention"}
	for _, cmd := range [][]string{{"demo"}, {"fakeapi"}, {"healthcheck"}} {
		out, code := run(t, append(cmd, "--help")...)
		require.Equal(t, 0, code, out)
		for _, f := range redis {
			require.NotContains(t, out, f, "mmlite %s does not use Redis", cmd)
		}
	}
	out, _ = run(t, "healthcheck", "--help")
	require.NotContains(t, out, "--log-level", "healthcheck logs nothing")
	for _, cmd := range [][]string{{"worker"}, {"api"}, {"enqueue"}, {"campaign", "status"}, {"campaign", "pause"}} {
		out, code := run(t, append(cmd, "--help")...)
		require.Equal(t, 0, code, out)
		for _, f := range append(redis, "--log-level", "--log-format") {
			require.Contains(t, out, f, "mmlite %s", cmd)
		}
	}
	// The settings still go before the command, as they used to.
	mr := miniredis.RunT(t)
	out, code = run(t, "--redis-url", "redis://"+mr.Addr()+"/0", "--log-level", "warn", "campaign", "status", "nope")
	require.Equal(t, 1, code)
	require.Equal(t, "campaign nope not found", strings.TrimSpace(out))
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, code := run(t, "version")
	require.Equal(t, 0, code, out)
	require.True(t, strings.HasPrefix(out, "mmlite version "), out)
	require.Contains(t, out, "revision ")
	require.Equal(t, 1, strings.Count(out, "\n"), "one line: %q", out)
	again, code := run(t, "--version")
	require.Equal(t, 0, code, again)
	require.Equal(t, out, again)
}

func TestEnqueue_JSONLinesReadAsCSV(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)
	jsonl := "\n  " + `{"to": "441234567890"}` + "\n" + `{"to": "441234567891"}` + "\n"

	out, code := runIn(t, jsonl, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", "-", "--dry-run")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "the input looks like JSON Lines: use --format jsonl")
	out, code = run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", write(t, "list.csv", jsonl), "--dry-run")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "the input looks like JSON Lines: use --format jsonl")

	out, code = runIn(t, jsonl, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", "-", "--format", "jsonl", "--dry-run")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "2 accepted")
	out, code = runIn(t, "to\n441234567890\n", "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", "-", "--dry-run")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 accepted")
}

// A JSON array of recipients (the "recipients" of POST /v1/campaigns, saved
// as recipients.json) read as CSV was refused as a malformed CSV header ("a
// \" in a field that is not quoted"), which says nothing of what the file is.
func TestEnqueue_JSONArrayReadAsCSV(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)
	array := "[{\"to\": \"441234567890\"},\n {\"to\": \"441234567891\"}]\n"

	out, code := run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", write(t, "list.json", array), "--dry-run")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "the input looks like a JSON array: write one recipient object per line (JSON Lines) and use --format jsonl")
	out, code = runIn(t, "\ufeff  "+array, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", "-", "--dry-run")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "stdin: the input looks like a JSON array")
	require.Empty(t, mr.Keys(), "nothing registered")
}

func TestEnqueue_DryRunSaysSo(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)
	list := write(t, "list.csv", "to\n441234567890\n441234567890\n441234567891\n")

	out, code := run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--dry-run")
	require.Equal(t, 0, code, out)
	require.Equal(t, "dry run: nothing was enqueued; a real run would give:\ncampaign spring: 2 accepted, 1 duplicate, 0 rejected", strings.TrimSpace(out))
	out, code = run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--dry-run", "--output", "json")
	require.Equal(t, 0, code, out)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	require.Equal(t, true, sum["dry_run"], out)
	require.False(t, mr.Exists("asynq:{mmlite}:scheduled") || mr.Exists("asynq:{mmlite}:pending"), "nothing enqueued")

	out, code = run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--output", "json")
	require.Equal(t, 0, code, out)
	sum = nil
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	require.NotContains(t, sum, "dry_run", "a real run has no dry_run field")
	out, code = run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list)
	require.Equal(t, 0, code, out)
	require.Equal(t, "campaign spring: 0 accepted, 3 duplicates, 0 rejected", strings.TrimSpace(out))
}

func TestUnreachableRedis_NamesTheSetting(t *testing.T) {
	t.Parallel()
	addr := redistest.ClosedAddr(t)
	url := "redis://:hunter2@" + addr + "/0"
	camp := springFile(t)
	list := write(t, "list.csv", "to\n441234567890\n")
	want := "cannot reach Redis at redis://:xxxxx@" + addr + "/0 (MMLITE_REDIS_URL / --redis-url): "
	for _, args := range [][]string{
		{"--redis-url", url, "campaign", "status", "x"},
		{"campaign", "--redis-url", url, "pause", "x"},
		{"enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--no-progress"},
	} {
		out, code := run(t, args...)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, want, args)
		require.Contains(t, out, "connection refused", args)
		require.NotContains(t, out, "hunter2", "the password is never shown")
	}
	// A file that cannot be read is not Redis's fault.
	out, code := run(t, "enqueue", "--redis-url", url, "--campaign", "/does/not/exist.json", "--recipients", list)
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "Redis")
}

func TestSummaryLine_Plurals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sum  producer.Summary
		want string
	}{
		{producer.Summary{CampaignID: "c", Accepted: 1, Duplicates: 1, Rejected: 1}, "campaign c: 1 accepted, 1 duplicate, 1 rejected"},
		{producer.Summary{CampaignID: "c", Duplicates: 2}, "campaign c: 0 accepted, 2 duplicates, 0 rejected"},
		{producer.Summary{CampaignID: "c"}, "campaign c: 0 accepted, 0 duplicates, 0 rejected"},
	} {
		require.Equal(t, tc.want, summaryLine(&tc.sum))
	}
}

// The text summary left out the accepted recipients on the suppression
// list ("2 accepted": one of them never sent), which only --output json
// and the API's summary counted.
func TestSummaryLine_Suppressed(t *testing.T) {
	t.Parallel()
	sum := producer.Summary{CampaignID: "c", Accepted: 2, Suppressed: 1}
	require.Equal(t, "campaign c: 2 accepted (1 suppressed: not sent), 0 duplicates, 0 rejected", summaryLine(&sum))
}

// Issue 12: the progress bar of mmlite enqueue showed "(0/-, 0 rows/hr)".
func TestEnqueueProgressLine(t *testing.T) {
	t.Parallel()
	s := producer.Summary{Accepted: 11_998, Duplicates: 1, Rejected: 1}
	require.Equal(t, "12000 rows read, 3000 rows/s: 11998 accepted, 1 duplicate, 1 rejected", progressLine(s, 4*time.Second))
	require.Equal(t, "0 rows read: 0 accepted, 0 duplicates, 0 rejected", progressLine(producer.Summary{}, 0))
	require.Equal(t, "1 row read, 2 rows/s: 1 accepted, 0 duplicates, 0 rejected", progressLine(producer.Summary{Accepted: 1}, 500*time.Millisecond))
}

func TestVersionLine(t *testing.T) {
	t.Parallel()
	full := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	require.Equal(t, "v1.2.3, revision 0123456789abcdef0123456789abcdef01234567 (modified), committed 2026-01-02T03:04:05Z, go1.26.8",
		versionLine(full, "", ""))
	clean := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789ab"}, {Key: "vcs.modified", Value: "false"}}}
	require.Equal(t, "v1.2.3, revision 0123456789ab, go1.26.8", versionLine(clean, "", ""))
	// A checkout built with -buildvcs=false has no VCS settings.
	devel := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}}
	require.Equal(t, "(devel), revision unknown, go1.26.8", versionLine(devel, "", ""))
	// The image sets both by -ldflags (its build context has no .git).
	require.Equal(t, "v2.0.0, revision abcdef, go1.26.8", versionLine(devel, "v2.0.0", "abcdef"))
	require.Equal(t, "v2.0.0, revision 0123456789ab, go1.26.8", versionLine(clean, "v2.0.0", ""))
	require.Equal(t, "(devel), revision unknown", versionLine(nil, "", ""))
}

func TestHoistSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"mmlite --redis-url u campaign status x", "mmlite campaign --redis-url u status x"},
		{"mmlite --redis-url=u --log-level debug enqueue --dry-run", "mmlite enqueue --redis-url=u --log-level debug --dry-run"},
		{"mmlite -queue q worker", "mmlite worker -queue q"},
		{"mmlite enqueue --redis-url u", "mmlite enqueue --redis-url u"},
		{"mmlite --version", "mmlite --version"},
		{"mmlite --redis-url u", "mmlite --redis-url u"},
		{"mmlite --redis-url u --help", "mmlite --redis-url u --help"},
		{"mmlite --bogus x worker", "mmlite --bogus x worker"},
		{"mmlite", "mmlite"},
	} {
		require.Equal(t, strings.Fields(tc.want), hoistSettings(strings.Fields(tc.in)), tc.in)
	}
}

// A setting given as 0 is refused, naming it: the worker would take its
// default (MMLITE_COOLDOWN=0 held recipients 24 h, MMLITE_CONCURRENCY=0
// ran 100 sends, MMLITE_RESULTS_BATCH_WAIT=0 waited 200 ms,
// MMLITE_DEQUEUERS=0 ran one per 6 of the concurrency), the opposite of
// what 0 says (found in review).
func TestWorker_ZeroSettingsRefused(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	for _, flag := range [][]string{{"--cooldown", "0s"}, {"--concurrency", "0"}, {"--http-timeout", "0s"}, {"--pause-failure-ratio", "0"},
		{"--results-batch-wait", "0s"}, {"--relay-max-age", "0s"}, {"--outbound-concurrency", "0"}, {"--dequeuers", "0"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, code := runCtx(t, ctx, "", "worker", "--redis-url", "redis://"+mr.Addr()+"/0", "--api-key", "k", "--metrics-addr", "127.0.0.1:0", flag[0], flag[1])
		cancel()
		require.Equal(t, 1, code, "%s %s: %s", flag[0], flag[1], out)
		require.Contains(t, out, "(--"+flag[0][2:]+") is 0: it must be above 0", out)
	}
	out, code := run(t, "api", "--redis-url", "redis://"+mr.Addr()+"/0", "--api-token", "t", "--http-addr", "127.0.0.1:0", "--limit-window", "0s")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "MMLITE_LIMIT_WINDOW (--limit-window) is 0")

	// MMLITE_RETENTION=0 kept a finished campaign for the default 7 days
	// in every command but the worker (found in review).
	url := "redis://" + mr.Addr() + "/0"
	for _, args := range [][]string{
		{"api", "--api-token", "t", "--http-addr", "127.0.0.1:0"},
		{"enqueue", "--campaign", springFile(t), "--recipients", write(t, "r.csv", "to\n441234567890\n"), "--dry-run"},
		{"campaign", "status", "spring"},
		{"campaign", "pause", "spring"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, code := runCtx(t, ctx, "", append(args, "--redis-url", url, "--retention", "0s")...)
		cancel()
		require.Equal(t, 1, code, "%s: %s", args, out)
		require.Contains(t, out, "MMLITE_RETENTION (--retention) is 0: it must be above 0", "%s", args)
	}
}

// A listen address that cannot be bound (taken, or malformed) was
// reported as "cannot reach Redis at ... (MMLITE_REDIS_URL ...)" by the
// worker, and without its setting by the api: the error names the address
// setting, and Redis, which answered, is not blamed (found in review).
func TestListenError_NamesTheAddressNotRedis(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	redis := "redis://" + mr.Addr() + "/0"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"worker", "--api-key", "k", "--metrics-addr", ln.Addr().String()}, "MMLITE_METRICS_ADDR (--metrics-addr)"},
		{[]string{"worker", "--api-key", "k", "--metrics-addr", "bogus"}, "MMLITE_METRICS_ADDR (--metrics-addr)"},
		{[]string{"api", "--api-token", "t", "--http-addr", ln.Addr().String()}, "MMLITE_HTTP_ADDR (--http-addr)"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, code := runCtx(t, ctx, "", append(tc.args, "--redis-url", redis)...)
		cancel()
		require.Equal(t, 1, code, "%s: %s", tc.args, out)
		require.Contains(t, out, tc.want, tc.args)
		require.NotContains(t, out, "Redis", tc.args)
	}
}

// Arguments past those a command takes were dropped unsaid: `mmlite
// enqueue --recipients a.csv b.csv` (a shell's *.csv) enqueued a.csv,
// sealed the campaign and exited 0, and `mmlite campaign pause a b` paused
// a alone. Such a command line is refused before anything is done (found
// in review).
func TestExtraArguments_Refused(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	a, b := write(t, "a.csv", "to\n441234567891\n"), write(t, "b.csv", "to\n441234567892\n")
	out, code := run(t, "enqueue", "--redis-url", url, "--campaign", springFile(t), "--recipients", a, b, "--no-progress")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `enqueue: unexpected argument "`+b+`": it takes none`, out)
	out, code = run(t, "campaign", "status", "spring", "--redis-url", url)
	require.Equal(t, 1, code, "nothing was registered: %s", out)

	out, code = run(t, "enqueue", "--redis-url", url, "--campaign", springFile(t), "--recipients", a, "--open", "--no-progress")
	require.Equal(t, 0, code, out)
	out, code = run(t, "campaign", "pause", "spring", "other", "--redis-url", url)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `campaign pause: unexpected argument "other": it takes ID`, out)
	out, code = run(t, "campaign", "status", "spring", "--redis-url", url)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"state": "running"`, "not paused")

	for _, args := range [][]string{
		{"campaign", "recipient", "spring", "441234567891", "--redis-url", url},
		{"suppress", "add", "--redis-url", url, "--scope", "W1", "441234567891", "441234567892"},
	} {
		out, _ := run(t, args...)
		require.NotContains(t, out, "unexpected argument", "%s: it takes these", args)
	}
	out, code = run(t, "healthcheck", "http://127.0.0.1:1/a", "http://127.0.0.1:1/b")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `healthcheck: unexpected argument "http://127.0.0.1:1/b": it takes [URL]`)
}

// The worker refuses a shutdown timeout at or below the HTTP timeout plus
// the rate-limit wait; its help must not say that above the HTTP timeout is
// enough (17s with the defaults reads as allowed there and is refused).
func TestHelp_ShutdownTimeoutNamesMaxWait(t *testing.T) {
	t.Parallel()
	out, code := run(t, "worker", "--help")
	require.Equal(t, 0, code, out)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--shutdown-timeout") {
			require.Contains(t, l, "above --http-timeout plus --max-wait")
			return
		}
	}
	t.Fatal("no --shutdown-timeout in mmlite worker --help")
}

// MMLITE_TRUSTED_PROXIES tells the client of a wrong token on /v1 as well as
// at the console's login (docs/configuration.md); the help named the login
// only.
func TestHelp_TrustedProxiesNamesV1(t *testing.T) {
	t.Parallel()
	out, code := run(t, "api", "--help")
	require.Equal(t, 0, code, out)
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--trusted-proxies") {
			require.Contains(t, l, "/v1")
			return
		}
	}
	t.Fatal("no --trusted-proxies in mmlite api --help")
}
