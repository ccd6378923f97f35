package authlimit

import (
	"maps"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/mmlite/mmlite/internal/clientip"
	"github.com/stretchr/testify/require"
)

// The limiter forgets idle clients and remembers at most its bound;
// attempts in flight cannot spend more than a client has.
func TestLimiter(t *testing.T) {
	t.Parallel()
	l := New(3)
	now := time.Unix(1_700_000_000, 0)
	var dones []func(bool, time.Time)
	for range Burst { // all in flight at once
		done, wait := l.Begin("a", now)
		require.Zero(t, wait)
		dones = append(dones, done)
	}
	_, wait := l.Begin("a", now)
	require.Equal(t, Every, wait, "the burst is held by the attempts in flight")
	dones[0](false, now) // a login that succeeded gives its token back
	done, wait := l.Begin("a", now)
	require.Zero(t, wait)
	dones = append(dones[1:], done)
	for _, done := range dones {
		done(true, now)
	}
	_, wait = l.Begin("a", now)
	require.Equal(t, Every, wait)
	done, wait = l.Begin("a", now.Add(Every))
	require.Zero(t, wait, "one more after Every")
	done(true, now.Add(Every))

	for i, c := range []string{"b", "c", "d", "e"} {
		done, _ := l.Begin(c, now.Add(Every+time.Duration(i+1)*time.Second))
		done(true, now)
		require.LessOrEqual(t, len(l.clients), 3)
	}
	require.Equal(t, []string{"c", "d", "e"}, slices.Sorted(maps.Keys(l.clients)), "the clients that tried longest ago go first")
	l.Begin("f", now.Add(Every+Idle+time.Minute))
	require.Equal(t, []string{"f"}, slices.Collect(maps.Keys(l.clients)), "idle clients are forgotten")
}

// A client is the connection's address, never a header; an IPv6 one is
// its /64.
func TestClientOf(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]string{
		"192.0.2.7:4000":                 "192.0.2.7",
		"[::ffff:192.0.2.7]:4000":        "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:4000":    "2001:db8:1:2::/64",
		"[2001:db8:1:2:ffff::1%eth0]:40": "2001:db8:1:2::/64",
		"@":                              "@",
	} {
		r := httptest.NewRequest("POST", "/ui/login", nil)
		r.RemoteAddr = addr
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		require.Equal(t, want, ClientOf(r, clientip.Proxies{}), addr)
	}
}

// Check, for a token compared already: a wrong one spends, a right one
// spends nothing and is not remembered; a client out of allowance waits,
// whatever its token.
func TestCheck(t *testing.T) {
	t.Parallel()
	l := New(10)
	now := time.Unix(1_700_000_000, 0)
	require.Zero(t, l.Check("a", now, false))
	require.Empty(t, l.clients, "a right token leaves nothing behind")
	for i := range Burst {
		require.Zero(t, l.Check("a", now, true), "wrong %d: answered", i)
	}
	require.Equal(t, Every, l.Check("a", now, true))
	require.Equal(t, Every, l.Check("a", now, false), "the right token too")
	require.Zero(t, l.Check("b", now, false), "another client")
	require.Zero(t, l.Check("a", now.Add(Every), false), "one more after Every")
}
