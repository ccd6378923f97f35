package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A follow-up's flag of one value given twice is refused, naming it, and
// nothing is made: --as spring-2 --as spring-3 made spring-3, the first
// --as silently dropped (so --template, --send-at and --expires-at).
func TestFollowUpCommand_OneValueFlagGivenTwice(t *testing.T) {
	t.Parallel()
	_, url := enqueueSpring(t, "to,body.1,meta.n\n441234567890,Ana,Ana\n")
	settleAll(t, url, "spring", map[string]string{"441234567890": "Ana"})
	base := []string{"--redis-url", url, "campaign", "follow-up", "spring", "--status", "failed"}
	for flag, args := range map[string][]string{
		"--as":         {"--as", "spring-2", "--as", "spring-3"},
		"--template":   {"--as", "spring-2", "--template", "a:en", "--template=b:en"},
		"--send-at":    {"--as", "spring-2", "--send-at", "2099-01-01T00:00:00Z", "--send-at", "2099-01-02T00:00:00Z"},
		"--expires-at": {"--as", "spring-2", "--expires-at", "2099-01-01T00:00:00Z", "--expires-at", "2099-01-02T00:00:00Z"},
	} {
		out, code := run(t, append(append([]string{}, base...), args...)...)
		require.Equal(t, 1, code, "%s: %s", flag, out)
		require.True(t, strings.HasPrefix(strings.TrimSpace(out), "campaign follow-up: "+flag+" is given 2 times: give it once ("), "%s: %s", flag, out)
	}
	out, code := run(t, "--redis-url", url, "campaign", "status", "spring")
	require.Equal(t, 0, code, "the source is there: %s", out)
	out, code = run(t, "--redis-url", url, "campaign", "status", "spring-3")
	require.NotEqual(t, 0, code, "nothing made: %s", out)
	out, code = run(t, "--redis-url", url, "campaign", "status", "spring-2")
	require.NotEqual(t, 0, code, "nothing made: %s", out)
}
