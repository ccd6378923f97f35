package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

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

// enqueueFromPipe runs mmlite enqueue --recipients - on stdin from a pipe
// the test writes: a header and a row, then nothing until stop says how
// the input ends. The command's output and status come on the channel.
func enqueueFromPipe(t *testing.T, flag string, stop func(cancel context.CancelFunc, stdin *io.PipeWriter)) <-chan string {
	t.Helper()
	mr := miniredis.RunT(t)
	camp := springFile(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pr, pw := io.Pipe()
	t.Cleanup(func() { _ = pw.Close() })
	done := make(chan string, 1)
	go func() {
		out, code := runFrom(ctx, pr, "enqueue", "--redis-url", "redis://"+mr.Addr()+"/0", "--campaign", camp, "--recipients", "-", flag)
		done <- fmt.Sprintf("exit %d: %s", code, out)
	}()
	// Each write returns once the command has read it: the header is read
	// before the campaign is registered, the row by the enqueue, and the
	// blank line (which ends no row) once that row was taken.
	for _, part := range []string{"to\n", "441234567890\n", "\n"} {
		_, err := io.WriteString(pw, part)
		require.NoError(t, err)
	}
	stop(cancel, pw)
	return done
}

// On SIGTERM mmlite enqueue --recipients - kept waiting for stdin; and
// when the input then ended, the row it had read was never written, yet
// it said "0 accepted" and exited 0 (found in review).
func TestEnqueueCommand_StdinInterrupted(t *testing.T) {
	t.Parallel()
	stall := func(cancel context.CancelFunc, _ *io.PipeWriter) { cancel() }
	closeAfter := func(cancel context.CancelFunc, stdin *io.PipeWriter) {
		cancel()
		_ = stdin.Close()
	}
	for _, flag := range []string{"--open", "--dry-run"} {
		for _, tc := range []struct {
			name string
			done <-chan string
		}{{"stdin closed", enqueueFromPipe(t, flag, closeAfter)}, {"stdin stalled", enqueueFromPipe(t, flag, stall)}} {
			select {
			case out := <-tc.done:
				if !strings.HasPrefix(out, "exit 1: ") || !strings.Contains(out, "context canceled") {
					t.Errorf("%s %s: want exit 1 and the interruption, got %s", tc.name, flag, out)
				}
			case <-time.After(5 * time.Second):
				t.Errorf("%s %s: still waiting for stdin 5 s after the signal", tc.name, flag)
			}
		}
	}
}

// A recipients CSV that is empty or whose header is wrong registered its
// campaign all the same, before reading the header: the campaign stayed
// open (running, 0 recipients, never sealed), and the error named
// neither the file nor the campaign left behind (found in review).
func TestEnqueueCommand_BadHeaderRegistersNothing(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"empty.csv":   "",
		"unknown.csv": "phone,body.1\n441234567890,x\n",
		"quote.csv":   "to,\"body.1\n441234567890\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mr := miniredis.RunT(t)
			url := "redis://" + mr.Addr() + "/0"
			path := write(t, name, body)
			out, code := run(t, "--redis-url", url, "enqueue", "--campaign", springFile(t), "--recipients", path, "--no-progress")
			require.Equal(t, 1, code, out)
			require.Contains(t, out, path+": ")
			require.Contains(t, out, "line 1: ")
			require.NotContains(t, out, "accepted", "nothing was read, nothing to sum up")

			out, code = run(t, "--redis-url", url, "--log-level", "warn", "campaign", "status", "spring")
			require.Equal(t, 1, code, out)
			require.Equal(t, "campaign spring not found", strings.TrimSpace(out))
		})
	}
}

// An enqueue that fails after its campaign was registered (a file broken
// in the middle, Redis gone) leaves the campaign open with the rows it
// took; the error did not say so, nor how to go on (found in review).
// Running the same command on the mended file completes it, every row
// once.
func TestEnqueueCommand_FailedMidwaySaysTheCampaignStaysOpen(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--no-progress",
		"--recipients", write(t, "broken.csv", "to\n441234567890\n\"x\n441234567892\n"))
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "campaign spring stays open with the rows accepted: run the same command again once this is fixed")
	require.Contains(t, out, "mmlite campaign cancel spring")

	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--no-progress",
		"--recipients", write(t, "mended.csv", "to\n441234567890\n441234567891\n441234567892\n"))
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "campaign spring: 2 accepted, 1 duplicate, 0 rejected")

	// A dry run registers nothing: nothing stays open.
	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", write(t, "d.json", `{"id": "dry", "template": {"name": "t", "language": {"code": "en"}}}`),
		"--dry-run", "--recipients", write(t, "b.csv", "to\n\"x\n"))
	require.Equal(t, 1, code, out)
	require.NotContains(t, out, "stays open")
}

// A sealed campaign refuses new rows: the enqueue fails, and the campaign
// does not "stay open".
func TestEnqueueCommand_SealedCampaignIsNotSaidOpen(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--no-progress", "--recipients", write(t, "a.csv", "to\n441234567890\n"))
	require.Equal(t, 0, code, out)
	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--no-progress", "--recipients", write(t, "b.csv", "to\n441234567891\n"))
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "campaign is sealed")
	require.NotContains(t, out, "stays open")
}

// A file that breaks after its header (a quote that never closes, a CSV
// read as JSON Lines) stopped the enqueue with an error that named the
// line but not the file (`read recipients: line 3: a quote opened here
// never closes`), where a bad header names it (`recipients.csv: line 1:
// ...`): the error names the file, the line and what is wrong, in a dry run
// too.
func TestEnqueueCommand_BrokenFileIsNamed(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"quote.csv":   "to,body.1\n441234567890,a\n441234567891,\"b\n441234567892,c\n",
		"csv.jsonl":   "to,body.1\n441234567890,a\n",
		"wide.csv":    "to\n441234567890\n\"441234567891\n\",x\n",
		"after.jsonl": "{\"to\": \"441234567890\"}\n" + `{"to": "441234567891", "to": "x"}` + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mr := miniredis.RunT(t)
			url := "redis://" + mr.Addr() + "/0"
			path := write(t, name, body)
			for _, dry := range []bool{false, true} {
				args := []string{"--redis-url", url, "enqueue", "--campaign", springFile(t), "--recipients", path, "--no-progress"}
				if dry {
					args = append(args, "--dry-run")
				}
				out, code := run(t, args...)
				if name == "after.jsonl" { // a rejected row, not a broken file: named by its line in the summary
					require.Equal(t, 3, code, out)
					require.Contains(t, out, "line 2: ")
					continue
				}
				require.Equal(t, 1, code, out)
				require.Regexp(t, "(?m)^"+regexp.QuoteMeta(path)+": line ", out, "dry run %v", dry)
				require.NotContains(t, out, "read recipients", "dry run %v", dry)
			}
		})
	}
}
