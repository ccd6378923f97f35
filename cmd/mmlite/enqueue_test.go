package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
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
