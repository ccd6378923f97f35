package main

import (
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"
)

// A relay destination or a callback URL in clear text is refused at start,
// naming the setting; so is a results queue turned off without callbacks.
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
