package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"
)

// A JSON Lines file whose first line is no JSON object (a CSV named .jsonl,
// a JSON array, an empty file) registered its campaign all the same, before
// reading a line: the campaign was left behind, empty, and each line of the
// file came back as a rejected row in encoding/json's words (found in
// review). Its first line is read and checked before the campaign is
// registered, as a CSV's header is: the file is refused, naming it and the
// line, and nothing is registered.
func TestEnqueueCommand_JSONLinesFirstLineNotAnObjectRegistersNothing(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ body, want string }{
		"csv.jsonl":    {"phone,name\n+15550001,Ann\n", "line 1: not a JSON object: the input looks like CSV: use --format csv"},
		"quoted.jsonl": {"\"+15550001\",Ann\n", "line 1: not a JSON object: the input looks like CSV: use --format csv"},
		"header.jsonl": {"to,body.1\n441234567890,a\n", "line 1: this is a CSV header, not JSON Lines: use --format csv"},
		"array.jsonl":  {"[{\"to\": \"441234567890\"},\n {\"to\": \"441234567891\"}]\n", "line 1: an array, not a JSON object: the input looks like a JSON array: write one recipient object per line"},
		"number.jsonl": {"\n\n441234567890\n", `line 3: a number, not a JSON object {"to": ...}`},
		"empty.jsonl":  {"\n \n", `line 1: the file is empty: want one JSON object {"to": ...} per line`},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mr := miniredis.RunT(t)
			url := "redis://" + mr.Addr() + "/0"
			path := write(t, name, tc.body)
			for _, dry := range []bool{true, false} {
				args := []string{"--redis-url", url, "enqueue", "--campaign", springFile(t), "--recipients", path, "--no-progress"}
				if dry {
					args = append(args, "--dry-run")
				}
				out, code := run(t, args...)
				require.Equal(t, 1, code, out)
				require.Regexp(t, "(?m)^"+regexp.QuoteMeta(path+": "+tc.want), out, "dry run %v", dry)
				require.NotContains(t, out, "accepted", "nothing was read, nothing to sum up")
				require.NotContains(t, out, "stays open")
			}
			require.Empty(t, mr.Keys(), "nothing registered")
		})
	}
}

// Only the first line decides what the file is: a first line that is an
// object, even a broken one, is a row, and a bad line after it a rejected
// row, as before; the campaign is registered and the good rows enqueued.
func TestEnqueueCommand_JSONLinesBadRowsStayRejectedRows(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	body := "{\"to\": \"441234567890\"\n{\"to\": \"441234567891\"}\nphone,name\n[1]\n"
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", springFile(t), "--no-progress",
		"--recipients", write(t, "rows.jsonl", body))
	require.Equal(t, 3, code, out)
	require.Contains(t, out, "1 accepted, 0 duplicates, 3 rejected")
	require.Contains(t, out, "line 1: invalid JSON")
	require.Contains(t, out, "line 3: invalid JSON")
	require.Contains(t, out, "line 4: want a JSON object")
}

// Interrupted before a JSON Lines stdin has sent its first line, mmlite
// enqueue registers nothing, as for a CSV's header (docs/campaigns.md).
func TestEnqueueCommand_JSONLinesStdinInterruptedBeforeInput(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	done := make(chan string, 1)
	go func() {
		out, code := runFrom(ctx, pr, "enqueue", "--redis-url", "redis://"+mr.Addr()+"/0", "--campaign", springFile(t),
			"--recipients", "-", "--format", "jsonl", "--no-progress")
		done <- fmt.Sprintf("exit %d: %s", code, out)
	}()
	_, err := io.WriteString(pw, "\n  ") // blank: no line yet
	require.NoError(t, err)
	require.Never(t, func() bool { return len(mr.Keys()) > 0 }, 500*time.Millisecond, 10*time.Millisecond,
		"registered before the first line came")
	cancel()
	select {
	case out := <-done:
		require.True(t, strings.HasPrefix(out, "exit 1: "), out)
		require.Contains(t, out, "interrupted: ")
		require.NotContains(t, out, "accepted")
	case <-time.After(10 * time.Second):
		t.Fatal("still waiting for stdin 10 s after the signal")
	}
	require.Empty(t, mr.Keys(), "nothing registered")
}
