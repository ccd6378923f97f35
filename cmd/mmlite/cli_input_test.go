package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/internal/httpapi"
	"github.com/stretchr/testify/require"
)

// A Redis URL that does not parse was printed whole, password and all, in
// url.Parse's error.
func TestBadRedisURL_PasswordNotShown(t *testing.T) {
	t.Parallel()
	out, code := run(t, "campaign", "status", "x", "--redis-url", "redis://u:s3cre%zz@127.0.0.1:6379/0")
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "s3cre")
	require.Contains(t, out, "MMLITE_REDIS_URL is not a valid URL (the password is not shown): redis://xxxxx@127.0.0.1:6379/0")
}

// The campaign file was read whole, whatever its size: --campaign
// /dev/zero ran mmlite out of memory. It is bounded as the api bounds a
// campaign.
func TestEnqueue_CampaignFileTooLarge(t *testing.T) {
	t.Parallel()
	camp := write(t, "c.json", `{"id": "spring", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`+strings.Repeat(" ", httpapi.DefaultMaxValue))
	list := write(t, "list.csv", "to\n441234567890\n")
	out, code := run(t, "enqueue", "--campaign", camp, "--recipients", list, "--dry-run")
	require.Equal(t, 1, code, out)
	require.Equal(t, fmt.Sprintf("%s: larger than %d bytes", camp, httpapi.DefaultMaxValue), strings.TrimSpace(out))
}

// An empty senders or destinations file was reported as "cannot reach
// Redis at ...: ... invalid YAML: EOF": its loader says that the file is
// empty, naming it, with no io.EOF that redisconn.Unavailable would take
// for Redis's.
func TestEmptyConfigFile_NamesTheFile(t *testing.T) {
	t.Parallel()
	camp := springFile(t)
	list := write(t, "list.csv", "to\n441234567890\n")
	empty := write(t, "empty.yaml", "# to come\n")
	out, code := run(t, "enqueue", "--campaign", camp, "--recipients", list, "--senders-file", empty, "--dry-run")
	require.Equal(t, 1, code, out)
	require.Equal(t, empty+`: the file is empty: want a top-level "senders:" list`, strings.TrimSpace(out))

	out, code = run(t, "worker", "--api-key", "k", "--webhook-destinations", empty, "--metrics-addr", "127.0.0.1:0")
	require.Equal(t, 1, code, out)
	require.Equal(t, empty+`: the file is empty: want a top-level "destinations:" list`, strings.TrimSpace(out))
}

// A mistyped command printed "No help topic for ..." and exited 3, the
// status by which mmlite enqueue says that some rows were rejected.
func TestUnknownCommand_Exit1(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"enqeue"}, `unknown command "enqeue" (mmlite --help lists the commands)`},
		{[]string{"enqeue", "--campaign", "c.json"}, `unknown command "enqeue" (mmlite --help lists the commands)`},
		{[]string{"--help", "enqeue"}, `unknown command "enqeue" (mmlite --help lists the commands)`},
		{[]string{"campaign", "stauts", "x"}, `campaign: unknown command "stauts" (mmlite campaign --help lists the commands)`},
		{[]string{"outbound", "replya"}, `outbound: unknown command "replya" (mmlite outbound --help lists the commands)`},
		{[]string{"campaign", "stauts", "--watch", "x"}, `campaign: unknown command "stauts" (mmlite campaign --help lists the commands)`},
	} {
		out, code := run(t, tc.args...)
		require.Equal(t, 1, code, "%v: %s", tc.args, out)
		require.Equal(t, tc.want, strings.TrimSpace(out), tc.args)
	}
	// Without a command, the help, as before.
	for _, args := range [][]string{{}, {"campaign"}, {"--help"}, {"--help", "enqueue"}} {
		out, code := run(t, args...)
		require.Equal(t, 0, code, "%v: %s", args, out)
		require.Contains(t, out, "USAGE:", args)
	}
}

// MMLITE_RATE=0 silently meant 80 messages/s: the flag's default is 80, so
// a 0 was set on purpose, and is refused as the senders file refuses it.
func TestRateZero_Refused(t *testing.T) {
	camp := springFile(t)
	list := write(t, "list.csv", "to\n441234567890\n")
	want := "MMLITE_RATE (--rate) must be > 0 and <= 100000 messages per second, got 0 (unset, it is 80)"
	out, code := run(t, "enqueue", "--campaign", camp, "--recipients", list, "--dry-run", "--rate", "0")
	require.Equal(t, 1, code, out)
	require.Equal(t, want, strings.TrimSpace(out))
	out, code = run(t, "worker", "--api-key", "k", "--rate", "0", "--metrics-addr", "127.0.0.1:0")
	require.Equal(t, 1, code, out)
	require.Equal(t, want, strings.TrimSpace(out))

	t.Setenv("MMLITE_RATE", "0")
	out, code = run(t, "enqueue", "--campaign", camp, "--recipients", list, "--dry-run")
	require.Equal(t, 1, code, out)
	require.Equal(t, want, strings.TrimSpace(out))
	// With a senders file MMLITE_RATE is not read.
	file := write(t, "senders.yaml", "senders:\n  - id: default\n    rate: 20\n")
	out, code = run(t, "enqueue", "--campaign", camp, "--recipients", list, "--dry-run", "--senders-file", file)
	require.Equal(t, 0, code, out)
}

// mmlite enqueue --output JSON printed text, where campaign list refuses
// it.
func TestEnqueue_OutputChecked(t *testing.T) {
	t.Parallel()
	camp := springFile(t)
	list := write(t, "list.csv", "to\n441234567890\n")
	for _, args := range [][]string{
		{"enqueue", "--campaign", camp, "--recipients", list, "--dry-run", "--output", "JSON"},
		{"campaign", "list", "--output", "JSON"},
	} {
		out, code := run(t, args...)
		require.Equal(t, 1, code, out)
		require.Equal(t, `--output "JSON" must be text or json`, strings.TrimSpace(out))
	}
}

// mmlite enqueue --dry-run accepted campaigns a real run refuses: its
// summary is "what a real run would give".
func TestEnqueue_DryRunChecksAsARealRun(t *testing.T) {
	t.Parallel()
	list := write(t, "list.csv", "to\n441234567890\n")
	cb := write(t, "cb.json", `{"id": "cb", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}, "callback_url": "https://crm.example.com/mmlite"}`)
	out, code := run(t, "enqueue", "--campaign", cb, "--recipients", list, "--dry-run")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "callback_url: callbacks are off: set MMLITE_RESULTS_URL")

	eu := write(t, "eu.json", `{"id": "eu", "sender": "eu", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`)
	senders := write(t, "senders.yaml", "senders:\n  - id: default\n    rate: 20\n")
	out, code = run(t, "enqueue", "--campaign", eu, "--recipients", list, "--dry-run", "--senders-file", senders)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `sender "eu" is not configured`)
	require.NotContains(t, out, "Redis")
}

// A setting refused at start was printed with the word of the Go package
// that checked it ("redisconn: unsupported scheme ...", "guard:
// MMLITE_COOLDOWN ...", "worker: MMLITE_PAUSE_FAILURE_RATIO ...", "sender:
// MMLITE_API_KEY is empty ...", "httpapi: MMLITE_API_TOKEN is empty ...",
// "--errors: fakeapi: error rule 1 ..."), which names nothing an operator
// sets. The setting, or the file and line, says where.
func TestSettingsErrors_ReadAsSentences(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	w := []string{"worker", "--redis-url", url, "--api-key", "k", "--metrics-addr", "127.0.0.1:0"}
	a := []string{"api", "--redis-url", url, "--api-token", "t", "--http-addr", "127.0.0.1:0"}
	senders := write(t, "s.yaml", "senders:\n  - id: a\n    rate: 0\n")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"campaign", "status", "x", "--redis-url", "http://x"}, `unsupported scheme "http" in MMLITE_REDIS_URL: want redis, rediss, redis-sentinel or redis-cluster`},
		{[]string{"campaign", "status", "x", "--redis-url", "redis://h:1/x"}, `MMLITE_REDIS_URL: the database must be a number >= 0, got "x"`},
		{append(w, "--cooldown", "-1s"), "MMLITE_COOLDOWN must be > 0, got -1s"},
		{append(w, "--pause-failure-ratio", "2"), "MMLITE_PAUSE_FAILURE_RATIO must be at most 1 (negative turns it off), got 2"},
		{[]string{"worker", "--redis-url", url, "--metrics-addr", "127.0.0.1:0"}, "MMLITE_API_KEY is empty (set it, or declare senders in MMLITE_SENDERS_FILE)"},
		{append(w, "--senders-file", senders), senders + ": line 2: senders[0] (a): rate must be > 0 and <= 100000 messages per second, got 0"},
		{append(w, "--webhook-forward", "https://example.com/x", "--webhook-destinations", senders), "set MMLITE_WEBHOOK_FORWARD or MMLITE_WEBHOOK_DESTINATIONS, not both"},
		{[]string{"api", "--redis-url", url, "--http-addr", "127.0.0.1:0"}, "MMLITE_API_TOKEN is empty: set it, or pass --insecure-no-auth to serve /v1 without authentication"},
		{append(a, "--results-queue", "mmlite"), `MMLITE_RESULTS_QUEUE must differ from the send queue "mmlite"`},
		{[]string{"fakeapi", "--addr", "127.0.0.1:0", "--errors", "bogus"}, `--errors: error rule 1 ("bogus"): want CODE:SHARE or -:SHARE:ACTION`},
		{[]string{"fakeapi", "--addr", "127.0.0.1:0", "--latency", "-1s"}, "latency must not be negative, got -1s"},
		{[]string{"demo", "--recipients", "-1"}, "recipients must be positive, got -1"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, code := runCtx(t, ctx, "", tc.args...)
		cancel()
		require.Equal(t, 1, code, "%v: %s", tc.args, out)
		require.Equal(t, tc.want, strings.TrimSpace(out), "%v", tc.args)
	}
}
