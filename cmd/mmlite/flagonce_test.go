package main

import (
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"
)

// A flag of one value given twice kept the last silently in every command
// but campaign follow-up (mmlite campaign list --limit 1 --limit 2 listed
// two; mmlite enqueue --campaign a.json --campaign b.json enqueued b;
// found in review): every command refuses it, naming the flag, before it
// does anything. A flag of many values (--status, --code) adds up, and a
// switch given twice is still on.
func TestCommands_OneValueFlagGivenTwice(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp, list := springFile(t), write(t, "list.csv", "to\n441234567890\n")
	for flag, args := range map[string][]string{
		"--limit":     {"campaign", "list", "--redis-url", url, "--limit", "1", "--limit", "2"},
		"--campaign":  {"enqueue", "--redis-url", url, "--campaign", camp, "--campaign", camp, "--recipients", list},
		"--redis-url": {"campaign", "list", "--redis-url", url, "--redis-url", url},
		"--as":        {"campaign", "follow-up", "spring", "--redis-url", url, "--status", "failed", "--as", "a", "--as", "b"},
	} {
		out, code := run(t, args...)
		require.Equal(t, 1, code, "%s: %s", flag, out)
		require.Contains(t, out, flag+" is given 2 times: give it once", flag)
		require.NotContains(t, out, "accepted", "nothing done")
	}
	require.Empty(t, mr.Keys(), "nothing registered")
	out, code := run(t, "enqueue", "--redis-url", url, "--campaign", camp, "--recipients", list, "--dry-run", "--dry-run", "--no-progress")
	require.Equal(t, 0, code, "a switch given twice is on: %s", out)
	require.True(t, strings.Contains(out, "1 accepted"), out)
}
