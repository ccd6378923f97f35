package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/mmlite/mmlite/producer"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v3"
)

// run runs mmlite in-process and returns its stdout and exit status.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runIn(t, "", args...)
}

// runIn is run with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, int) {
	t.Helper()
	return runCtx(t, context.Background(), stdin, args...)
}

// runCtx is runIn until ctx ends (a command that should have refused to
// start then stops, and says 0, rather than hang the test).
func runCtx(t *testing.T, ctx context.Context, stdin string, args ...string) (string, int) {
	t.Helper()
	return runFrom(ctx, strings.NewReader(stdin), args...)
}

// runFrom is runCtx with stdin read from r. It may run on a goroutine of
// the test's.
func runFrom(ctx context.Context, stdin io.Reader, args ...string) (string, int) {
	var out bytes.Buffer
	a := app()
	a.Writer, a.ErrWriter, a.Reader = &out, &out, stdin
	err := execute(ctx, a, append([]string{"mmlite"}, args...))
	var ec cli.ExitCoder
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ec):
		return out.String() + ec.Error(), ec.ExitCode()
	}
	return out.String() + err.Error(), 1
}

func write(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// springFile writes the campaign most tests enqueue: "spring", on the
// default sender.
func springFile(t *testing.T) string {
	t.Helper()
	return write(t, "c.json", `{"id": "spring", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`)
}

// enqueueSpring enqueues the spring campaign to the rows of a recipients
// CSV, on an embedded Redis, and returns it with its URL.
func enqueueSpring(t *testing.T, rows string) (*miniredis.Miniredis, string) {
	t.Helper()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	out, code := run(t, "--redis-url", url, "enqueue", "--campaign", springFile(t), "--recipients", write(t, "r.csv", rows))
	require.Equal(t, 0, code, out)
	return mr, url
}

func TestEnqueueCommand(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := springFile(t)
	good := write(t, "good.csv", "to,body.1\n441234567890,Ana\n")
	mixed := write(t, "mixed.jsonl", `{"to": "441234567891"}`+"\n"+`{"to": "12"}`+"\n")

	out, code := run(t, "--redis-url", url, "enqueue", "--open", "--campaign", camp, "--recipients", good, "--output", "json")
	require.Equal(t, 0, code, out)
	var sum producer.Summary
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &sum))
	require.EqualValues(t, 1, sum.Accepted)

	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", mixed)
	require.Equal(t, 3, code, "some rows rejected: %s", out)
	require.Contains(t, out, "1 accepted, 0 duplicates, 1 rejected")
	require.Contains(t, out, "line 2: to:")

	// The end of that input sealed the campaign: a new recipient is refused,
	// a duplicate is harmless.
	more := write(t, "more.csv", "to\n441234567892\n")
	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", more)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "0 accepted, 0 duplicates, 1 rejected")
	require.Contains(t, out, "line 2: campaign is sealed")
	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", good)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "0 accepted, 1 duplicate, 0 rejected")

	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", good, "--dry-run", "--output", "json")
	require.Equal(t, 0, code, out)

	bad := write(t, "bad.json", "{\n  \"id\": \"x\",\n  \"colour\": 1\n}")
	out, code = run(t, "--redis-url", url, "enqueue", "--campaign", bad, "--recipients", good)
	require.Equal(t, 1, code)
	require.Contains(t, out, `line 3, column 3: unknown field "colour"`)

	_, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", "/does/not/exist.csv")
	require.Equal(t, 1, code)
	_, code = run(t, "--redis-url", url, "enqueue", "--campaign", camp, "--recipients", good, "--format", "xml")
	require.Equal(t, 1, code)

	out, code = run(t, "--redis-url", url, "campaign", "status", "spring")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, `"enqueued": 2`)
	require.Contains(t, out, `"sealed": true`)
	_, code = run(t, "--redis-url", url, "campaign", "status", "nope")
	require.Equal(t, 1, code)
}

func TestBadSettings(t *testing.T) {
	t.Parallel()
	out, code := run(t, "--redis-url", "http://x", "campaign", "status", "x")
	require.Equal(t, 1, code)
	require.Contains(t, out, "unsupported scheme")
	out, code = run(t, "--log-level", "loud", "worker", "--api-key", "k")
	require.Equal(t, 1, code)
	require.Contains(t, out, "MMLITE_LOG_LEVEL")
	out, code = run(t, "api", "--http-addr", "127.0.0.1:0")
	require.Equal(t, 1, code)
	require.Contains(t, out, "MMLITE_API_TOKEN is empty")
	out, code = run(t, "api", "--http-addr", "127.0.0.1:0", "--api-token", "t", "--max-intake", "0")
	require.Equal(t, 1, code)
	require.Contains(t, out, "MMLITE_MAX_INTAKE (--max-intake) is 0: it must be at least 1")
	out, code = run(t, "api", "--http-addr", "127.0.0.1:0", "--api-token", "t", "--max-body", "-5")
	require.Equal(t, 1, code)
	require.Contains(t, out, "MMLITE_MAX_BODY (--max-body) is -5: it must be at least 1")
}

func TestDemo(t *testing.T) {
	t.Parallel()
	out, code := run(t, "demo", "--recipients", "40", "--rate", "200")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "is completed: 40 recipients, 40 results")
	require.Contains(t, out, "recipients sent more than once: 0")
}

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	_, code := run(t, "healthcheck", ok.URL)
	require.Equal(t, 0, code)
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	_, code = run(t, "healthcheck", bad.URL)
	require.Equal(t, 1, code)
	_, code = run(t, "healthcheck", "http://127.0.0.1:1/healthz")
	require.Equal(t, 1, code)
}

// healthcheck --timeout 0 (or negative) failed every probe with "context
// deadline exceeded", a healthy api looking dead: it is refused, naming
// the flag (found in review).
func TestHealthcheck_TimeoutMustBePositive(t *testing.T) {
	t.Parallel()
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer ok.Close()
	for _, d := range []string{"0s", "-1s"} {
		out, code := run(t, "healthcheck", "--timeout", d, ok.URL)
		require.Equal(t, 1, code, out)
		require.Contains(t, out, "--timeout "+d+": it must be above 0")
	}
}

// mmlite enqueue run before any worker published its senders paces by its
// own sender configuration (MMLITE_RATE), not by the built-in 80/s.
func TestEnqueueCommand_PacesByItsOwnRateBeforeWorkersPublish(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	url := "redis://" + mr.Addr() + "/0"
	camp := write(t, "c.json", `{"id": "paced", "template": {"name": "spring_sale", "language": {"code": "pt_BR"}}}`)
	var csv strings.Builder
	csv.WriteString("to\n")
	for i := range 400 {
		fmt.Fprintf(&csv, "4477009%05d\n", i)
	}
	list := write(t, "list.csv", csv.String())
	start := time.Now()
	out, code := run(t, "--redis-url", url, "enqueue", "--rate", "200", "--campaign", camp, "--recipients", list, "--no-progress")
	require.Equal(t, 0, code, out)
	last, err := mr.ZMembers("asynq:{mmlite}:scheduled")
	require.NoError(t, err)
	var latest float64
	for _, m := range last {
		s, err := mr.ZScore("asynq:{mmlite}:scheduled", m)
		require.NoError(t, err)
		latest = max(latest, s)
	}
	// 400 at 200/s take 2 s; at 80/s they would take 5 s.
	require.Less(t, latest-float64(start.Unix()), 3.5, "paced at 200/s")
}
