package main

import (
	"strings"
	"testing"

	"github.com/mmlite/mmlite/internal/redistest"
	"github.com/stretchr/testify/require"
)

// A command given a Sentinel URL whose Sentinels are all unreachable took
// about 38 s to fail (go-redis retried the command, each retry redialled,
// each dial asked every Sentinel with retries of its own), where a
// redis:// URL fails in about 2 s; and its error was spread over lines.
// It fails as soon as no Sentinel answers, naming them, never the
// passwords: the error of redisconn.Reach, which dials each once
// (TestReach_DialsEachSentinelOnce counts them; a bound in seconds would
// say nothing on a busy machine).
func TestUnreachableSentinels_FailSoonNamingThem(t *testing.T) {
	t.Parallel()
	a, b := redistest.ClosedAddr(t), redistest.ClosedAddr(t)
	url := "redis-sentinel://:hunter2@" + a + "," + b + "/0?master=mymaster&sentinel_password=swordfish"
	camp := springFile(t)
	list := write(t, "list.csv", "to\n441234567890\n")
	for _, args := range [][]string{
		{"--redis-url", url, "campaign", "list"},
		{"--redis-url", url, "campaign", "status", "x"},
		{"enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--no-progress"},
	} {
		out, code := run(t, args...)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "cannot reach Redis at redis-sentinel://:xxxxx@"+a+","+b+"/0?master=mymaster&sentinel_password=xxxxx (MMLITE_REDIS_URL / --redis-url): ", args)
		require.Contains(t, out, "no Sentinel answers at "+a+", "+b+` (master "mymaster")`, args)
		require.Contains(t, out, "connection refused", args)
		require.NotContains(t, out, "hunter2", "the password is never shown")
		require.NotContains(t, out, "swordfish", "nor Sentinel's")
		require.NotContains(t, strings.TrimSpace(out), "\n", "one line: %s", out)
	}

	// A dry run needs no Redis: it asks no Sentinel either.
	out, code := run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--no-progress", "--dry-run")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 accepted")
}

// Through a Sentinel that answers, beside one that does not, the commands
// work as before: one Sentinel answering is enough. Needs redis-server
// (skipped without it).
func TestSentinel_OneAnsweringIsEnough(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	url := strings.Replace(s.URL, "redis-sentinel://", "redis-sentinel://"+redistest.ClosedAddr(t)+",", 1)
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", springFile(t), "--no-progress",
		"--recipients", write(t, "list.csv", "to\n441234567890\n"))
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "1 accepted")
	out, code = run(t, "--redis-url", url, "campaign", "list")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "spring")
}
