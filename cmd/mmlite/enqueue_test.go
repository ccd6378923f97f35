package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
)

// Issue 10, item 1: `printf 'to\n"x' | mmlite enqueue --dry-run` died with a
// stack trace and exit status 2.
func TestEnqueueCommand_UnclosedQuote(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)

	var out string
	var code int
	crash := write(t, "crash.csv", "to\n\"x")
	require.NotPanics(t, func() {
		out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", crash, "--dry-run")
	})
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "line 2: a quote opened here never closes")

	// The rows before the quote are kept, and the summary says so.
	kept := write(t, "kept.csv", "to\n441234567890\n441234567891\n\"x\n441234567892\n")
	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", kept, "--output", "json")
	require.Equal(t, 1, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum producer.Summary
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &sum), out)
	require.EqualValues(t, 2, sum.Accepted)
	require.Contains(t, out, "line 4: a quote opened here never closes")
}
